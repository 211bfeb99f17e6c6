"""A replayed instrument's bars as arrays, so a provider computes an indicator once per series.

The backtest replay asks providers bar by bar. Recomputing an indicator over each bar's window
costs O(history) per bar and provider; a provider that finds ``context.series`` set instead
computes the indicator once for the whole series with the windowed functions of
:mod:`ffe_core.indicators.windowed` (which give, bit for bit, the indicator's last value on each
bar's window) and reads bar ``index``. Live contexts leave ``series`` unset.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T")
FloatArray = npt.NDArray[np.float64]


@dataclass(eq=False, repr=False)
class BarSeries:
    """The whole series being replayed and what providers derived from it.

    The arrays hold bars after the one being decided, so whatever a provider derives must be
    causal and windowed: its value at bar ``i`` a function of the last ``history`` bars ending
    at ``i`` (all bars up to ``i`` when ``history`` is None), as a live decision would see them.
    """

    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    """As the domain bars carry it (NaN as 0)."""
    history: int | None
    time: FloatArray | None = None
    """Each bar's ``ts.timestamp()`` as the decision contexts' bars carry it, when known."""
    _derived: dict[Hashable, Any] = field(default_factory=dict)

    def derived(self, key: Hashable, compute: Callable[[BarSeries], T]) -> T:
        """``compute(self)``, computed on the first call with ``key`` and kept for the series."""
        try:
            return self._derived[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self._derived[key] = compute(self)
            return value

    def __eq__(self, other: object) -> bool:
        """Equal when holding the same bars and history (what was derived does not count)."""
        if not isinstance(other, BarSeries):
            return NotImplemented
        return self is other or (
            self.history == other.history
            and all(
                np.array_equal(getattr(self, f), getattr(other, f), equal_nan=True)
                for f in ("open", "high", "low", "close", "volume")
            )
            and _same_times(self.time, other.time)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"BarSeries(bars={self.close.shape[0]}, history={self.history})"


def _same_times(a: FloatArray | None, b: FloatArray | None) -> bool:
    if a is None or b is None:
        return a is b
    return np.array_equal(a, b)


def bar_rows(s: BarSeries) -> FloatArray:
    """``(n, 6)`` rows of timestamp, open, high, low, close and volume per bar (computed once
    per series; the series must know its times)."""
    time = s.time
    if time is None:
        raise ValueError("the series does not know its bars' times")
    return s.derived(
        "bar_rows", lambda s: np.column_stack([time, s.open, s.high, s.low, s.close, s.volume])
    )


@dataclass(frozen=True, slots=True)
class SeriesCursor:
    """Bar ``index`` of ``series``: where a replayed decision context stands."""

    series: BarSeries
    index: int
