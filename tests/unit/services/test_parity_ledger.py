"""The ledger as a day's parity reads it: what each of the day's orders found held before it, and
its venue fills, are the same whether today's ledger is carried forward read by read (the agent's
gauge, once a minute) or read whole, and the same as a replay of the whole ledger in time order
(what the parity service did on every report). A venue's fill may be stamped a few minutes
before the order was sent (its clock lags), never an hour."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ffe_adapters.storage.memory import InMemoryStore
from ffe_core.domain.orders import Fill, Order, Side
from ffe_core.domain.portfolio import replay
from ffe_core.services.parity import LedgerSince, _CarriedLedger, day_bounds

T0 = datetime(2026, 3, 2, tzinfo=UTC)
SYMBOLS = ("BTC-USD", "ETH-USD")

STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("order"),
            st.sampled_from(SYMBOLS),
            st.sampled_from(Side),
            st.integers(1, 5),
            st.lists(st.integers(-5, 120), max_size=2),  # its fills' lags behind the sending
        ),
        st.tuples(st.just("report"), st.just(""), st.just(Side.BUY), st.just(0), st.just([])),
        st.tuples(
            st.just("later"), st.just(""), st.just(Side.BUY), st.integers(1, 30), st.just([])
        ),
    ),
    max_size=40,
)


def held_by_replay(ledger: list[Fill], order: Order) -> Decimal:
    """The quantity held before ``order`` as the parity service computed it before: the whole
    ledger in time order, replayed up to the order's first fill (or its sending)."""
    ordered = sorted(ledger, key=lambda f: f.ts)
    own = next(
        (i for i, f in enumerate(ordered) if f.client_order_id == order.client_order_id), None
    )
    before = ordered[:own] if own is not None else [f for f in ordered if f.ts <= order.created_at]
    return replay(Decimal(10**9), before).position(order.instrument).quantity


@given(steps=STEPS)
def test_a_carried_ledger_reads_as_the_whole_ledger_replayed(steps: list[Any]) -> None:
    async def run() -> None:
        store, carried = InMemoryStore(), _CarriedLedger()
        now, recorded, sent = T0 + timedelta(hours=1), [], []
        for kind, symbol, side, quantity, lags in steps:
            if kind == "later":
                now += timedelta(hours=quantity)  # up to 30 h: the day rolls over
            elif kind == "order":
                order = Order(
                    client_order_id=f"o{len(sent)}",
                    instrument=symbol,
                    side=side,
                    quantity=Decimal(quantity),
                    created_at=now,
                )
                sent.append(order)
                fills = [
                    Fill(
                        client_order_id=order.client_order_id,
                        instrument=symbol,
                        side=side,
                        quantity=Decimal(quantity),
                        price=Decimal(100),
                        ts=now + timedelta(minutes=lag),
                    )
                    for lag in lags
                ]
                recorded += fills
                async with store() as uow:
                    for fill in fills:
                        await uow.fills.add(fill)
                    await uow.commit()
                now += timedelta(minutes=7)
            else:
                start, end = day_bounds(now.date())
                async with store() as uow:
                    kept = await carried.read(uow, start)
                whole = LedgerSince()
                whole.add(recorded, start)
                for order in [o for o in sent if start <= o.created_at < end]:
                    expected = held_by_replay(recorded, order)
                    assert kept.held_before(order) == whole.held_before(order) == expected
                    coid = order.client_order_id
                    mine = [f for f in recorded if f.client_order_id == coid]
                    assert (
                        kept.fills_of(coid)
                        == whole.fills_of(coid)
                        == sorted(mine, key=lambda f: f.ts)
                    )

    asyncio.run(run())


async def test_todays_report_reads_the_days_orders_and_the_new_fills_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The gauge's report, once a minute: the day's orders (by creation time) and the fills
    recorded since the last report; never the ledger's every order and fill (it read both, and
    replayed the ledger once per order of the day)."""
    from ffe_adapters.storage import memory
    from ffe_core.config import Settings
    from ffe_core.ports.clock import ManualClock
    from ffe_core.services.parity import ParityService

    store, clock = InMemoryStore(), ManualClock(T0 + timedelta(hours=9))
    service = ParityService(Settings(), store, clock)
    orders_asked: list[Any] = []
    taken: list[int] = []
    orders_list, since = memory._Orders.list, memory._Fills.since

    async def orders(self: Any, **kwargs: Any) -> Any:
        orders_asked.append(kwargs.get("created_in"))
        return await orders_list(self, **kwargs)

    async def fills_since(self: Any, mark: Any) -> Any:
        fills, new_mark = await since(self, mark)
        taken.append(len(fills))
        return fills, new_mark

    async def every_fill(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("today's report read the whole ledger")

    monkeypatch.setattr(memory._Orders, "list", orders)
    monkeypatch.setattr(memory._Fills, "since", fills_since)
    monkeypatch.setattr(memory._Fills, "list", every_fill)
    for n in range(3):
        async with store() as uow:
            await uow.fills.add(
                Fill(
                    client_order_id=f"old-{n}",
                    instrument="BTC-USD",
                    side=Side.BUY,
                    quantity=Decimal(1),
                    price=Decimal(100),
                    ts=T0 - timedelta(days=n + 1),
                )
            )
            await uow.commit()
        await service.report()
    assert taken == [1, 1, 1]
    assert orders_asked == [day_bounds(T0.date())] * 3
