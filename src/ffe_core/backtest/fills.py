"""The fill model as small pure functions: the one source of the fill rules.

The compiled simulator calls them as numba kernels; the paper broker
(:mod:`ffe_core.services.fill_model`) runs the very same functions as plain Python on
``Decimal`` prices (:func:`ffe_core.kernels.python_of`). So the price rules (``commission``,
``market_fill``, ``entry_price``, ``stop_fill``, ``limit_fill``) use integer literals and
operators that float and ``Decimal`` share.

Prices are floats; ``direction`` is +1 for a buy (long entry / short exit) and -1 for a sell.
The rules follow backtesting.py 0.6 so results can be compared one for one:

* A market order decided on bar ``i`` fills at bar ``i + 1``'s open (default) or, with
  ``trade_on_close``, at bar ``i``'s close.
* Spread is charged in full on entry (the entry price is ``price * (1 + spread)`` for a long),
  not on exit. Slippage is an adverse fraction on market and stop fills, never on limit fills.
* Commission is ``fixed + |size| * price * relative`` on each fill, entry and exit.
* Stop-loss and take-profit are checked against the bar's range. When both are inside one bar
  the stop-loss wins (we cannot know which came first, so we assume the worse). A gap through
  a stop fills at the open (worse than the stop); a gap through a take-profit fills at the open
  (better than the limit).
* Whole-unit sizing floors ``equity * fraction / (price + commission per unit)`` exactly as
  Python's ``//`` does; fractional sizing skips the floor (crypto).
"""

from __future__ import annotations

import math

import numpy as np

from ffe_core.kernels import kernel

__all__ = [
    "commission",
    "entry_price",
    "floordiv",
    "limit_fill",
    "market_fill",
    "order_size",
    "sl_tp_exit",
    "stop_fill",
]


@kernel
def commission(size: float, price: float, fixed: float, relative: float) -> float:
    """Commission of one fill: ``fixed + |size| * price * relative`` (never negative inputs)."""
    return fixed + abs(size) * price * relative


@kernel
def market_fill(price: float, direction: int, slippage: float) -> float:
    """A market (or triggered stop) fill: ``price`` moved against the trader by ``slippage``."""
    return price * (1 + direction * slippage)


@kernel
def entry_price(fill: float, direction: int, spread: float) -> float:
    """The price a new position is booked at: the fill plus the full spread against us
    (``direction`` is +1 or -1)."""
    return fill * (1 + direction * spread)


@kernel
def floordiv(a: float, b: float) -> float:
    """Python's float ``a // b`` (CPython's algorithm), so unit counts match backtesting.py."""
    q = a / b
    if a > 0.0 and b > 0.0 and q < 2.0**51:
        # Positive and well below 2**53, ``a // b`` is the floor of the exact quotient. That is
        # floor(q) unless q (rounded) is a whole number the exact quotient may lie just below:
        # rounding is monotonic, so an exact quotient below floor(q) cannot round above it.
        fq = math.floor(q)
        if fq != q:
            return float(fq)
    mod = float(np.fmod(a, b))
    div = (a - mod) / b
    if mod != 0.0 and ((b < 0.0) != (mod < 0.0)):
        div -= 1.0
    if div == 0.0:
        return math.copysign(0.0, a / b)
    fl = float(math.floor(div))
    if div - fl > 0.5:
        fl += 1.0
    return fl


@kernel
def order_size(
    equity: float,
    fraction: float,
    fill: float,
    direction: int,
    spread: float,
    fixed: float,
    relative: float,
    step: float,
) -> float:
    """Units bought with ``fraction`` of ``equity`` at ``fill``; 0 when not even one step fits.

    ``step`` 1.0 buys whole units, 0 buys fractional units, any other value multiples of it.
    A fraction of 1 means "all equity", taken as ``1 - 2**-52`` as backtesting.py does.
    """
    frac = min(fraction, 1.0 - 2.220446049250313e-16)
    adjusted = entry_price(fill, direction, spread)
    per_unit = adjusted + commission(frac, fill, fixed, relative) / frac
    budget = max(0.0, equity) * frac
    if step == 1.0:
        units = floordiv(budget, per_unit)
    elif step <= 0.0:
        units = budget / per_unit
    else:
        units = math.floor(budget / (per_unit * step)) * step
    if units <= 0.0 or units * per_unit > max(0.0, equity):
        return 0.0
    return units


@kernel
def stop_fill(stop: float, direction: int, open_: float, high: float, low: float) -> float:
    """Fill price of a stop order on this bar, or NaN if not triggered.

    A buy stop triggers when ``high >= stop`` and fills at ``max(open, stop)``; a sell stop
    when ``low <= stop`` at ``min(open, stop)``.
    """
    if direction > 0:
        return max(open_, stop) if high >= stop else math.nan
    return min(open_, stop) if low <= stop else math.nan


@kernel
def limit_fill(limit: float, direction: int, open_: float, high: float, low: float) -> float:
    """Fill price of a limit order on this bar, or NaN: a buy fills at ``min(open, limit)``."""
    if direction > 0:
        return min(open_, limit) if low <= limit else math.nan
    return max(open_, limit) if high >= limit else math.nan


@kernel
def sl_tp_exit(
    side: int, sl: float, tp: float, open_: float, high: float, low: float
) -> tuple[float, int]:
    """Exit of a position with side +1/-1 on this bar: (price, reason) or (NaN, 0).

    Reason 1 is the stop-loss, 2 the take-profit. Both in range: the stop-loss wins.
    NaN levels are inactive.
    """
    exit_dir = -side
    if not math.isnan(sl):
        px = stop_fill(sl, exit_dir, open_, high, low)
        if not math.isnan(px):
            return px, 1
    if not math.isnan(tp):
        px = limit_fill(tp, exit_dir, open_, high, low)
        if not math.isnan(px):
            return px, 2
    return math.nan, 0
