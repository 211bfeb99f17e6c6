"""Coinbase broker cases the stateful fake cannot show, on the bodies of the API reference
(``responses/coinbase/SOURCES.md``): orders sized by ``quote_size`` alone, fills split into
pages by ``cursor``, and an order past the first List Orders page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.registry import load_registry
from ffe_core.domain.errors import BrokerError
from ffe_core.domain.orders import OrderStatus
from ffe_core.ports.brokers import Broker
from tests.contract.scripted_server import ScriptedServer, documented
from tests.contract.venues import FAST, ec_pem

ORDERS = "/api/v3/brokerage/orders/historical/batch"
FILLS = "/api/v3/brokerage/orders/historical/fills"


def coinbase(server: ScriptedServer, **extra: Any) -> Broker:
    options = {
        "api_key": "organizations/org-1/apiKeys/key-1",
        "api_secret": ec_pem(),
        "base_url": server.url,  # plain http: a local fake is a config value
        **FAST,
        **extra,
    }
    factory = load_registry(entry_points=False).factory("brokers", "coinbase")
    broker: Broker = factory(AdapterContext(name="coinbase", options=options))
    return broker


async def test_account_fills_of_every_page_land_under_a_quote_sized_order() -> None:
    with ScriptedServer() as server:
        server.reply(FILLS, documented("coinbase", "list_fills_page_1"))
        server.reply(FILLS, documented("coinbase", "list_fills_page_2"))
        server.reply(ORDERS, documented("coinbase", "list_orders_quote_sized"))
        fills = await coinbase(server).list_fills()
    assert [f.fill_id for f in fills] == ["22222-2222222-22222222", "22222-2222222-22222221"]
    assert {f.client_order_id for f in fills} == {"11111-000000-000011"}
    assert all((f.quantity, f.price) == (Decimal("0.001"), Decimal("10000.00")) for f in fills)
    second = server.requests_to(FILLS)[1]
    assert second.query["cursor"] == ["789100"]
    assert server.unexpected == []


async def test_a_filled_quote_sized_order_parses_with_its_filled_base_size() -> None:
    with ScriptedServer() as server:
        server.reply(ORDERS, documented("coinbase", "list_orders_quote_sized"))
        order = await coinbase(server).get_order("11111-000000-000011")
    assert order is not None
    assert order.status is OrderStatus.FILLED
    assert (order.quantity, order.filled_quantity) == (Decimal("0.001"), Decimal("0.001"))


async def test_an_unfilled_quote_sized_order_is_a_typed_error_not_a_validation_error() -> None:
    """Nothing filled and no price: its base size is unknowable; the error says so."""
    with ScriptedServer() as server:
        server.reply(ORDERS, documented("coinbase", "list_orders_quote_sized"))
        with pytest.raises(BrokerError, match="quote currency and never filled"):
            await coinbase(server).get_order("11111-000000-000010")


async def test_an_order_on_the_second_list_orders_page_is_found_and_cancelled() -> None:
    with ScriptedServer() as server:
        server.reply(ORDERS, documented("coinbase", "list_orders_page_1"))
        server.reply(ORDERS, documented("coinbase", "list_orders_page_2"))
        server.reply(ORDERS, documented("coinbase", "list_orders_page_1"))
        server.reply(ORDERS, documented("coinbase", "list_orders_page_2"))
        server.reply(
            "/api/v3/brokerage/orders/batch_cancel",
            documented("coinbase", "cancel_orders"),
            method="POST",
        )
        canceled = await coinbase(server).cancel_order("ffe-contract-0001")
    assert canceled.status is OrderStatus.CANCELED
    assert server.requests_to(ORDERS)[1].query["cursor"] == ["789100"]
    (cancel,) = server.requests_to("/api/v3/brokerage/orders/batch_cancel", "POST")
    assert cancel.body == {"order_ids": ["0000-000000-000001"]}
