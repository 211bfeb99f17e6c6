"""CoinbaseBroker and CoinbaseMarketData wire details through the real SDK, answered by `responses`.

What every broker promises (idempotent resubmission, fills, cancels, paging) is in
``tests/contract``; this file keeps Coinbase's own: signed bodies, rejections, outages, brackets.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ffe_adapters.brokers.coinbase.config import CoinbaseOptions
from ffe_adapters.brokers.coinbase.data import CoinbaseMarketData
from ffe_adapters.brokers.coinbase.execution import CoinbaseBroker
from ffe_adapters.brokers.coinbase.factories import make_client
from ffe_adapters.brokers.coinbase.plugin import ffe_brokers, ffe_market_data_sources
from ffe_adapters.hookspecs import AdapterContext
from ffe_core.config import CoreView, Settings
from ffe_core.domain.errors import (
    AuthenticationFailed,
    BrokerUnavailable,
    ConfigError,
    InsufficientFunds,
    InvalidOrder,
    MarketClosed,
    RateLimited,
)
from ffe_core.domain.orders import Order, OrderStatus, Side
from ffe_core.ports.brokers import Broker
from ffe_core.ports.clock import ManualClock

HERE = Path(__file__).parent / "responses"
HOST = "api.fake-coinbase.test"
BASE = f"https://{HOST}/api/v3/brokerage"
ORDERS = f"{BASE}/orders"
LIST = f"{BASE}/orders/historical/batch"
COID = "ffe-test-0001"


def body(name: str) -> dict[str, Any]:
    return json.loads((HERE / f"{name}.json").read_text())


def ec_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def options() -> CoinbaseOptions:
    return CoinbaseOptions.model_validate(
        {
            "api_key": "organizations/org-1/apiKeys/key-1",
            "api_secret": ec_pem(),
            "host": HOST,
            "timeout_seconds": 2,
            "retries": 2,
            "retry_backoff_seconds": 0,
            "max_retry_wait_seconds": 0,
        }
    )


@pytest.fixture
def broker(options: CoinbaseOptions) -> CoinbaseBroker:
    return CoinbaseBroker(make_client(options, trading=True), options, CoreView())


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def btc(qty: str = "0.01", coid: str = COID) -> Order:
    return Order(client_order_id=coid, instrument="BTC-USD", side=Side.BUY, quantity=Decimal(qty))


def posts(mocked: responses.RequestsMock) -> list[Any]:
    return [c for c in mocked.calls if c.request.method == "POST"]


async def test_market_order_is_sent_signed_with_the_client_order_id(broker, mocked) -> None:
    mocked.get(LIST, json=body("list_orders_empty"))
    mocked.post(ORDERS, json=body("create_order_success"))
    placed = await broker.submit_order(btc("0.0100000001"))
    assert isinstance(broker, Broker)
    assert placed.status is OrderStatus.ACCEPTED
    assert placed.venue_order_id == "11111-00000-000000"
    (call,) = posts(mocked)
    sent = json.loads(call.request.body)
    assert sent["client_order_id"] == COID
    assert sent["order_configuration"] == {"market_market_ioc": {"base_size": "0.01000000"}}
    assert call.request.headers["Authorization"].startswith("Bearer ")


@pytest.mark.parametrize(
    ("fixture", "error"),
    [
        ("create_order_insufficient_fund", InsufficientFunds),
        ("create_order_invalid_size", InvalidOrder),
        ("create_order_entry_disabled", MarketClosed),
    ],
)
async def test_venue_rejections_become_typed_errors(broker, mocked, fixture, error) -> None:
    mocked.get(LIST, json=body("list_orders_empty"))
    mocked.post(ORDERS, json=body(fixture))
    with pytest.raises(error, match="coinbase rejected"):
        await broker.submit_order(btc())


async def test_http_401_is_an_authentication_failure(broker, mocked) -> None:
    mocked.get(LIST, json=body("error_unauthenticated"), status=401)
    with pytest.raises(AuthenticationFailed, match="401"):
        await broker.get_order(COID)


async def test_http_429_is_retried_then_surfaces_as_rate_limited(broker, mocked) -> None:
    mocked.get(LIST, json=body("error_rate_limited"), status=429, headers={"Retry-After": "0"})
    with pytest.raises(RateLimited):
        await broker.get_order(COID)
    assert len(mocked.calls) == 2  # retried once (retries=2), then gave up


async def test_http_5xx_on_create_asks_by_id_then_resends(broker, mocked) -> None:
    mocked.get(LIST, json=body("list_orders_empty"))
    mocked.post(ORDERS, json=body("error_internal"), status=500)
    mocked.post(ORDERS, json=body("create_order_success"))
    placed = await broker.submit_order(btc())
    assert placed.venue_order_id == "11111-00000-000000"
    assert len(posts(mocked)) == 2


async def test_timeout_then_found_by_id_places_exactly_one_order(broker, mocked) -> None:
    mocked.get(LIST, json=body("list_orders_empty"))
    mocked.get(LIST, json=body("list_orders_filled"))
    mocked.post(ORDERS, body=requests.exceptions.ReadTimeout("read timed out"))
    placed = await broker.submit_order(btc())
    assert placed.status is OrderStatus.FILLED
    assert len(posts(mocked)) == 1


async def test_timeout_then_unknown_by_id_resubmits(broker, mocked) -> None:
    mocked.get(LIST, json=body("list_orders_empty"))
    mocked.post(ORDERS, body=requests.exceptions.ReadTimeout("read timed out"))
    mocked.post(ORDERS, json=body("create_order_success"))
    placed = await broker.submit_order(btc())
    assert placed.status is OrderStatus.ACCEPTED
    assert len(posts(mocked)) == 2


async def test_persistent_outage_is_broker_unavailable(broker, mocked) -> None:
    mocked.get(LIST, json=body("list_orders_empty"))
    mocked.post(ORDERS, json=body("error_internal"), status=503)
    with pytest.raises(BrokerUnavailable, match="503"):
        await broker.submit_order(btc())


async def test_size_below_the_increment_never_reaches_the_venue(broker, mocked) -> None:
    with pytest.raises(InvalidOrder, match="rounds to 0"):
        await broker.submit_order(btc("0.000000001"))
    assert len(mocked.calls) == 0


async def test_accounts_become_cash_and_positions(broker, mocked) -> None:
    mocked.get(f"{BASE}/accounts", json=body("list_accounts"))
    book = await broker.get_portfolio()
    assert book.cash == Decimal("1000.50")
    assert book.position("BTC-USD").quantity == Decimal("1.75")


async def test_fills_of_an_order(broker, mocked) -> None:
    mocked.get(LIST, json=body("list_orders_filled"))
    mocked.get(f"{BASE}/orders/historical/fills", json=body("list_fills"))
    (fill,) = await broker.list_fills(COID)
    assert fill.client_order_id == COID
    assert (fill.price, fill.quantity, fill.commission) == (
        Decimal("50000.00"),
        Decimal("0.01"),
        Decimal("3.00"),
    )


async def test_candles_and_quote(options, mocked) -> None:
    clock = ManualClock(datetime(2026, 1, 5, 14, 0, tzinfo=UTC))
    data = CoinbaseMarketData(make_client(options, trading=False), options, clock)
    mocked.get(f"{BASE}/market/products/BTC-USD/candles", json=body("public_candles"))
    mocked.get(f"{BASE}/market/product_book", json=body("public_product_book"))
    inst = Settings().instrument("BTC-USD")
    assert inst is not None
    bars = await data.get_bars(inst, "1h", limit=5)
    assert [b.ts.hour for b in bars] == [12, 13]
    assert bars[-1].close == 50200.0
    quote = await data.get_quote(inst)
    assert (quote.bid, quote.ask) == (Decimal("49999.99"), Decimal("50000.01"))


def test_plugin_registers_both_factories_and_requires_keys_to_trade() -> None:
    ctx = AdapterContext(name="coinbase")
    with pytest.raises(ConfigError, match="api_key"):
        ffe_brokers()["coinbase"](ctx)
    assert ffe_market_data_sources()["coinbase"](ctx).name == "coinbase"


def protected(coid: str = COID) -> Order:
    return Order(
        client_order_id=coid,
        instrument="BTC-USD",
        side=Side.BUY,
        quantity=Decimal("0.01"),
        stop_loss=Decimal("48000"),
        take_profit=Decimal("55000"),
    )


async def test_a_filled_long_entry_is_protected_by_a_trigger_bracket(broker, mocked) -> None:
    mocked.get(LIST, json=body("list_orders_empty"))  # entry not there yet
    mocked.post(ORDERS, json=body("create_order_success"))
    mocked.get(LIST, json=body("list_orders_filled"))  # entry filled; no bracket yet
    mocked.post(ORDERS, json=body("create_order_success"))
    placed = await broker.submit_order(protected())
    assert placed.status is OrderStatus.FILLED  # read back to place the bracket: that is returned
    entry, bracket = posts(mocked)
    assert json.loads(entry.request.body)["order_configuration"] == {
        "market_market_ioc": {"base_size": "0.01000000"}
    }
    sent = json.loads(bracket.request.body)
    assert sent["client_order_id"] == f"{COID}-br"
    assert sent["side"] == "SELL"
    assert sent["order_configuration"] == {
        "trigger_bracket_gtc": {
            "base_size": "0.01",
            "limit_price": "55000",
            "stop_trigger_price": "48000",
        }
    }


async def test_the_bracket_is_not_placed_twice(broker, mocked) -> None:
    listed = body("list_orders_filled")
    existing = dict(
        listed["orders"][0],
        client_order_id=f"{COID}-br",
        side="SELL",
        status="OPEN",
        filled_size="0",
        order_configuration={
            "trigger_bracket_gtc": {
                "base_size": "0.01",
                "limit_price": "55000.00",
                "stop_trigger_price": "48000.00",
            }
        },
    )
    listed["orders"].append(existing)
    mocked.get(LIST, json=listed)  # entry and its bracket are both known to the venue
    found = await broker.submit_order(protected())
    assert found.status is OrderStatus.FILLED
    assert posts(mocked) == [], "nothing is resent: entry and bracket are found by client id"
