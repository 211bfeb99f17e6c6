"""OandaBroker and OandaMarketData wire details through oandapyV20 pointed at a fake environment.

What every broker promises (idempotent resubmission, fills, paging) is in ``tests/contract``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from oandapyV20.oandapyV20 import TRADING_ENVIRONMENTS

from ffe_adapters.brokers.oanda.config import OandaOptions
from ffe_adapters.brokers.oanda.data import OandaMarketData
from ffe_adapters.brokers.oanda.execution import OandaBroker
from ffe_adapters.brokers.oanda.factories import make_client
from ffe_core.config import CoreView, Settings
from ffe_core.domain.errors import (
    AuthenticationFailed,
    BrokerUnavailable,
    InsufficientFunds,
    InvalidOrder,
    MarketClosed,
    RateLimited,
)
from ffe_core.domain.orders import Order, OrderStatus, Side
from ffe_core.ports.brokers import Broker

HERE = Path(__file__).parent / "responses"
API = "https://api.fake-oanda.test"
ACCOUNT = "101-004-1435156-001"
ACC = f"{API}/v3/accounts/{ACCOUNT}"
COID = "ffe-test-0001"
BY_ID = f"{ACC}/orders/@{COID}"


def body(name: str) -> dict[str, Any]:
    return json.loads((HERE / f"{name}.json").read_text())


@pytest.fixture(scope="module", autouse=True)
def fake_environment():
    TRADING_ENVIRONMENTS["ffe-test"] = {"api": API, "stream": API}
    yield
    TRADING_ENVIRONMENTS.pop("ffe-test", None)


@pytest.fixture
def options() -> OandaOptions:
    return OandaOptions.model_validate(
        {
            "access_token": "test-token",
            "account_id": ACCOUNT,
            "environment": "ffe-test",
            "timeout_seconds": 2,
            "retries": 2,
            "retry_backoff_seconds": 0,
            "max_retry_wait_seconds": 0,
        }
    )


@pytest.fixture
def broker(options: OandaOptions) -> OandaBroker:
    return OandaBroker(make_client(options), options, CoreView())


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def eur(qty: str = "100", **kw: Any) -> Order:
    return Order.model_validate(
        {"client_order_id": COID, "instrument": "EUR-USD", "side": Side.BUY, "quantity": qty, **kw}
    )


def posts(mocked: responses.RequestsMock) -> list[Any]:
    return [c for c in mocked.calls if c.request.method == "POST"]


async def test_market_order_carries_client_id_and_brackets_and_fills(broker, mocked) -> None:
    mocked.get(BY_ID, json=body("order_doesnt_exist"), status=404)
    mocked.post(f"{ACC}/orders", json=body("order_create_market_filled"), status=201)
    placed = await broker.submit_order(eur("100.7", stop_loss="1.09", take_profit="1.12"))
    assert isinstance(broker, Broker)
    assert placed.status is OrderStatus.FILLED
    assert placed.average_fill_price == Decimal("1.10012")
    sent = json.loads(posts(mocked)[0].request.body)["order"]
    assert sent["clientExtensions"] == {"id": COID}
    assert sent["instrument"] == "EUR_USD"
    assert sent["units"] == "100"  # rounded down to the whole-unit increment
    assert sent["stopLossOnFill"]["price"] == "1.09000"
    assert sent["takeProfitOnFill"]["price"] == "1.12000"


@pytest.mark.parametrize(
    ("fixture", "status", "error"),
    [
        ("order_create_cancelled_insufficient_margin", 201, InsufficientFunds),
        ("order_create_cancelled_market_halted", 201, MarketClosed),
        ("order_create_reject_units_precision", 400, InvalidOrder),
    ],
)
async def test_rejections_become_typed_errors(broker, mocked, fixture, status, error) -> None:
    mocked.get(BY_ID, json=body("order_doesnt_exist"), status=404)
    mocked.post(f"{ACC}/orders", json=body(fixture), status=status)
    with pytest.raises(error, match="oanda rejected"):
        await broker.submit_order(eur())


async def test_401_is_an_authentication_failure(broker, mocked) -> None:
    mocked.get(f"{ACC}/summary", json=body("error_unauthorized"), status=401)
    with pytest.raises(AuthenticationFailed, match="401"):
        await broker.get_portfolio()


async def test_429_is_retried_then_rate_limited(broker, mocked) -> None:
    mocked.get(f"{ACC}/summary", json=body("error_rate_limited"), status=429)
    with pytest.raises(RateLimited):
        await broker.get_portfolio()
    assert len(mocked.calls) == 2


async def test_5xx_on_create_is_unavailable_after_asking_by_id(broker, mocked) -> None:
    mocked.get(BY_ID, json=body("order_doesnt_exist"), status=404)
    mocked.post(f"{ACC}/orders", json=body("error_internal"), status=503)
    with pytest.raises(BrokerUnavailable, match="503"):
        await broker.submit_order(eur())
    assert len(posts(mocked)) == 2


async def test_timeout_then_found_by_id_places_exactly_one_order(broker, mocked) -> None:
    mocked.get(BY_ID, json=body("order_doesnt_exist"), status=404)
    mocked.get(BY_ID, json=body("order_details_filled"))
    mocked.get(f"{ACC}/transactions/6373", json=body("transaction_fill"))
    mocked.post(f"{ACC}/orders", body=requests.exceptions.ReadTimeout("read timed out"))
    placed = await broker.submit_order(eur())
    assert placed.status is OrderStatus.FILLED
    assert len(posts(mocked)) == 1


async def test_timeout_then_unknown_by_id_resubmits(broker, mocked) -> None:
    mocked.get(BY_ID, json=body("order_doesnt_exist"), status=404)
    mocked.post(f"{ACC}/orders", body=requests.exceptions.ReadTimeout("read timed out"))
    mocked.post(f"{ACC}/orders", json=body("order_create_market_filled"), status=201)
    placed = await broker.submit_order(eur())
    assert placed.status is OrderStatus.FILLED
    assert len(posts(mocked)) == 2


async def test_cancel_by_client_id(broker, mocked) -> None:
    pending = body("order_details_filled")
    pending["order"].update(state="PENDING", type="LIMIT", price="1.05000")
    mocked.get(BY_ID, json=pending)
    mocked.put(f"{BY_ID}/cancel", json=body("order_cancel"))
    assert (await broker.cancel_order(COID)).status is OrderStatus.CANCELED


async def test_summary_and_positions_become_a_portfolio(broker, mocked) -> None:
    mocked.get(f"{ACC}/summary", json=body("account_summary"))
    mocked.get(f"{ACC}/openPositions", json=body("open_positions"))
    book = await broker.get_portfolio()
    # a margin account: cash is the balance less what the open positions cost, so that
    # cash + Σ units × price is the balance plus unrealized P&L (OANDA's NAV)
    cost = sum((p.quantity * p.average_price for p in book.positions.values()), Decimal(0))
    assert book.cash == Decimal("35454.4740") - cost
    assert book.equity({s: p.average_price for s, p in book.positions.items()}) == Decimal(
        "35454.4740"
    )
    assert book.currency == "EUR"
    assert book.position("EUR-USD").quantity == -100
    assert book.position("EUR-USD").average_price == Decimal("1.09843")
    assert book.position("DE30-EUR").quantity == 10


async def test_candles_and_pricing(options, mocked) -> None:
    data = OandaMarketData(make_client(options), options)
    mocked.get(f"{API}/v3/instruments/EUR_USD/candles", json=body("candles"))
    mocked.get(f"{ACC}/pricing", json=body("pricing"))
    inst = Settings().instrument("EUR-USD")
    assert inst is not None
    bars = await data.get_bars(inst, "5m", limit=3)
    assert len(bars) == 3
    assert bars[-1].close == 10507.8
    quote = await data.get_quote(inst)
    assert (quote.bid, quote.ask) == (Decimal("1.12157"), Decimal("1.12170"))


async def test_all_fills_of_the_account_are_read_page_by_page(broker, mocked) -> None:
    mocked.get(f"{ACC}/transactions", json=body("transactions_fill_pages"))
    mocked.get(f"{ACC}/transactions/idrange", json=body("transactions_idrange_fills"))
    fills = await broker.list_fills()
    assert [(f.client_order_id, f.side, f.quantity, f.price) for f in fills] == [
        ("ffe-test-0001", Side.BUY, Decimal("100"), Decimal("1.10012")),
        ("ffe-test-0002", Side.SELL, Decimal("100"), Decimal("1.10250")),
    ]
    idrange = [c for c in mocked.calls if "/idrange" in c.request.url]
    assert "from=6373" in idrange[0].request.url
    assert "to=6376" in idrange[0].request.url
