"""Technical indicators over float arrays: the one indicator library.

Backtest strategies, the quant decision providers, risk sizing and replay all take their
indicators from here; :mod:`ffe_core.indicators.windowed` gives the same indicators as a live
decision sees them (each bar's value over its trailing window), built on these kernels.

Every function takes float arrays (and a period) and returns arrays of the same length whose
first bars are NaN until enough history exists (the *warm-up*). Inputs are assumed finite;
validate bars first (``ffe_core.backtest.data``). Rolling kernels are numba-compiled
(``cache=True``, ``nogil=True`` so parameter searches can run them on threads).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ffe_core.kernels import compile_kernels, kernel, tiered_kernel

FloatArray = npt.NDArray[np.float64]
Int8Array = npt.NDArray[np.int8]

__all__ = [
    "atr",
    "bands",
    "bollinger",
    "compile_tiered",
    "donchian",
    "ema",
    "kahan_add",
    "log_returns",
    "macd",
    "returns",
    "rolling_max",
    "rolling_min",
    "rolling_std",
    "rsi",
    "rsi_of",
    "sma",
    "sma_cross_target",
    "volatility",
    "window_mean",
]


def _as_float(x: npt.ArrayLike) -> FloatArray:
    return np.ascontiguousarray(x, dtype=np.float64)


def _check_period(period: int) -> int:
    p = int(period)
    if p < 1:
        raise ValueError(f"period must be >= 1, got {period}")
    return p


@tiered_kernel
def kahan_add(s: float, comp: float, x: float) -> tuple[float, float]:  # pragma: no cover
    """``s + x`` with Kahan compensation ``comp``: pandas' compensated step of a rolling mean."""
    y = x - comp
    t = s + y
    return t, (t - s) - y


@tiered_kernel
def window_mean(s: float, p: int, run: int, neg: int, last: float) -> float:  # pragma: no cover
    """pandas' mean of a full window of ``p`` values from its compensated sum ``s``: the last
    value when the last ``run`` values are equal and ``run >= p``; 0 when the sum's sign
    disagrees with every value's (``neg`` of them negative)."""
    r = s / p
    if run >= p:
        return last
    if neg == 0 and r < 0.0:
        return 0.0
    if neg == p and r > 0.0:
        return 0.0
    return r


@tiered_kernel
def _sma_kernel(x: FloatArray, p: int) -> FloatArray:  # pragma: no cover - compiled
    # pandas' rolling mean step for step (bit for bit): the value leaving the window is taken
    # off the running sum before the new one is added, each through its own Kahan compensation,
    # and window_mean's exact cases. Crossovers of two averages thus agree with pandas-based
    # tools (backtesting.py) even when the averages touch.
    n = x.shape[0]
    out = np.full(n, np.nan)
    s = 0.0
    c_add = 0.0
    c_rem = 0.0
    neg = 0
    run = 0
    last = x[0] if n else 0.0
    for i in range(n):
        if i >= p:
            v = x[i - p]
            s, c_rem = kahan_add(s, c_rem, -v)
            neg -= v < 0.0
        v = x[i]
        s, c_add = kahan_add(s, c_add, v)
        neg += v < 0.0
        run = run + 1 if v == last else 1
        last = v
        if i >= p - 1:
            out[i] = window_mean(s, p, run, neg, last)
    return out


@kernel
def sma_cross_target(
    c: FloatArray, fast: int, slow: int, short: bool
) -> Int8Array:  # pragma: no cover
    """One pass: SMA(fast) and SMA(slow) as :func:`sma` computes them (bit for bit), their
    crossovers, and the side held since the last one (1 after fast crosses above slow; 0, or -1
    with ``short``, after it crosses below)."""
    n = c.shape[0]
    out = np.empty(n, dtype=np.int8)
    sf = 0.0
    af = 0.0
    rf = 0.0
    nf = 0
    ss = 0.0
    as_ = 0.0
    rs = 0.0
    ns = 0
    run = 0
    last = c[0] if n else 0.0
    pf = np.nan
    ps = np.nan
    state = 0
    low = -1 if short else 0
    for i in range(n):
        x = c[i]
        if i >= fast:
            v = c[i - fast]
            sf, rf = kahan_add(sf, rf, -v)
            nf -= v < 0.0
        sf, af = kahan_add(sf, af, x)
        if i >= slow:
            v = c[i - slow]
            ss, rs = kahan_add(ss, rs, -v)
            ns -= v < 0.0
        ss, as_ = kahan_add(ss, as_, x)
        nf += x < 0.0
        ns += x < 0.0
        run = run + 1 if x == last else 1
        last = x
        f = window_mean(sf, fast, run, nf, x) if i >= fast - 1 else np.nan
        s = window_mean(ss, slow, run, ns, x) if i >= slow - 1 else np.nan
        if pf < ps and f > s:
            state = 1
        elif ps < pf and s > f:
            state = low
        out[i] = state
        pf = f
        ps = s
    return out


def sma(x: npt.ArrayLike, period: int) -> FloatArray:
    """Simple moving average, pandas' ``rolling(period).mean()`` bit for bit; the first
    ``period - 1`` values are NaN."""
    return _sma_kernel(_as_float(x), _check_period(period))


@tiered_kernel
def _ema_kernel(x: FloatArray, p: int, alpha: float) -> FloatArray:  # pragma: no cover
    n = x.shape[0]
    out = np.full(n, np.nan)
    if n < p:
        return out
    seed = 0.0
    for i in range(p):
        seed += x[i]
    prev = seed / p
    out[p - 1] = prev
    for i in range(p, n):
        prev = alpha * x[i] + (1.0 - alpha) * prev
        out[i] = prev
    return out


def ema(x: npt.ArrayLike, period: int) -> FloatArray:
    """Exponential moving average (alpha = 2 / (period + 1)) seeded with the first SMA."""
    p = _check_period(period)
    return _ema_kernel(_as_float(x), p, 2.0 / (p + 1.0))


@tiered_kernel
def _wilder_kernel(x: FloatArray, p: int, first: int) -> FloatArray:  # pragma: no cover
    # Wilder smoothing of x starting at index `first`: seed = mean of p values, then
    # s = (s * (p - 1) + x) / p.
    n = x.shape[0]
    out = np.full(n, np.nan)
    if n < first + p:
        return out
    s = 0.0
    for i in range(first, first + p):
        s += x[i]
    s /= p
    out[first + p - 1] = s
    for i in range(first + p, n):
        s = (s * (p - 1) + x[i]) / p
        out[i] = s
    return out


def rsi(close: npt.ArrayLike, period: int = 14) -> FloatArray:
    """Wilder's relative strength index in [0, 100]; the first ``period`` values are NaN."""
    p = _check_period(period)
    c = _as_float(close)
    diff = np.empty_like(c)
    diff[0] = 0.0
    diff[1:] = np.diff(c)
    gain = _wilder_kernel(np.maximum(diff, 0.0), p, 1)
    loss = _wilder_kernel(np.maximum(-diff, 0.0), p, 1)
    return rsi_of(gain, loss)


def rsi_of(gain: FloatArray, loss: FloatArray) -> FloatArray:
    """RSI from smoothed average gain and loss: 100 - 100 / (1 + RS); 50 when both are 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 100.0 - 100.0 / (1.0 + gain / loss)
    out = np.where((loss == 0) & ~np.isnan(gain), np.where(gain == 0, 50.0, 100.0), out)
    return out.astype(np.float64)


def macd(
    close: npt.ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """MACD line (EMA fast - EMA slow), its signal EMA, and the histogram (line - signal)."""
    c = _as_float(close)
    line = ema(c, fast) - ema(c, slow)
    sig = np.full_like(line, np.nan)
    valid = np.flatnonzero(~np.isnan(line))
    if valid.size:
        sig[valid[0] :] = ema(line[valid[0] :], signal)
    return line, sig, line - sig


def atr(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14
) -> FloatArray:
    """Wilder's average true range; the first ``period - 1`` values are NaN."""
    h, lo, c = _as_float(high), _as_float(low), _as_float(close)
    prev = np.empty_like(c)
    prev[0] = c[0] if c.size else np.nan
    prev[1:] = c[:-1]
    tr = np.maximum(h - lo, np.maximum(np.abs(h - prev), np.abs(lo - prev)))
    return _wilder_kernel(tr, _check_period(period), 0)


@tiered_kernel
def _rolling_extreme(x: FloatArray, p: int, want_max: bool) -> FloatArray:  # pragma: no cover
    # Monotonic deque over indices: O(n) whatever the period.
    n = x.shape[0]
    out = np.full(n, np.nan)
    dq = np.empty(n, dtype=np.int64)
    head = 0
    tail = 0
    for i in range(n):
        v = x[i]
        while tail > head and ((x[dq[tail - 1]] <= v) if want_max else (x[dq[tail - 1]] >= v)):
            tail -= 1
        dq[tail] = i
        tail += 1
        if dq[head] <= i - p:
            head += 1
        if i >= p - 1:
            out[i] = x[dq[head]]
    return out


def rolling_max(x: npt.ArrayLike, period: int) -> FloatArray:
    """Highest value of the last ``period`` bars, current bar included."""
    return _rolling_extreme(_as_float(x), _check_period(period), True)


def rolling_min(x: npt.ArrayLike, period: int) -> FloatArray:
    """Lowest value of the last ``period`` bars, current bar included."""
    return _rolling_extreme(_as_float(x), _check_period(period), False)


@tiered_kernel
def _rolling_std_kernel(x: FloatArray, p: int, ddof: int) -> FloatArray:  # pragma: no cover
    # Welford over each window would be O(n p); two passes over a window of at most a few
    # hundred bars stay exact enough and fast.
    n = x.shape[0]
    out = np.full(n, np.nan)
    if p - ddof <= 0:
        return out
    for i in range(p - 1, n):
        m = 0.0
        for j in range(i - p + 1, i + 1):
            m += x[j]
        m /= p
        ss = 0.0
        for j in range(i - p + 1, i + 1):
            d = x[j] - m
            ss += d * d
        out[i] = np.sqrt(ss / (p - ddof))
    return out


def rolling_std(x: npt.ArrayLike, period: int, ddof: int = 0) -> FloatArray:
    """Standard deviation of the last ``period`` values (population by default)."""
    return _rolling_std_kernel(_as_float(x), _check_period(period), int(ddof))


def bollinger(
    close: npt.ArrayLike, period: int = 20, k: float = 2.0
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Bollinger bands: (middle SMA, upper = mid + k std, lower = mid - k std), population std."""
    c = _as_float(close)
    return bands(sma(c, period), rolling_std(c, period, 0), k)


def bands(mid: FloatArray, sd: FloatArray, k: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(middle, middle + k sd, middle - k sd): Bollinger's bands around any middle line."""
    return mid, mid + k * sd, mid - k * sd


def donchian(
    high: npt.ArrayLike, low: npt.ArrayLike, period: int = 20
) -> tuple[FloatArray, FloatArray]:
    """Donchian channel: (highest high, lowest low) of the last ``period`` bars."""
    return rolling_max(high, period), rolling_min(low, period)


def returns(close: npt.ArrayLike) -> FloatArray:
    """Simple returns ``c[i] / c[i-1] - 1``; the first value is NaN."""
    c = _as_float(close)
    out = np.full_like(c, np.nan)
    out[1:] = c[1:] / c[:-1] - 1.0
    return out


def log_returns(close: npt.ArrayLike) -> FloatArray:
    """Log returns ``ln(c[i] / c[i-1])``; the first value is NaN."""
    c = _as_float(close)
    out = np.full_like(c, np.nan)
    out[1:] = np.log(c[1:] / c[:-1])
    return out


def volatility(close: npt.ArrayLike, period: int = 20) -> FloatArray:
    """Rolling sample standard deviation of log returns (per bar, not annualized)."""
    r = log_returns(close)
    out = np.full_like(r, np.nan)
    if r.size > 1:
        out[1:] = rolling_std(r[1:], period, 1)
    return out


def compile_tiered() -> None:
    """Load numba and compile the tiered kernels for the argument types a decision passes them,
    so that a long-lived process's switch to compiled code (``ffe_core.kernels``) loads them
    from numba's on-disk cache instead of compiling; ``scripts/warm-kernels.sh`` runs this at
    install, as it runs a backtest and a replay for the other kernels."""
    compile_kernels()
    x, period = np.linspace(1.0, 2.0, 64), 5  # the types matter, not the values
    sma(x, period)
    ema(x, period)
    rsi(x, period)
    atr(x, x, x, period)
    donchian(x, x, period)
    volatility(x, period)
