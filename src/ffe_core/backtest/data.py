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
from ffe_core.kernels import kernel

FloatArray = npt.NDArray[np.float64]
TimeArray = npt.NDArray[np.datetime64]
IntArray = npt.NDArray[np.int64]

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


_NAT = np.iinfo(np.int64).min


@kernel
def _first_invalid(
    o: FloatArray, h: FloatArray, lo: FloatArray, c: FloatArray, t: IntArray, ordered: bool
) -> tuple[int, int]:
    """(row, problem) of the first bad bar in one pass, (-1, -1) when every bar is good.

    Problems: ``2k`` column k not finite, ``2k + 1`` column k not positive (k: open, high, low,
    close), 8 high < low, 9 time missing, 10 time not after the previous one.
    """
    cols = (o, h, lo, c)
    timed = t.shape[0] > 0
    for i in range(c.shape[0]):
        for k in range(4):
            x = cols[k][i]
            if not np.isfinite(x):
                return i, 2 * k
            if x <= 0:
                return i, 2 * k + 1
        if h[i] < lo[i]:
            return i, 8
        if timed:
            if t[i] == _NAT:
                return i, 9
            if ordered and i > 0 and t[i] <= t[i - 1]:
                return i, 10
    return -1, -1


def validate_bars(
    bars: Bars, *, row_name: Callable[[int], str] = _row_name, ordered: bool = True
) -> None:
    """Raise ValidationFailed naming the first bad row: empty, NaN/inf, not positive, high < low,
    time missing or (``ordered``) not increasing."""
    n = len(bars)
    if n == 0:
        raise ValidationFailed("no bars: the data is empty")
    for name in _COLUMNS[:4]:
        arr = getattr(bars, name)
        if arr.shape != (n,):
            raise ValidationFailed(f"column {name} has shape {arr.shape}, expected ({n},)")
    if bars.time is not None and bars.time.shape != (n,):
        raise ValidationFailed(f"time has shape {bars.time.shape}, expected ({n},)")
    t = np.empty(0, np.int64) if bars.time is None else bars.time.view(np.int64)
    i, problem = _first_invalid(bars.open, bars.high, bars.low, bars.close, t, ordered)
    if i < 0:
        return
    where = row_name(int(i))
    if problem < 8:
        name = _COLUMNS[problem // 2]
        reason = "is not a finite number" if problem % 2 == 0 else "must be positive"
        raise ValidationFailed(f"{where}: {name} {reason}")
    if problem == 8:
        raise ValidationFailed(f"{where}: high {bars.high[i]} < low {bars.low[i]}")
    if problem == 9:
        raise ValidationFailed(f"{where}: time is missing")
    assert bars.time is not None
    raise ValidationFailed(
        f"{where}: time {bars.time[i]} is not after the previous {bars.time[i - 1]}"
    )
