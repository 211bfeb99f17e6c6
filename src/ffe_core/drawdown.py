"""The one drawdown formula: how far a value has fallen below its running peak, as a fraction.

backtesting.py's ``1 - value / peak`` (0 at a new high, 1 at zero). The same function serves
the backtest statistics (compiled, :data:`drawdown_kernel`), the reports' and the API's
drawdown curves (floats or numpy arrays) and the risk manager's kill switch (``Decimal``): it
is written with an integer literal only, so each of those types goes through it as is.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from ffe_core.kernels import kernel

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

N = TypeVar("N", float, Decimal, "FloatArray")


def drawdown(value: N, peak: N) -> N:
    """Fractional fall of ``value`` from ``peak``: ``1 - value / peak``; ``peak`` must not be 0."""
    return 1 - value / peak


drawdown_kernel = kernel(drawdown)
""":func:`drawdown` compiled, for kernels (a peak of 0 must be handled by the caller)."""


def drawdown_curve(equity: FloatArray) -> FloatArray:
    """The drawdown of every point of an equity curve from its running peak (0 where peak <= 0)."""
    import numpy as np

    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(peak > 0, drawdown(equity, peak), 0.0)


def max_drawdown(values: Iterable[float]) -> float:
    """The deepest drawdown along a sequence of values (0 when it never rises above 0)."""
    peak = 0.0
    deepest = 0.0
    for v in values:
        peak = max(peak, v)
        if peak > 0:
            deepest = max(deepest, drawdown(v, peak))
    return deepest
