"""Market data sources and caches."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar, Quote

if TYPE_CHECKING:  # the backtest arrays pull in numba, which a port must not load
    from ffe_core.backtest.data import Bars


@runtime_checkable
class MarketDataSource(Protocol):
    """Candles and quotes for instruments, normalised to UTC bars in ascending time order."""

    name: str

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]:
        """Up to ``limit`` closed bars ending at or before ``end`` (now when None)."""
        ...

    async def get_quote(self, instrument: Instrument) -> Quote: ...

    async def close(self) -> None: ...


@runtime_checkable
class ReplayPace(Protocol):
    """A declared capability: a source that replays recorded bars at its own pace (the bundled
    replay) rather than at the market's. Outcome horizons counted in bars use its pace, and
    outcomes are priced by what it showed at the time, so a replay is scored within minutes."""

    def bar_seconds(self, interval: str) -> float:
        """Clock seconds one bar of ``interval`` takes to form at this source."""
        ...

    async def price_at(self, instrument: Instrument, at: datetime) -> float | None:
        """The mid price this source quoted at ``at`` (None before it has data)."""
        ...


@runtime_checkable
class BarFileReader(Protocol):
    """Reads a whole OHLCV file (CSV, Parquet, Feather/Arrow, JSON candles) into backtest arrays.

    ``time_unit`` is ``"iso"``, ``"s"``, ``"ms"``, ``"us"`` or ``"ns"``; None tells Unix epochs
    apart by magnitude. Bad data raises ``ValidationFailed`` naming the file and row.
    """

    def read_bars(self, path: str | Path, *, time_unit: str | None = None) -> Bars: ...


@runtime_checkable
class Cache(Protocol):
    """A byte cache with per-key TTL (``ttl_seconds <= 0`` stores nothing and drops the key).
    Failures degrade to a miss, never to an error."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None: ...

    async def close(self) -> None: ...


@runtime_checkable
class InProcessCache(Cache, Protocol):
    """A cache held in this process, readable without awaiting: ``get_now(key)`` is
    ``get(key)`` (a replay reads it on its synchronous path, with no coroutine per bar)."""

    def get_now(self, key: str) -> bytes | None: ...
