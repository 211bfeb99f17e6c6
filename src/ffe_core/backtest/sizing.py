"""Unit sizing defaults for a backtest, and the warning when sizing leaves a run without trades."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt

from ffe_core.backtest.data import Bars
from ffe_core.backtest.simulator import FillConfig


def unit_step_for(size_increment: Decimal | float) -> float:
    """The backtest's unit step for an instrument: its own increment when that is fractional
    (crypto trades 0.00000001 BTC), whole units otherwise (equities, lots)."""
    step = float(size_increment)
    return step if 0 < step < 1 else 1.0


def unaffordable(
    bars: Bars, config: FillConfig, target: npt.ArrayLike | None = None, trades: int = 0
) -> str | None:
    """Why a run made no trade when the reason is that cash cannot buy one unit, else None.

    ``target`` narrows the prices to the bars where the strategy wanted a position; without it
    (a parameter search) the cheapest close of the data is used, so the warning means that no
    parameter combination can trade.
    """
    if trades or config.unit_step <= 0:
        return None
    close = bars.close
    if target is not None:
        close = close[np.asarray(target) != 0]
    if not close.size:
        return None
    price = float(close.min())
    budget = config.cash * config.size
    if budget >= config.unit_step * price:
        return None
    return (
        f"0 trades: {budget:,.2f} of cash cannot buy one unit ({config.unit_step:g}) at "
        f"{price:,.6g}, the lowest close{' where the strategy wanted a position' if target is not None else ''}; "
        "trade fractional units (--fractional) or raise --cash"
    )
