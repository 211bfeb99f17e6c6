"""Money invariants of the paper broker, checked with hypothesis."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paper_fakes import FakeMarket, make_broker, make_settings

from ffe_adapters.storage.memory import InMemoryUnitOfWorkFactory
from ffe_core.domain.errors import InsufficientFunds, InvalidOrder
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.domain.orders import Order, Side
from ffe_core.domain.portfolio import replay

prices = st.decimals(min_value="1", max_value="500", places=2)
trades = st.lists(
    st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 40), prices, prices),
    min_size=1,
    max_size=12,
)


async def _run(steps: list[tuple[Side, int, Decimal, Decimal]]) -> None:
    store, market = InMemoryUnitOfWorkFactory(), FakeMarket()
    broker = make_broker(store, market, settings=make_settings(cash="5000"), market_fill="quote")
    for i, (side, qty, a, b) in enumerate(steps):
        market.set_quote("AAPL", bid=str(min(a, b)), ask=str(max(a, b)))
        o = Order(client_order_id=f"p-{i}", instrument="AAPL", side=side, quantity=Decimal(qty))
        with contextlib.suppress(InsufficientFunds, InvalidOrder):
            await broker.submit_order(o)
        book = await broker.get_portfolio()
        fills = await broker.list_fills()
        assert book == replay(Decimal("5000"), fills)
        assert book.cash >= 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trades)
def test_ledger_always_equals_the_replay_of_its_fills(steps) -> None:
    asyncio.run(_run(steps))


@settings(max_examples=200, deadline=None)
@given(
    size=st.decimals(min_value="0", max_value="1000000", places=12, allow_nan=False),
    increment=st.sampled_from([Decimal("1"), Decimal("0.01"), Decimal("0.00000001")]),
    min_size=st.sampled_from([Decimal("0"), Decimal("1")]),
)
def test_rounding_never_increases_the_requested_size(size, increment, min_size) -> None:
    inst = Instrument(
        symbol="X",
        asset_class=AssetClass.CRYPTO,
        base="X",
        quote="USD",
        size_increment=increment,
        min_size=min_size,
    )
    rounded = inst.round_size(size)
    assert 0 <= rounded <= size
    assert abs(inst.round_size(-size)) <= size
