"""The account read model: rebuilt when the ledger changes or grows old, never per read."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from tests.waiting import wait_until

from ffe_adapters.storage.memory import InMemoryUnitOfWorkFactory
from ffe_core.domain.orders import Fill, FillMark, Side
from ffe_core.domain.portfolio import Portfolio
from ffe_core.services.account_view import AccountView


class CountingBroker:
    """Only what the view asks of a broker: the portfolio, counted; it can be held."""

    name = "counting"

    def __init__(self) -> None:
        self.calls = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def get_portfolio(self) -> Portfolio:
        self.calls += 1
        await self.gate.wait()
        return Portfolio(cash=Decimal(1000))


def trade(n: int, side: Side, price: int) -> Fill:
    """The ``n``-th fill of a test's trades: one BTC-USD at ``price``."""
    return Fill(
        client_order_id=f"o-{n}",
        instrument="BTC-USD",
        side=side,
        quantity=Decimal(1),
        price=Decimal(price),
    )


def view(broker: CountingBroker, uow: InMemoryUnitOfWorkFactory, now: list[float]) -> AccountView:
    return AccountView(broker, uow, Decimal(1000), max_age=1.0, now=lambda: now[0])  # type: ignore[arg-type]


async def test_reads_share_a_snapshot_until_the_ledger_changes() -> None:
    broker, uow, now = CountingBroker(), InMemoryUnitOfWorkFactory(), [0.0]
    account = view(broker, uow, now)
    for _ in range(10):
        await account.snapshot()
    assert broker.calls == 1
    async with uow() as u:
        await u.fills.add(
            Fill(
                client_order_id="o-1",
                instrument="BTC-USD",
                side=Side.BUY,
                quantity=Decimal(1),
                price=Decimal(100),
            )
        )
        await u.commit()
    assert (await account.snapshot()).curve == ()  # not told yet: the old snapshot
    account.invalidate()  # what the execution gate does after recording a fill
    snap = await account.snapshot()
    assert broker.calls == 2
    assert [p.equity for p in snap.curve] == [1000.0]


async def test_a_snapshot_older_than_max_age_is_rebuilt() -> None:
    """Fills recorded by another process on the same storage show within ``max_age``."""
    broker, uow, now = CountingBroker(), InMemoryUnitOfWorkFactory(), [0.0]
    account = view(broker, uow, now)
    await account.snapshot()
    now[0] = 0.9
    await account.snapshot()
    assert broker.calls == 1
    now[0] = 1.1
    await account.snapshot()
    assert broker.calls == 2


async def test_concurrent_readers_of_a_stale_snapshot_wait_for_one_rebuild() -> None:
    broker, uow, now = CountingBroker(), InMemoryUnitOfWorkFactory(), [0.0]
    account = view(broker, uow, now)
    broker.gate.clear()
    readers = [asyncio.ensure_future(account.snapshot()) for _ in range(20)]
    await wait_until(lambda: broker.calls >= 1, "the first rebuild to start")
    broker.gate.set()
    snaps = await asyncio.gather(*readers)
    assert broker.calls == 1
    assert all(s is snaps[0] for s in snaps)


async def test_a_change_during_a_rebuild_is_not_lost() -> None:
    """A fill recorded while a rebuild reads the ledger makes the next read rebuild again."""
    broker, uow, now = CountingBroker(), InMemoryUnitOfWorkFactory(), [0.0]
    account = view(broker, uow, now)
    broker.gate.clear()
    first = asyncio.ensure_future(account.snapshot())
    await wait_until(lambda: broker.calls >= 1, "the rebuild to start")
    account.invalidate()
    broker.gate.set()
    await first
    await account.snapshot()
    assert broker.calls == 2


async def test_each_curve_point_carries_its_drawdown_from_the_peak_since_the_initial_cash() -> None:
    """The status curve's drawdowns are the one formula's, the initial cash counting as a peak:
    a first trade that loses shows a drawdown (the dashboard plots these, never recomputes)."""
    from ffe_core.drawdown import drawdown

    broker, uow, now = CountingBroker(), InMemoryUnitOfWorkFactory(), [0.0]
    trades = [(Side.BUY, 100), (Side.SELL, 90), (Side.BUY, 90), (Side.SELL, 150)]
    trades += [(Side.BUY, 150), (Side.SELL, 120)]
    async with uow() as u:
        for n, (side, price) in enumerate(trades):
            await u.fills.add(trade(n, side, price))
        await u.commit()
    snap = await view(broker, uow, now).snapshot()
    assert [p.equity for p in snap.curve] == [1000.0, 990.0, 990.0, 1050.0, 1050.0, 1020.0]
    assert [p.drawdown for p in snap.curve] == [
        0.0,
        drawdown(990.0, 1000.0),
        drawdown(990.0, 1000.0),
        0.0,
        0.0,
        drawdown(1020.0, 1050.0),
    ]
    assert snap.drawdown == drawdown(1020.0, 1050.0)  # the deepest


async def test_a_rebuild_replays_only_the_fills_recorded_since_the_last_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The curve is carried forward: each rebuild reads the fills past its mark, not the whole
    ledger (it read and replayed every fill, once a second while a dashboard was open), and
    ends where a view replaying the ledger from the start ends; a read of every fill (the
    first, or one after a fill committed late) starts the replay again rather than doubling."""
    from ffe_adapters.storage import memory

    broker, uow, now = CountingBroker(), InMemoryUnitOfWorkFactory(), [0.0]
    account = view(broker, uow, now)
    read: list[int] = []
    since = memory._Fills.since

    async def counted(self: Any, mark: Any) -> Any:
        fills, new_mark = await since(self, mark)
        read.append(len(fills))
        return fills, new_mark

    monkeypatch.setattr(memory._Fills, "since", counted)
    trades = [(Side.BUY, 100), (Side.SELL, 90), (Side.BUY, 90), (Side.SELL, 150), (Side.BUY, 80)]
    for n, (side, price) in enumerate(trades):
        async with uow() as u:
            await u.fills.add(trade(n, side, price))
            await u.commit()
        account.invalidate()
        carried = await account.snapshot()
    assert read == [1, 1, 1, 1, 1]
    fresh = await view(broker, uow, now).snapshot()
    assert (carried.curve, carried.peak, carried.drawdown) == (
        fresh.curve,
        fresh.peak,
        fresh.drawdown,
    )
    every = [f async for f in _every_fill(uow)]  # a read of every fill: replayed anew
    monkeypatch.setattr(memory._Fills, "since", lambda self, mark: _all(every))
    account.invalidate()
    again = await account.snapshot()
    assert (again.curve, again.peak, again.drawdown) == (fresh.curve, fresh.peak, fresh.drawdown)


async def _every_fill(uow: InMemoryUnitOfWorkFactory) -> Any:
    async with uow() as u:
        for f in await u.fills.list():
            yield f


async def _all(fills: list[Fill]) -> tuple[list[Fill], FillMark]:
    return fills, FillMark(seq=len(fills), count=len(fills))


async def test_a_rebuild_that_fails_half_way_replays_the_ledger_next_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fill the curve cannot take leaves no half-applied curve behind: the next rebuild
    starts from the first fill, so none is counted twice."""
    from ffe_core.domain.portfolio import Portfolio as Book

    broker, uow, now = CountingBroker(), InMemoryUnitOfWorkFactory(), [0.0]
    account = view(broker, uow, now)
    trades = [(Side.BUY, 100), (Side.SELL, 90), (Side.BUY, 90), (Side.SELL, 120)]
    async with uow() as u:
        await u.fills.add(trade(0, *trades[0]))
        await u.commit()
    await account.snapshot()  # the first build: the mark is past the first fill
    async with uow() as u:
        for n, (side, price) in enumerate(trades[1:], start=1):
            await u.fills.add(trade(n, side, price))
        await u.commit()
    apply = Book.apply
    applied: list[str] = []

    def fails_on_the_second(self: Book, fill: Fill) -> Book:
        applied.append(fill.client_order_id)
        if len(applied) == 2:
            raise RuntimeError("a fill the book cannot take")
        return apply(self, fill)

    monkeypatch.setattr(Book, "apply", fails_on_the_second)
    account.invalidate()
    with pytest.raises(RuntimeError):
        await account.snapshot()
    monkeypatch.setattr(Book, "apply", apply)
    again = await account.snapshot()
    fresh = await view(broker, uow, now).snapshot()
    assert (again.curve, again.peak, again.drawdown) == (fresh.curve, fresh.peak, fresh.drawdown)
