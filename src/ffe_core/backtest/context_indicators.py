"""The replay contexts' indicators, computed once per series and read per bar.

A replayed context holds ``compute_indicators(window)`` - 18 indicators over the last
``history`` bars. Recomputing them per bar costs O(history) numpy calls per bar;
:func:`indicators_at` instead reads bar ``i``'s values from arrays computed once for the series
with the windowed functions of :mod:`ffe_core.indicators.windowed` (bit for bit each indicator's
last value on the window) and, for the EMAs and the MACD, :func:`~ffe_core.indicators.windowed.ema_macd`,
which replays ``ind.ema`` / ``ind.macd``'s steps over every window. Tests hold the result equal,
bar for bar and key for key, to :func:`~ffe_core.services.context.compute_indicators`.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ffe_core import indicators as ind
from ffe_core.domain.series import BarSeries
from ffe_core.indicators import windowed as win

FloatArray = npt.NDArray[np.float64]
Columns = dict[str, list[float]]


def _span(n: int, history: int | None) -> int:
    return n if history is None else min(int(history), n)


def series_indicators(s: BarSeries) -> Columns:
    """Every bar's indicator values (NaN where ``compute_indicators`` leaves one out), as lists
    (reading a bar's value from a list gives a float at once)."""
    arrays = s.derived("context_indicator_arrays", indicator_arrays)
    return {k: v.tolist() for k, v in arrays.items()}


def indicator_arrays(s: BarSeries) -> dict[str, FloatArray]:
    """:func:`series_indicators` as arrays; the averages and the ATR other readers of the
    series use are computed once for all of them (``win.series_sma``, ``win.series_atr``)."""
    c, hi, lo, h = s.close, s.high, s.low, s.history
    n = c.shape[0]
    w = win.window_lengths(n, h)
    ema_macd = win.ema_macd(c, 12, 26, 9, h)
    sma_20 = win.series_sma(s, 20)  # as win.bollinger(c, 20, 2.0, h), the average shared
    mid, upper, lower = ind.bands(sma_20, win.rolling_std(c, 20, h, 0), 2.0)
    # The channel of the bars before this one: a 1-bar window shows its own high and low.
    don_hi, don_lo = np.full(n, np.nan), np.full(n, np.nan)
    don_hi[1:], don_lo[1:] = ind.rolling_max(hi, 20)[:-1], ind.rolling_min(lo, 20)[:-1]
    don_hi[w < 21], don_lo[w < 21] = np.nan, np.nan
    don_hi[w == 1], don_lo[w == 1] = hi[w == 1], lo[w == 1]
    r1, r20 = np.full(n, np.nan), np.full(n, np.nan)
    r1[1:] = c[1:] / c[:-1] - 1.0
    r1[w < 2] = np.nan
    r20[20:] = c[20:] / c[:-20] - 1
    r20[w <= 20] = np.nan
    columns = {
        "close": c,
        "sma_20": sma_20,
        "sma_50": win.series_sma(s, 50),
        "ema_12": ema_macd[0],
        "ema_26": ema_macd[1],
        "rsi_14": win.rsi(c, 14, h),
        "macd": ema_macd[2],
        "macd_signal": ema_macd[3],
        "macd_hist": ema_macd[4],
        "atr_14": win.series_atr(s, 14),
        "bb_mid": mid,
        "bb_upper": upper,
        "bb_lower": lower,
        "donchian_high_20": don_hi,
        "donchian_low_20": don_lo,
        "return_1": r1,
        "return_20": r20,
        "volatility_20": win.volatility(c, 20, h),
    }
    return {k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}


def indicators_at(s: BarSeries, i: int) -> dict[str, float]:
    """``compute_indicators`` of bar ``i``'s window, read from :func:`series_indicators`."""
    columns = s.derived("context_indicators", series_indicators)
    isfinite = math.isfinite
    return {k: v[i] for k, v in columns.items() if isfinite(v[i])}
