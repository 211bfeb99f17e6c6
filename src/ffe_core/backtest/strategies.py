"""Built-in signal strategies: functions of bar arrays and parameters -> int8 target per bar.

A strategy has the signature ``f(open, high, low, close, volume, **params) -> int8 array`` with
1 (long), -1 (short) or 0 (flat) at each bar, decided at that bar's close. The simulator acts on
changes of the target, so a strategy only has to say which side it wants. ``STRATEGY_SPECS``
adds what searches and reports need: defaults, a search grid, a constraint and the warm-up.
Plugins add strategies through the ``ffe_strategies`` hook (see ``docs/backtesting.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ffe_core import indicators as ind
from ffe_core.kernels import kernel

FloatArray = npt.NDArray[np.float64]
Int8Array = npt.NDArray[np.int8]
Strategy = Callable[..., Int8Array]


@kernel
def _latch(
    up: npt.NDArray[np.bool_], down: npt.NDArray[np.bool_], short: bool, start: int
) -> Int8Array:
    # Hold the side chosen by the last event from `start` on: `up` -> long, `down` -> flat/short.
    n = up.shape[0]  # pragma: no cover - compiled
    out = np.zeros(n, dtype=np.int8)
    state = 0
    low = -1 if short else 0
    for i in range(max(start, 0), n):
        if up[i]:
            state = 1
        elif down[i]:
            state = low
        out[i] = state
    return out


def crossover(a: FloatArray, b: FloatArray) -> npt.NDArray[np.bool_]:
    """True where ``a`` crossed above ``b`` on this bar (strictly below before, above now)."""
    out = np.zeros(a.shape[0], dtype=np.bool_)
    with np.errstate(invalid="ignore"):
        out[1:] = (a[:-1] < b[:-1]) & (a[1:] > b[1:])
    return out


def latch(
    up: npt.NDArray[np.bool_],
    down: npt.NDArray[np.bool_],
    *,
    short: bool = False,
    start: int = 0,
) -> Int8Array:
    """Target positions from entry/exit events: long after ``up``, flat (short) after ``down``.

    Events before bar ``start`` are ignored (see :func:`first_decision_bar`).
    """
    return _latch(np.ascontiguousarray(up), np.ascontiguousarray(down), bool(short), int(start))


def first_decision_bar(*indicators: FloatArray) -> int:
    """The bar of backtesting.py's first ``next()`` for these indicators: one after warm-up.

    backtesting.py starts calling ``next()`` once every indicator has a value *and* one bar of
    history exists, so a level rule (``rsi < 30``) is first evaluated one bar after the first
    valid indicator value; latching from this bar reproduces that.
    """
    warm = max((int(np.isnan(x).argmin()) for x in indicators), default=0)
    return 1 + warm


def _ma_cross(fast_ma: FloatArray, slow_ma: FloatArray, short: bool) -> Int8Array:
    return latch(crossover(fast_ma, slow_ma), crossover(slow_ma, fast_ma), short=short)


@kernel
def _cross_latch(a: FloatArray, b: FloatArray, short: bool) -> Int8Array:  # pragma: no cover
    # _ma_cross(a, b, short) in one pass, without the two event arrays.
    n = a.shape[0]
    out = np.empty(n, dtype=np.int8)
    pa = np.nan
    pb = np.nan
    state = 0
    low = -1 if short else 0
    for i in range(n):
        x = a[i]
        y = b[i]
        if pa < pb and x > y:
            state = 1
        elif pb < pa and y > x:
            state = low
        out[i] = state
        pa = x
        pb = y
    return out


def sma_cross(
    open: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    *,
    fast: int = 10,
    slow: int = 30,
    short: bool = False,
) -> Int8Array:
    """Long after SMA(fast) crosses above SMA(slow); flat (or short) after it crosses below.

    One compiled pass (running sums, crossovers and the held side): ``_ma_cross`` of the two
    :func:`ind.sma` series, without the intermediate arrays."""
    c = np.ascontiguousarray(close, dtype=np.float64)
    f, s = ind._check_period(fast), ind._check_period(slow)
    return ind.sma_cross_target(c, f, s, bool(short))


def ema_cross(
    open: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    *,
    fast: int = 12,
    slow: int = 26,
    short: bool = False,
) -> Int8Array:
    """Like :func:`sma_cross` with exponential averages."""
    return _ma_cross(ind.ema(close, fast), ind.ema(close, slow), short)


def rsi_reversion(
    open: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    *,
    period: int = 14,
    lower: float = 30.0,
    upper: float = 70.0,
    short: bool = False,
) -> Int8Array:
    """Long when RSI closes below ``lower``; flat (or short) when it closes above ``upper``."""
    r = ind.rsi(close, period)
    with np.errstate(invalid="ignore"):
        return latch(r < lower, r > upper, short=short, start=first_decision_bar(r))


def bollinger(
    open: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    *,
    period: int = 20,
    k: float = 2.0,
    short: bool = False,
) -> Int8Array:
    """Mean reversion: long on a close below the lower band, flat (short) above the upper."""
    _, upper, lower = ind.bollinger(close, period, k)
    with np.errstate(invalid="ignore"):
        up, down = close < lower, close > upper
    return latch(up, down, short=short, start=first_decision_bar(upper, lower))


def donchian_breakout(
    open: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    *,
    period: int = 20,
    short: bool = False,
) -> Int8Array:
    """Long when the close breaks the previous ``period``-bar high; out (short) below the low."""
    upper, lower = ind.donchian(high, low, period)
    prev_up = np.full_like(upper, np.nan)
    prev_lo = np.full_like(lower, np.nan)
    prev_up[1:] = upper[:-1]
    prev_lo[1:] = lower[:-1]
    with np.errstate(invalid="ignore"):
        up, down = close > prev_up, close < prev_lo
    return latch(up, down, short=short, start=first_decision_bar(prev_up, prev_lo))


def macd(
    open: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    *,
    fast: int = 12,
    slow: int = 26,
    signal: int = 9,
    short: bool = False,
) -> Int8Array:
    """Long after the MACD line crosses above its signal line; flat (short) after it crosses below."""
    line, sig, _ = ind.macd(close, fast, slow, signal)
    return _ma_cross(line, sig, short)


BUILTIN_STRATEGIES: dict[str, Strategy] = {
    "sma_cross": sma_cross,
    "ema_cross": ema_cross,
    "rsi_reversion": rsi_reversion,
    "bollinger": bollinger,
    "donchian_breakout": donchian_breakout,
    "macd": macd,
}
"""Name -> strategy function; what the built-in ``ffe_strategies`` hook returns."""


def _fast_below_slow(p: Mapping[str, Any]) -> bool:
    return int(p["fast"]) < int(p["slow"])


@dataclass(frozen=True)
class StrategySpec:
    """Search metadata of a strategy: a grid per parameter, a constraint, the warm-up in bars."""

    grid: Mapping[str, tuple[Any, ...]]
    constraint: Callable[[Mapping[str, Any]], bool] = field(default=lambda p: True)
    warmup: Callable[[Mapping[str, Any]], int] = field(default=lambda p: 0)


STRATEGY_SPECS: dict[str, StrategySpec] = {
    "sma_cross": StrategySpec(
        {"fast": (5, 10, 15, 20, 30), "slow": (20, 30, 50, 100, 200)},
        _fast_below_slow,
        lambda p: int(p.get("slow", 30)) - 1,
    ),
    "ema_cross": StrategySpec(
        {"fast": (5, 8, 12, 20), "slow": (21, 26, 50, 100)},
        _fast_below_slow,
        lambda p: int(p.get("slow", 26)) - 1,
    ),
    "sma_bracket": StrategySpec(  # order-level: its runs know their own warm-up
        {"fast": (5, 10, 20), "slow": (20, 30, 50), "sl": (0.0, 0.02, 0.05)}, _fast_below_slow
    ),
    "rsi_reversion": StrategySpec(
        {"period": (7, 14, 21), "lower": (20.0, 30.0), "upper": (70.0, 80.0)},
        warmup=lambda p: int(p.get("period", 14)),
    ),
    "bollinger": StrategySpec(
        {"period": (10, 20, 40), "k": (1.5, 2.0, 2.5)},
        warmup=lambda p: int(p.get("period", 20)) - 1,
    ),
    "donchian_breakout": StrategySpec(
        {"period": (10, 20, 55, 100)}, warmup=lambda p: int(p.get("period", 20))
    ),
    "macd": StrategySpec(
        {"fast": (8, 12), "slow": (21, 26), "signal": (5, 9)},
        _fast_below_slow,
        lambda p: int(p.get("slow", 26)) + int(p.get("signal", 9)) - 2,
    ),
}
"""Search grids and warm-ups of the built-ins; plugin strategies may have none (grid given)."""


@dataclass(frozen=True)
class SharedIndicators:
    """How a search shares a strategy's indicators across its candidates: each distinct
    indicator (e.g. one SMA per period) is computed once, and each candidate's target is built
    from the ones it names. The targets equal the strategy's own, bit for bit."""

    params: frozenset[str]
    """The parameters the shared form understands (others: each candidate runs the strategy)."""
    keys: Callable[[Mapping[str, Any]], tuple[int, ...]]
    """The indicators (periods) a candidate reads, in the order ``target`` takes them."""
    compute: Callable[[FloatArray, int], FloatArray]
    """One indicator of the close."""
    target: Callable[[Sequence[FloatArray], Mapping[str, Any]], Int8Array]


def _shared_ma(
    average: Callable[[FloatArray, int], FloatArray], fast: int, slow: int
) -> SharedIndicators:
    return SharedIndicators(
        params=frozenset({"fast", "slow", "short"}),
        keys=lambda p: (int(p.get("fast", fast)), int(p.get("slow", slow))),
        compute=average,
        target=lambda mas, p: _cross_latch(mas[0], mas[1], bool(p.get("short", False))),
    )


SHARED_INDICATORS: dict[Strategy, SharedIndicators] = {
    sma_cross: _shared_ma(ind.sma, 10, 30),
    ema_cross: _shared_ma(ind.ema, 12, 26),
}
"""Built-ins whose searches share indicators across candidates (``run_search``)."""


def spec_for(name: str) -> StrategySpec:
    """The spec of a strategy, or an empty one for strategies that came from plugins."""
    return STRATEGY_SPECS.get(name, StrategySpec({}))
