"""The account read model behind the API's status and positions views.

Reading the account means asking the venue (or the paper ledger) for the portfolio and replaying
the fill history into an equity curve; neither changes between fills, so doing both per request
made every dashboard poll pay for two storage round trips and a replay. The curve is carried
forward: a rebuild reads and replays only the fills recorded since the last one (it read and
replayed the whole ledger, once a second while a dashboard was open). :class:`AccountView`
keeps the last snapshot and rebuilds it only when the ledger changed: at once when this process
recorded a fill (:meth:`invalidate`, called by the execution gate), and after ``max_age`` seconds
otherwise (fills recorded by another process on the same storage, venue-side changes). Prices
are not part of the snapshot: callers mark positions on every read.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ffe_core.domain.orders import Fill, FillMark
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
        self._curve = _Curve(initial_cash, curve_points)
        self._mark: FillMark | None = None  # how far the ledger's fills were replayed

    def invalidate(self) -> None:
        """The ledger changed in this process: the next read rebuilds."""
        self._snapshot.invalidate()

    async def snapshot(self) -> AccountSnapshot:
        """The current snapshot, rebuilt first if the ledger changed or it is too old."""
        return await self._snapshot.get()

    async def _build(self) -> AccountSnapshot:
        """The venue's portfolio, and the curve carried forward by the fills recorded since
        the last build (replayed from the start only when every fill is read: the first
        build, or a fill that committed late behind the last read)."""
        portfolio = await self._broker.get_portfolio()
        async with self._uow_factory() as uow:
            fills, mark = await uow.fills.since(self._mark)
        if mark.covers(fills):
            self._curve = _Curve(self._initial, self._points)
        try:
            self._curve.extend(fills)
        except Exception:  # half applied: the next build replays the ledger from the start
            self._curve, self._mark = _Curve(self._initial, self._points), None
            raise
        self._mark = mark
        curve = self._curve
        return AccountSnapshot(
            portfolio=portfolio, curve=tuple(curve.points), peak=curve.peak, drawdown=curve.deepest
        )


class _Curve:
    """The fill ledger replayed so far: the book, the equity curve's last ``points`` points,
    its peak and its deepest drawdown."""

    def __init__(self, initial_cash: Decimal, points: int) -> None:
        self.book = replay(initial_cash, [])
        self.peak = float(initial_cash)
        self.deepest = 0.0
        self.points: deque[CurvePoint] = deque(maxlen=points)

    def extend(self, fills: Iterable[Fill]) -> None:
        """Replay ``fills`` (in recording order) onto the curve."""
        for fill in fills:
            self.book = self.book.apply(fill)
            equity = float(self.book.equity({fill.instrument: fill.price}))
            self.peak = max(self.peak, equity)
            fall = drawdown(equity, self.peak) if self.peak else 0.0
            self.points.append(CurvePoint(ts=fill.ts, equity=equity, drawdown=fall))
            self.deepest = max(self.deepest, fall)
