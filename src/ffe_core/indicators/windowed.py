"""Indicators as a live decision sees them: the last value over each bar's trailing window.

A provider asked at bar ``i`` gets the last ``history`` bars ending at ``i`` and computes its
indicators on that window, so recursions (EMA, MACD, Wilder's RSI and ATR) are seeded at the
window's first bar and even the running sum of an SMA starts there. These functions return, for
every bar ``i``, exactly ``ind.<indicator>(window_i)[-1]`` - bit for bit: while ``i < history``
the window is the whole prefix and the kernels of :mod:`ffe_core.indicators` give its values;
full windows replay those kernels' floating-point steps in the same order, a block of windows
side by side in SIMD lanes (the tests compare every value with the indicator run on the window).
``history=None`` means unbounded windows. Cost is O(n x history) compiled steps, about 0.1 ms
per indicator for 2,000 bars of 200-bar windows.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ffe_core import indicators as ind
from ffe_core.domain.series import BarSeries
from ffe_core.kernels import kernel

FloatArray = npt.NDArray[np.float64]

_sma_kernel = ind._sma_kernel
window_mean = ind.window_mean
_ema_kernel = ind._ema_kernel
_wilder_kernel = ind._wilder_kernel


def _span(n: int, history: int | None) -> int:
    if history is not None and history < 1:
        raise ValueError(f"history must be >= 1 or None, got {history}")
    return n if history is None else min(int(history), n)


def window_lengths(n: int, history: int | None) -> npt.NDArray[np.int64]:
    """How many bars the window of each bar holds: ``min(i + 1, history)``."""
    return np.minimum(np.arange(1, n + 1, dtype=np.int64), _span(n, history))


_BLOCK = 128
"""Windows advanced side by side. Each step of the indicator's recursion is applied to a block
of consecutive windows in one loop without branches, which the compiler turns into SIMD
instructions (every window's chain keeps its own operations in their order: no value changes);
the block's state stays in the L1 cache."""


@kernel
def _windowed_sma(x: FloatArray, p: int, h: int) -> FloatArray:  # pragma: no cover - compiled
    n = x.shape[0]
    out = _sma_kernel(x[: min(n, h)], p)
    res = np.full(n, np.nan)
    res[: out.shape[0]] = out
    if h < p:
        return res
    # window_mean's exact cases read the last p values only, the same in every window >= p.
    run = np.zeros(n, dtype=np.int64)
    neg = np.zeros(n, dtype=np.int64)
    r = 0
    k_neg = 0
    for i in range(n):
        r = r + 1 if i > 0 and x[i] == x[i - 1] else 1
        k_neg += x[i] < 0.0
        if i >= p:
            k_neg -= x[i - p] < 0.0
        run[i] = r
        neg[i] = k_neg
    s = np.zeros(_BLOCK)
    c_add = np.zeros(_BLOCK)
    c_rem = np.zeros(_BLOCK)
    for i0 in range(h, n, _BLOCK):
        lanes = min(_BLOCK, n - i0)
        s[:] = 0.0
        c_add[:] = 0.0
        c_rem[:] = 0.0
        lo = i0 + 1 - h  # window i0 + j starts at bar lo + j
        # _sma_kernel's steps over each window [i + 1 - h, i], i = i0 .. i0 + lanes - 1.
        for k in range(h):
            if k >= p:
                b = x[lo + k - p : lo + k - p + lanes]
                for j in range(lanes):  # kahan_add(s, c_rem, -x[.. - p])
                    y = -b[j] - c_rem[j]
                    t = s[j] + y
                    c_rem[j] = (t - s[j]) - y
                    s[j] = t
            a = x[lo + k : lo + k + lanes]
            for j in range(lanes):  # kahan_add(s, c_add, x[..])
                y = a[j] - c_add[j]
                t = s[j] + y
                c_add[j] = (t - s[j]) - y
                s[j] = t
        for j in range(lanes):
            i = i0 + j
            res[i] = window_mean(s[j], p, run[i], neg[i], x[i])
    return res


def sma(x: npt.ArrayLike, period: int, history: int | None) -> FloatArray:
    """``ind.sma(window)[-1]`` for every bar's window."""
    a = np.ascontiguousarray(x, dtype=np.float64)
    return _windowed_sma(a, ind._check_period(period), _span(a.shape[0], history))


@kernel
def _prefix_macd_hist(
    c: FloatArray, fast: int, slow: int, signal: int
) -> FloatArray:  # pragma: no cover
    # ind.macd(c)[2]: its value at i reads only c[: i + 1] by the same steps, so it is the
    # histogram's last value on the window [0, i].
    line = _ema_kernel(c, fast, 2.0 / (fast + 1.0)) - _ema_kernel(c, slow, 2.0 / (slow + 1.0))
    res = np.full(c.shape[0], np.nan)
    for v in range(line.shape[0]):
        if not np.isnan(line[v]):
            sig = _ema_kernel(np.ascontiguousarray(line[v:]), signal, 2.0 / (signal + 1.0))
            res[v:] = line[v:] - sig
            break
    return res


@kernel
def _windowed_macd_hist(
    c: FloatArray, fast: int, slow: int, signal: int, h: int
) -> FloatArray:  # pragma: no cover - compiled
    n = c.shape[0]
    res = np.full(n, np.nan)
    res[: min(n, h)] = _prefix_macd_hist(c[: min(n, h)], fast, slow, signal)
    v0 = max(fast, slow) - 1  # the line's first value (finite inputs)
    if h - v0 < signal:
        return res
    af, a_s, ag = 2.0 / (fast + 1.0), 2.0 / (slow + 1.0), 2.0 / (signal + 1.0)
    ef, es, eg, line = np.zeros(_BLOCK), np.zeros(_BLOCK), np.zeros(_BLOCK), np.zeros(_BLOCK)
    for i0 in range(h, n, _BLOCK):
        lanes = min(_BLOCK, n - i0)
        ef[:] = 0.0
        es[:] = 0.0
        eg[:] = 0.0
        lo = i0 + 1 - h
        # ind.macd's steps (three _ema_kernel runs, the last value) over windows ending at i0, i0 + 1, ...
        for k in range(h):
            x = c[lo + k : lo + k + lanes]
            if k < fast:
                for j in range(lanes):
                    ef[j] += x[j]
                if k == fast - 1:
                    for j in range(lanes):
                        ef[j] = ef[j] / fast
            else:
                for j in range(lanes):
                    ef[j] = af * x[j] + (1.0 - af) * ef[j]
            if k < slow:
                for j in range(lanes):
                    es[j] += x[j]
                if k == slow - 1:
                    for j in range(lanes):
                        es[j] = es[j] / slow
            else:
                for j in range(lanes):
                    es[j] = a_s * x[j] + (1.0 - a_s) * es[j]
            if k >= v0:
                for j in range(lanes):
                    line[j] = ef[j] - es[j]
                if k - v0 < signal:
                    for j in range(lanes):
                        eg[j] += line[j]
                    if k - v0 == signal - 1:
                        for j in range(lanes):
                            eg[j] = eg[j] / signal
                else:
                    for j in range(lanes):
                        eg[j] = ag * line[j] + (1.0 - ag) * eg[j]
        for j in range(lanes):
            res[i0 + j] = line[j] - eg[j]
    return res


def macd_hist(
    close: npt.ArrayLike, history: int | None, fast: int = 12, slow: int = 26, signal: int = 9
) -> FloatArray:
    """``ind.macd(window, fast, slow, signal)[2][-1]`` (the histogram) for every bar's window."""
    c = np.ascontiguousarray(close, dtype=np.float64)
    f, s, g = (ind._check_period(p) for p in (fast, slow, signal))
    return _windowed_macd_hist(c, f, s, g, _span(c.shape[0], history))


@kernel
def _windowed_wilder(
    x: FloatArray, first_value: FloatArray, p: int, first: int, h: int
) -> FloatArray:  # pragma: no cover - compiled
    # Wilder smoothing from window index `first`; a window starting at bar s sees
    # first_value[s] in place of x[s] (e.g. the true range of its first bar has no prior close).
    n = x.shape[0]
    m = min(n, h)
    res = np.full(n, np.nan)
    if n == 0:
        return res
    buf = np.empty(m)
    # While the window is the prefix [0, i], one pass gives every window's last value.
    buf[:] = x[:m]
    buf[0] = first_value[0]
    res[:m] = _wilder_kernel(buf, p, first)
    if h < first + p:
        return res
    acc = np.zeros(_BLOCK)
    for i0 in range(h, n, _BLOCK):
        lanes = min(_BLOCK, n - i0)
        lo = i0 + 1 - h  # window i0 + j starts at bar lo + j
        # _wilder_kernel's steps over each window [i + 1 - h, i], i = i0 .. i0 + lanes - 1.
        acc[:] = 0.0
        for k in range(first, first + p):
            a = first_value[lo : lo + lanes] if k == 0 else x[lo + k : lo + k + lanes]
            for j in range(lanes):
                acc[j] += a[j]
        for j in range(lanes):
            acc[j] /= p
        for k in range(first + p, h):
            a = x[lo + k : lo + k + lanes]
            for j in range(lanes):
                acc[j] = (acc[j] * (p - 1) + a[j]) / p
        for j in range(lanes):
            res[i0 + j] = acc[j]
    return res


def atr(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int, history: int | None
) -> FloatArray:
    """``ind.atr(window_high, window_low, window_close, period)[-1]`` for every bar's window."""
    h = np.ascontiguousarray(high, dtype=np.float64)
    lo = np.ascontiguousarray(low, dtype=np.float64)
    c = np.ascontiguousarray(close, dtype=np.float64)
    prev = np.empty_like(c)
    prev[:1] = c[:1]
    prev[1:] = c[:-1]
    tr = np.maximum(h - lo, np.maximum(np.abs(h - prev), np.abs(lo - prev)))
    # The first bar of a window is its own previous close, as ind.atr does for its first bar.
    own = np.maximum(h - lo, np.maximum(np.abs(h - c), np.abs(lo - c)))
    return _windowed_wilder(tr, own, ind._check_period(period), 0, _span(c.shape[0], history))


def rsi(close: npt.ArrayLike, period: int, history: int | None) -> FloatArray:
    """``ind.rsi(window, period)[-1]`` for every bar's window."""
    c = np.ascontiguousarray(close, dtype=np.float64)
    p, span = ind._check_period(period), _span(c.shape[0], history)
    diff = np.zeros_like(c)
    diff[1:] = np.diff(c)
    up, down = np.maximum(diff, 0.0), np.maximum(-diff, 0.0)
    # Smoothing starts at window index 1, so the window's first difference is never used.
    return ind.rsi_of(
        _windowed_wilder(up, up, p, 1, span), _windowed_wilder(down, down, p, 1, span)
    )


def rolling_std(x: npt.ArrayLike, period: int, history: int | None, ddof: int = 0) -> FloatArray:
    """``ind.rolling_std(window, period, ddof)[-1]``: each value only reads its last bars."""
    a = np.ascontiguousarray(x, dtype=np.float64)
    out = ind.rolling_std(a, period, ddof)
    out[window_lengths(a.shape[0], history) < period] = np.nan
    return out


def bollinger(
    close: npt.ArrayLike, period: int, k: float, history: int | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``ind.bollinger(window, period, k)`` last values (middle, upper, lower) per window."""
    return ind.bands(sma(close, period, history), rolling_std(close, period, history, 0), k)


def volatility(close: npt.ArrayLike, period: int, history: int | None) -> FloatArray:
    """``ind.volatility(window, period)[-1]``: sample std of the window's last log returns."""
    c = np.ascontiguousarray(close, dtype=np.float64)
    out = ind.volatility(c, period)
    out[window_lengths(c.shape[0], history) < period + 1] = np.nan
    return out


@kernel
def _windowed_ema_macd(
    c: FloatArray, fast: int, slow: int, signal: int, h: int
) -> FloatArray:  # pragma: no cover - compiled
    # Rows: EMA(fast), EMA(slow), MACD line, signal, histogram - each the last value of
    # ind.ema / ind.macd on the window [max(0, i + 1 - h), i], replaying their steps in order.
    n = c.shape[0]
    out = np.full((5, n), np.nan)
    af, a_s, ag = 2.0 / (fast + 1.0), 2.0 / (slow + 1.0), 2.0 / (signal + 1.0)
    v0 = max(fast, slow) - 1  # the line's first value (finite inputs)
    for i in range(n):
        lo = max(0, i + 1 - h)
        m = i + 1 - lo
        ef = 0.0
        es = 0.0
        eg = 0.0
        line = 0.0
        for k in range(m):
            x = c[lo + k]
            if k < fast:
                ef += x
                if k == fast - 1:
                    ef = ef / fast
            else:
                ef = af * x + (1.0 - af) * ef
            if k < slow:
                es += x
                if k == slow - 1:
                    es = es / slow
            else:
                es = a_s * x + (1.0 - a_s) * es
            if k >= v0:
                line = ef - es
                if k - v0 < signal:
                    eg += line
                    if k - v0 == signal - 1:
                        eg = eg / signal
                else:
                    eg = ag * line + (1.0 - ag) * eg
        if m >= fast:
            out[0, i] = ef
        if m >= slow:
            out[1, i] = es
        if m > v0:
            out[2, i] = line
        if m - v0 >= signal:
            out[3, i] = eg
            out[4, i] = line - eg
    return out


def ema_macd(
    close: npt.ArrayLike, fast: int, slow: int, signal: int, history: int | None
) -> FloatArray:
    """Rows EMA(fast), EMA(slow), MACD line, signal and histogram: at each bar, the last value
    of ``ind.ema`` / ``ind.macd`` on its trailing window of ``history`` bars (bit for bit)."""
    c = np.ascontiguousarray(close, dtype=np.float64)
    return _windowed_ema_macd(c, int(fast), int(slow), int(signal), _span(c.shape[0], history))


def series_sma(s: BarSeries, period: int) -> FloatArray:
    """:func:`sma` of the series' closes over its windows, computed once per series (every
    provider voting on the series shares it)."""
    return s.derived(("sma", period), lambda s: sma(s.close, period, s.history))


def series_atr(s: BarSeries, period: int) -> FloatArray:
    """:func:`atr` of the series over its windows, computed once per series."""
    return s.derived(("atr", period), lambda s: atr(s.high, s.low, s.close, period, s.history))
