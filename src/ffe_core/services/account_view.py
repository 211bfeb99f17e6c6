"""The account read model behind the API's status and positions views.

Reading the account means asking the venue (or the paper ledger) for the portfolio and replaying
the fill history into an equity curve; neither changes between fills, so doing both per request
made every dashboard poll pay for two storage round trips and a replay. :class:`AccountView`
keeps the last snapshot and rebuilds it only when the ledger changed: at once when this process
recorded a fill (:meth:`invalidate`, called by the execution gate), and after ``max_age`` seconds
otherwise (fills recorded by another process on the same storage, venue-side changes). Prices
are not part of the snapshot: callers mark positions on every read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ffe_core.domain.portfolio import Portfolio, replay
from ffe_core.drawdown import drawdown
from ffe_core.ports.brokers import Broker
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.services.read_model import Refreshing


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """Account equity right after a fill, marked at that fill's price, and its drawdown from the
    running peak (the initial cash included)."""

    ts: datetime
    equity: float
    drawdown: float = 0.0


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """The portfolio as the venue reports it and the equity curve the fill ledger implies."""

    portfolio: Portfolio
    curve: tuple[CurvePoint, ...]
    peak: float
    """Highest equity along ``curve`` (at least the initial cash)."""
    drawdown: float
    """Deepest fall from a running peak along ``curve``, as a fraction."""


class AccountView:
    """Snapshots of the account, rebuilt when the ledger changes, not per read."""

    def __init__(
        self,
        broker: Broker,
        uow_factory: UnitOfWorkFactory,
        initial_cash: Decimal,
        *,
        max_age: float = 1.0,
        curve_points: int = 500,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._broker = broker
        self._uow_factory = uow_factory
        self._initial = initial_cash
        self._points = curve_points
        self._snapshot = Refreshing(self._build, max_age=max_age, now=now)

    def invalidate(self) -> None:
        """The ledger changed in this process: the next read rebuilds."""
        self._snapshot.invalidate()

    async def snapshot(self) -> AccountSnapshot:
        """The current snapshot, rebuilt first if the ledger changed or it is too old."""
        return await self._snapshot.get()

    async def _build(self) -> AccountSnapshot:
        portfolio = await self._broker.get_portfolio()
        async with self._uow_factory() as uow:
            fills = await uow.fills.list()
        book = replay(self._initial, [])
        peak = float(self._initial)
        deepest = 0.0
        curve: list[CurvePoint] = []
        for fill in fills:
            book = book.apply(fill)
            equity = float(book.equity({fill.instrument: fill.price}))
            peak = max(peak, equity)
            fall = drawdown(equity, peak) if peak else 0.0
            curve.append(CurvePoint(ts=fill.ts, equity=equity, drawdown=fall))
            deepest = max(deepest, fall)
        return AccountSnapshot(
            portfolio=portfolio, curve=tuple(curve[-self._points :]), peak=peak, drawdown=deepest
        )
