"""OHLCV bars as float arrays and their validation.

Files are read by the ``files`` market-data adapter (the one loader, reached through the
registry as a ``ffe_core.ports.market_data.BarFileReader``). Bad data raises
:class:`ValidationFailed` naming the row, so a backtest never runs on silently wrong input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ffe_core.domain.errors import ValidationFailed
from ffe_core.domain.market import Bar

FloatArray = npt.NDArray[np.float64]
TimeArray = npt.NDArray[np.datetime64]

_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class Bars:
    """Bars in time order: ``time`` is ``datetime64[ns]`` or None for plain bar numbers."""

    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    time: TimeArray | None = None

    def __len__(self) -> int:
        return int(self.close.shape[0])

    def slice(self, start: int, stop: int) -> Bars:
        """Bars ``[start, stop)`` as views (no copy)."""
        t = None if self.time is None else self.time[start:stop]
        return Bars(
            self.open[start:stop],
            self.high[start:stop],
            self.low[start:stop],
            self.close[start:stop],
            self.volume[start:stop],
            t,
        )


def _row_name(i: int) -> str:
    return f"row {i}"


def make_bars(
    open: npt.ArrayLike,
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    volume: npt.ArrayLike | None = None,
    time: npt.ArrayLike | None = None,
    *,
    row_name: Callable[[int], str] = _row_name,
    ordered: bool = True,
) -> Bars:
    """Build validated :class:`Bars` from array-likes; ``row_name`` words error locations.

    ``ordered=False`` lets times repeat or go back (a data-quality report wants to see them).
    """
    o, h, lo, c = (np.ascontiguousarray(a, dtype=np.float64) for a in (open, high, low, close))
    n = c.shape[0]
    v = np.full(n, np.nan) if volume is None else np.ascontiguousarray(volume, dtype=np.float64)
    t = None if time is None else np.asarray(time).astype("datetime64[ns]", copy=False)
    bars = Bars(o, h, lo, c, v, t)
    validate_bars(bars, row_name=row_name, ordered=ordered)
    return bars


def bars_of(models: Sequence[Bar]) -> Bars:
    """Arrays from bar models (what a market data source returns), times as naive UTC."""
    return make_bars(
        [b.open for b in models],
        [b.high for b in models],
        [b.low for b in models],
        [b.close for b in models],
        [b.volume for b in models],
        np.array([b.ts.replace(tzinfo=None) for b in models], dtype="datetime64[ns]"),
    )


def validate_bars(
    bars: Bars, *, row_name: Callable[[int], str] = _row_name, ordered: bool = True
) -> None:
    """Raise ValidationFailed naming the first bad row: empty, NaN/inf, high < low, time order."""
    n = len(bars)
    if n == 0:
        raise ValidationFailed("no bars: the data is empty")
    for name in _COLUMNS[:4]:
        arr = getattr(bars, name)
        if arr.shape != (n,):
            raise ValidationFailed(f"column {name} has shape {arr.shape}, expected ({n},)")
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise ValidationFailed(f"{row_name(int(bad[0]))}: {name} is not a finite number")
        bad = np.flatnonzero(arr <= 0)
        if bad.size:
            raise ValidationFailed(f"{row_name(int(bad[0]))}: {name} must be positive")
    bad = np.flatnonzero(bars.high < bars.low)
    if bad.size:
        i = int(bad[0])
        raise ValidationFailed(f"{row_name(i)}: high {bars.high[i]} < low {bars.low[i]}")
    if bars.time is not None:
        if bars.time.shape != (n,):
            raise ValidationFailed(f"time has shape {bars.time.shape}, expected ({n},)")
        nat = np.flatnonzero(np.isnat(bars.time))
        if nat.size:
            raise ValidationFailed(f"{row_name(int(nat[0]))}: time is missing")
        if not ordered:
            return
        back = np.flatnonzero(np.diff(bars.time.view(np.int64)) <= 0)
        if back.size:
            i = int(back[0]) + 1
            raise ValidationFailed(
                f"{row_name(i)}: time {bars.time[i]} is not after the previous {bars.time[i - 1]}"
            )
