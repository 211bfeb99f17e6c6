"""The paper venue's observation costs what its working orders need: nothing when none rests,
one market fetch per instrument with working orders, and no book access when the market has
not reached an order."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from paper_fakes import HOUR, T0, FakeMarket, make_broker

from ffe_adapters.storage.memory import InMemoryUnitOfWorkFactory
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar
from ffe_core.domain.orders import Order, OrderStatus, OrderType, Side


class CountingMarket(FakeMarket):
    def __init__(self) -> None:
        super().__init__()
        self.fetches: list[str] = []

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]:
        self.fetches.append(instrument.symbol)
        return await super().get_bars(instrument, interval, limit=limit, end=end)


class CountingStore(InMemoryUnitOfWorkFactory):
    def __init__(self) -> None:
        super().__init__()
        self.opened = 0

    def __call__(self):  # type: ignore[no-untyped-def]
        self.opened += 1
        return super().__call__()


def limit_buy(coid: str, symbol: str, price: str) -> Order:
    return Order(
        client_order_id=coid,
        instrument=symbol,
        side=Side.BUY,
        type=OrderType.LIMIT,
        quantity=Decimal(1),
        limit_price=Decimal(price),
    )


@pytest.fixture
def market() -> CountingMarket:
    return CountingMarket()


async def test_nothing_resting_means_nothing_fetched(market: CountingMarket) -> None:
    store = CountingStore()
    broker = make_broker(store, market, market_fill="next_bar_open")
    assert await broker.process_market() == []
    assert market.fetches == []
    assert store.opened == 1  # the look for resting orders, and nothing else


async def test_the_market_is_fetched_once_per_instrument_with_working_orders(
    market: CountingMarket,
) -> None:
    store = CountingStore()
    broker = make_broker(store, market, market_fill="next_bar_open")
    for i in range(3):
        await broker.submit_order(limit_buy(f"aapl-{i}", "AAPL", "1"))
    await broker.submit_order(limit_buy("btc-0", "BTC-USD", "1"))
    market.add_bar("AAPL", T0 + HOUR, 100, 101, 99, 100)  # far above every limit
    market.fetches.clear()
    store.opened = 0
    assert await broker.process_market() == []
    assert sorted(market.fetches) == ["AAPL", "BTC-USD"]
    # the list of resting orders only: no book access per unreachable order, and no bracket
    # check when no protective order rests
    assert store.opened == 1


async def test_an_order_the_market_reaches_still_fills(market: CountingMarket) -> None:
    broker = make_broker(InMemoryUnitOfWorkFactory(), market, market_fill="next_bar_open")
    await broker.submit_order(limit_buy("near", "AAPL", "99.5"))
    await broker.submit_order(limit_buy("far", "AAPL", "1"))
    market.add_bar("AAPL", T0 + HOUR, 100, 101, 99, 100)
    changed = await broker.process_market()
    assert [o.client_order_id for o in changed] == ["near"]
    assert changed[0].status is OrderStatus.FILLED
    far = await broker.get_order("far")
    assert far is not None and far.status is OrderStatus.ACCEPTED
