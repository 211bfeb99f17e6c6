"""Stop-loss / take-profit on paper: an entry's levels become resting OCO exit orders."""

from __future__ import annotations

from decimal import Decimal

import pytest
from paper_fakes import FakeMarket, make_broker

from ffe_adapters.brokers.paper.execution import bracket_id
from ffe_adapters.storage.memory import InMemoryUnitOfWorkFactory
from ffe_core.domain.orders import Order, OrderStatus, Side
from ffe_core.domain.portfolio import replay


def entry(**kw: object) -> Order:
    return Order.model_validate(
        {
            "client_order_id": "ffe-e1",
            "instrument": "AAPL",
            "side": Side.BUY,
            "quantity": "10",
            "stop_loss": "95",
            "take_profit": "110",
            **kw,
        }
    )


@pytest.fixture
def store() -> InMemoryUnitOfWorkFactory:
    return InMemoryUnitOfWorkFactory()


@pytest.fixture
def market() -> FakeMarket:
    m = FakeMarket()
    m.set_quote("AAPL", "99.99", "100.01")
    return m


async def status(broker, leg: str) -> OrderStatus:  # type: ignore[no-untyped-def]
    order = await broker.get_order(bracket_id("ffe-e1", leg))
    assert order is not None
    return order.status


async def test_an_entry_with_levels_rests_a_stop_and_a_limit_exit(store, market) -> None:
    broker = make_broker(store, market, market_fill="quote")
    filled = await broker.submit_order(entry())
    assert filled.status is OrderStatus.FILLED
    assert await status(broker, "sl") is OrderStatus.ACCEPTED
    assert await status(broker, "tp") is OrderStatus.ACCEPTED
    sl = await broker.get_order(bracket_id("ffe-e1", "sl"))
    assert sl is not None and sl.side is Side.SELL and sl.quantity == Decimal("10")


async def test_stop_loss_fills_closes_the_position_and_cancels_the_take_profit(
    store, market
) -> None:
    broker = make_broker(store, market, market_fill="quote")
    await broker.submit_order(entry())
    market.set_quote("AAPL", "94.50", "94.60")
    await broker.process_market()
    assert await status(broker, "sl") is OrderStatus.FILLED
    assert await status(broker, "tp") is OrderStatus.CANCELED
    book = await broker.get_portfolio()
    assert book.position("AAPL").is_flat
    ledger = replay(Decimal("10000"), await broker.list_fills())
    assert book.cash == ledger.cash
    assert book.positions == ledger.positions


async def test_take_profit_fills_and_cancels_the_stop(store, market) -> None:
    broker = make_broker(store, market, market_fill="quote")
    await broker.submit_order(entry())
    market.set_quote("AAPL", "110.50", "110.60")
    await broker.process_market()
    assert await status(broker, "tp") is OrderStatus.FILLED
    assert await status(broker, "sl") is OrderStatus.CANCELED
    assert (await broker.get_portfolio()).position("AAPL").is_flat


async def test_closing_the_position_otherwise_cancels_both_exits(store, market) -> None:
    broker = make_broker(store, market, market_fill="quote")
    await broker.submit_order(entry())
    close = Order(
        client_order_id="ffe-x1", instrument="AAPL", side=Side.SELL, quantity=Decimal("10")
    )
    await broker.submit_order(close)
    await broker.process_market()
    assert await status(broker, "sl") is OrderStatus.CANCELED
    assert await status(broker, "tp") is OrderStatus.CANCELED
    assert len(await broker.list_fills()) == 2


async def test_brackets_are_placed_once_even_if_asked_twice(store, market) -> None:
    broker = make_broker(store, market, market_fill="quote")
    await broker.submit_order(entry())
    await broker.submit_order(entry())  # resubmission: idempotent, no second bracket
    await broker.process_market()
    async with store() as uow:
        ids = [o.client_order_id for o in await uow.venue_orders.list()]
    assert sorted(ids) == sorted(["ffe-e1", bracket_id("ffe-e1", "sl"), bracket_id("ffe-e1", "tp")])


async def test_settling_exits_reads_the_open_orders_not_the_order_history(
    store, market, monkeypatch
) -> None:
    """Each pass with a resting exit settles the brackets: it reads the open orders and each
    exit's sibling, never the venue's every order (a cost that grew with the history)."""
    from ffe_adapters.storage import memory

    broker = make_broker(store, market, market_fill="quote")
    for n in range(3):  # a history of closed round trips
        await broker.submit_order(entry(client_order_id=f"ffe-old{n}"))
        await broker.submit_order(
            Order(
                client_order_id=f"ffe-oldx{n}",
                instrument="AAPL",
                side=Side.SELL,
                quantity=Decimal("10"),
            )
        )
        await broker.process_market()
    await broker.submit_order(entry())
    listed: list[object] = []
    listing = memory._Orders.list

    async def counted(self, **kwargs):  # type: ignore[no-untyped-def]
        listed.append(kwargs.get("status"))
        return await listing(self, **kwargs)

    monkeypatch.setattr(memory._Orders, "list", counted)
    await broker.process_market()  # the exits rest: nothing to settle
    market.set_quote("AAPL", "110.50", "110.60")
    await broker.process_market()  # the take-profit fills: the stop is canceled
    assert await status(broker, "tp") is OrderStatus.FILLED
    assert await status(broker, "sl") is OrderStatus.CANCELED
    assert listed and None not in listed, f"every venue order was read: {listed}"
