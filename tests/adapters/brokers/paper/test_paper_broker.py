"""PaperBroker behaviour: fills, rejects, idempotency, persistence across restarts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from paper_fakes import HOUR, T0, FakeMarket, make_broker, make_settings

from ffe_adapters.brokers.paper.plugin import ffe_brokers
from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.storage.memory import InMemoryUnitOfWorkFactory
from ffe_core.config import CoreView
from ffe_core.domain.errors import ConfigError, InsufficientFunds, InvalidOrder
from ffe_core.domain.orders import Order, OrderStatus, OrderType, Side
from ffe_core.domain.portfolio import replay
from ffe_core.ports.brokers import Broker, MarketDrivenVenue, QuotedFills, VenueKind


def order(coid: str = "ffe-1", side: Side = Side.BUY, qty: str = "1", **kw: object) -> Order:
    return Order.model_validate(
        {"client_order_id": coid, "instrument": "AAPL", "side": side, "quantity": qty, **kw}
    )


@pytest.fixture
def store() -> InMemoryUnitOfWorkFactory:
    return InMemoryUnitOfWorkFactory()


@pytest.fixture
def market() -> FakeMarket:
    return FakeMarket()


async def test_paper_broker_satisfies_the_broker_port(store, market) -> None:
    broker = make_broker(store, market)
    assert isinstance(broker, Broker)
    assert isinstance(broker, MarketDrivenVenue)  # the agent tells it when the market moved
    assert broker.venue is VenueKind.SIMULATED
    assert broker.name == "paper"
    assert broker.mode == "paper"


async def test_market_order_rests_until_the_next_bar_then_fills_at_its_open(store, market) -> None:
    market.add_bar("AAPL", T0 - HOUR, 100, 101, 99, 100)  # before acceptance: ignored
    broker = make_broker(store, market, market_fill="next_bar_open")
    placed = await broker.submit_order(order(qty="10"))
    assert placed.status is OrderStatus.ACCEPTED
    assert await broker.list_fills() == []

    market.add_bar("AAPL", T0 + HOUR, 200, 210, 190, 205)
    changed = await broker.process_market()
    assert [o.client_order_id for o in changed] == ["ffe-1"]
    (fill,) = await broker.list_fills("ffe-1")
    assert fill.price == Decimal("200.10")  # 200 * (1 + 0.0005) slippage, on the 0.01 tick
    assert fill.commission == Decimal("10") * Decimal("200.10") * Decimal("0.001")
    book = await broker.get_portfolio()
    assert book.cash == Decimal("10000") - Decimal("2001.0") - fill.commission
    assert book.position("AAPL").quantity == 10


async def test_quote_mode_fills_buys_at_the_ask_and_sells_at_the_bid(store, market) -> None:
    market.set_quote("AAPL", bid="99.00", ask="101.00")
    broker = make_broker(store, market, settings=make_settings(slippage="0"), market_fill="quote")
    bought = await broker.submit_order(order("b", qty="2"))
    sold = await broker.submit_order(order("s", side=Side.SELL, qty="2"))
    assert bought.average_fill_price == Decimal("101.00")
    assert sold.average_fill_price == Decimal("99.00")
    flat = (await broker.get_portfolio()).position("AAPL")
    assert flat.is_flat
    assert flat.realized_pnl == Decimal("-4.00")


async def test_it_tells_the_quote_each_order_filled_against(store, market) -> None:
    """QuotedFills: what the gate keeps in the flight record for the parity shadow."""
    market.set_quote("AAPL", bid="99.00", ask="101.00")
    broker = make_broker(store, market, market_fill="quote")
    assert isinstance(broker, QuotedFills)
    await broker.submit_order(order("b", qty="2"))
    quote = await broker.fill_quote("b")
    assert quote is not None and (quote.bid, quote.ask) == (Decimal("99.00"), Decimal("101.00"))
    assert await broker.fill_quote("unknown") is None
    assert await make_broker(store, market).fill_quote("b") == quote  # kept with the fill
    bars = make_broker(store, market, market_fill="next_bar_open")
    await bars.submit_order(order("n", qty="1"))
    market.add_bar("AAPL", T0 + HOUR, 100, 101, 99, 100)
    await bars.process_market()
    assert len(await bars.list_fills("n")) == 1 and await bars.fill_quote("n") is None


async def test_limit_buy_fills_only_when_a_bar_trades_through_it(store, market) -> None:
    broker = make_broker(store, market, market_fill="next_bar_open")
    placed = await broker.submit_order(order(type=OrderType.LIMIT, limit_price="95"))
    market.add_bar("AAPL", T0 + HOUR, 100, 101, 96, 97)
    await broker.process_market()
    assert (await broker.get_order("ffe-1")).status is OrderStatus.ACCEPTED  # type: ignore[union-attr]
    market.add_bar("AAPL", T0 + 2 * HOUR, 97, 98, 94, 95)
    filled = await broker.get_order(placed.client_order_id)
    assert filled is not None
    assert filled.status is OrderStatus.FILLED
    assert filled.average_fill_price == Decimal("95")


async def test_sell_stop_gapping_through_fills_at_the_worse_open(store, market) -> None:
    settings = make_settings(cash="100000", slippage="0")
    market.set_quote("AAPL", bid="100", ask="100")
    broker = make_broker(store, market, settings=settings, market_fill="quote")
    await broker.submit_order(order("long", qty="5"))
    market.set_quote("AAPL", bid="88", ask="88.02")
    stop = await broker.submit_order(order("stop", Side.SELL, "5", type="stop", stop_price="90"))
    assert stop.status is OrderStatus.FILLED
    assert stop.average_fill_price == Decimal("88")


async def test_resubmitting_a_client_order_id_returns_the_recorded_order(store, market) -> None:
    market.set_quote("AAPL", bid="100", ask="100")
    broker = make_broker(store, market, market_fill="quote")
    first = await broker.submit_order(order(qty="3"))
    again = await broker.submit_order(order(qty="3"))
    assert again == first
    assert len(await broker.list_fills()) == 1


async def test_insufficient_funds_is_a_typed_reject_and_is_recorded(store, market) -> None:
    market.set_quote("AAPL", bid="100", ask="100")
    broker = make_broker(store, market, market_fill="quote")
    with pytest.raises(InsufficientFunds, match="needs"):
        await broker.submit_order(order(qty="1000"))
    recorded = await broker.get_order("ffe-1")
    assert recorded is not None
    assert recorded.status is OrderStatus.REJECTED
    assert (await broker.get_portfolio()).cash == Decimal("10000")


async def test_size_below_the_increment_is_an_invalid_order(store, market) -> None:
    broker = make_broker(store, market)
    with pytest.raises(InvalidOrder, match="rounds to 0"):
        await broker.submit_order(order(qty="0.4"))


async def test_unknown_instrument_is_an_invalid_order(store, market) -> None:
    broker = make_broker(store, market)
    with pytest.raises(InvalidOrder, match="unknown instrument"):
        await broker.submit_order(order().model_copy(update={"instrument": "NOPE"}))


async def test_quantities_are_rounded_down_to_the_increment(store, market) -> None:
    market.set_quote("BTC-USD", bid="50000", ask="50000")
    broker = make_broker(store, market, market_fill="quote")
    placed = await broker.submit_order(
        order(qty="0.123456789").model_copy(update={"instrument": "BTC-USD"})
    )
    assert placed.quantity == Decimal("0.12345678")


async def test_cancel_stops_a_resting_order_from_filling(store, market) -> None:
    broker = make_broker(store, market)
    await broker.submit_order(order(type=OrderType.LIMIT, limit_price="50"))
    canceled = await broker.cancel_order("ffe-1")
    market.add_bar("AAPL", T0 + HOUR, 50, 51, 40, 45)
    assert canceled.status is OrderStatus.CANCELED
    assert canceled.updated_at == T0  # the venue clock's (the parity shadow stops there)
    assert await broker.process_market() == []
    assert await broker.list_fills() == []


async def test_a_restarted_broker_continues_from_storage(store, market) -> None:
    market.set_quote("AAPL", bid="100", ask="100")
    await make_broker(store, market, market_fill="quote").submit_order(order(qty="4"))
    reborn = make_broker(store, market, market_fill="quote")
    book = await reborn.get_portfolio()
    assert book.position("AAPL").quantity == 4
    assert book == replay(Decimal("10000"), await reborn.list_fills())


async def test_crash_during_persistence_then_resubmit_gives_one_order_one_fill(
    store, market
) -> None:
    market.set_quote("AAPL", bid="100", ask="100")
    store.fail_next_commit = True
    with pytest.raises(ConnectionError):
        await make_broker(store, market, market_fill="quote").submit_order(order(qty="2"))
    reborn = make_broker(store, market, market_fill="quote")
    await reborn.submit_order(order(qty="2"))
    await reborn.submit_order(order(qty="2"))
    async with store() as uow:
        assert len(await uow.venue_orders.list()) == 1
        assert len(await uow.venue_fills.list()) == 1
    assert (await reborn.get_portfolio()).position("AAPL").quantity == 2


async def test_market_data_outage_leaves_the_order_resting(store, market) -> None:
    market.down = True
    broker = make_broker(store, market)
    placed = await broker.submit_order(order())
    assert placed.status is OrderStatus.ACCEPTED


async def test_factory_requires_storage_and_market_data(market) -> None:
    factory = ffe_brokers()["paper"]
    with pytest.raises(ConfigError, match="storage"):
        factory(AdapterContext(name="paper", core=CoreView.of(make_settings()), market_data=market))
    ctx = AdapterContext(
        name="paper",
        core=CoreView.of(make_settings()),
        options={"market_fill": "quote"},
        uow_factory=InMemoryUnitOfWorkFactory(),
        market_data=market,
    )
    assert factory(ctx).name == "paper"
