"""The paper venue keeps the quote each order filled against with the fill, in its own tables:
a new broker on a new connection to the same SQL storage (a restarted process, or another
process sharing the venue) tells the same quote, so the gate syncing that fill there records it
for the parity shadow."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ffe_adapters.storage.sql.backend import SqlStorage
from ffe_core.domain.orders import Order, OrderStatus, OrderType, Side
from tests.adapters.brokers.paper.paper_fakes import HOUR, T0, FakeMarket, make_broker


def order(coid: str, **kw: object) -> Order:
    return Order.model_validate(
        {"client_order_id": coid, "instrument": "AAPL", "side": Side.BUY, "quantity": "2", **kw}
    )


async def test_a_new_broker_on_the_same_storage_tells_the_quotes_fills_met(
    sql_storage: Any,
) -> None:
    market = FakeMarket()
    market.set_quote("AAPL", bid="99.00", ask="101.00")
    first = make_broker(sql_storage.uow_factory, market, market_fill="quote")
    bought = await first.submit_order(order("now"))
    limit = await first.submit_order(order("later", type=OrderType.LIMIT, limit_price="95.50"))
    assert (bought.status, limit.status) == (OrderStatus.FILLED, OrderStatus.ACCEPTED)
    market.set_quote("AAPL", bid="95.00", ask="95.25", ts=T0 + HOUR)
    assert [o.status for o in await first.process_market()] == [OrderStatus.FILLED]
    told = {coid: await first.fill_quote(coid) for coid in ("now", "later", "never")}
    assert told["now"] == market.quotes["AAPL"].model_copy(
        update={"ts": T0, "bid": Decimal("99.00"), "ask": Decimal("101.00")}
    )
    assert told["later"] == market.quotes["AAPL"] and told["never"] is None

    other = SqlStorage(sql_storage.settings)  # another process's connection to the storage
    try:
        reborn = make_broker(other.uow_factory, FakeMarket(), market_fill="quote")
        assert {coid: await reborn.fill_quote(coid) for coid in told} == told
    finally:
        await other.close()
