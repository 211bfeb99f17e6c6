"""Built-in order-level strategies, compiled: selectable by name in ``ffe backtest``.

Each is a :class:`~ffe_core.backtest.orders.CompiledStrategy` whose ``next`` runs inside the
compiled bar loop and places orders through :mod:`ffe_core.backtest.order_kernel`.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ffe_core import indicators as ind
from ffe_core.backtest import order_kernel as ok
from ffe_core.backtest.data import Bars
from ffe_core.backtest.orders import CompiledStrategy
from ffe_core.kernels import kernel

FloatArray = npt.NDArray[np.float64]


@kernel
def _bracket_next(
    book: ok.Book,
    i: int,
    o: FloatArray,
    h: FloatArray,
    lo: FloatArray,
    c: FloatArray,
    x: FloatArray,
    p: FloatArray,
) -> None:  # pragma: no cover - compiled
    fast, slow = x[0], x[1]
    size, sl, tp, trail = p[0], p[1], p[2], p[3]
    up = fast[i - 1] < slow[i - 1] and fast[i] > slow[i]
    down = slow[i - 1] < fast[i - 1] and slow[i] > fast[i]
    if up:
        if ok.position_size(book) <= 0.0:
            ok.close_position(book, 1.0)
            nan = math.nan
            ok.place(
                book,
                size,
                1.0 if size < 1.0 else 0.0,
                nan,
                nan,
                c[i] * (1.0 - sl) if sl > 0.0 else nan,
                c[i] * (1.0 + tp) if tp > 0.0 else nan,
                trail,
            )
    elif down:
        ok.close_position(book, 1.0)


def _two_averages(bars: Bars, *, fast: int, slow: int, **_: float) -> FloatArray:
    return np.vstack([ind.sma(bars.close, int(fast)), ind.sma(bars.close, int(slow))])


def _bracket_numbers(*, size: float, sl: float, tp: float, trail: float, **_: float) -> FloatArray:
    return np.array([size, sl, tp, trail], dtype=np.float64)


SMA_BRACKET = CompiledStrategy(
    _bracket_next,
    _two_averages,
    _bracket_numbers,
    {"fast": 10, "slow": 30, "size": 1 - 2**-52, "sl": 0.0, "tp": 0.0, "trail": 0.0},
)
"""Long after SMA(fast) crosses above SMA(slow), out after it crosses below; each entry with
SL/TP at ``close * (1 -+ sl/tp)`` and a trailing stop ``trail`` (fractions; 0 = none)."""

ORDER_STRATEGIES: dict[str, CompiledStrategy] = {"sma_bracket": SMA_BRACKET}
"""Name -> compiled order-level strategy; what ``ffe backtest --strategy`` also accepts."""
