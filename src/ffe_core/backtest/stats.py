"""Run statistics named and computed as backtesting.py 0.6 computes them, without pandas.

Daily (or weekly/monthly/yearly) returns come from the last equity of each calendar period,
annualised over 252 trading days (365 when weekends trade); durations are rounded up to the
data's resolution. :class:`Calendar` holds what depends only on the bar times, so a parameter
search computes it once and reuses it for every run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from ffe_core.backtest.data import Bars
from ffe_core.backtest.simulator import RunResult, Trades
from ffe_core.drawdown import drawdown_kernel
from ffe_core.kernels import kernel

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_UNITS_NS = (
    ("D", 86_400 * 10**9),
    ("h", 3_600 * 10**9),
    ("min", 60 * 10**9),
    ("s", 10**9),
    ("ms", 10**6),
    ("us", 10**3),
    ("ns", 1),
)


@dataclass(frozen=True)
class Calendar:
    """What the statistics need from bar times: period ends, annualisation and resolution."""

    time_ns: IntArray | None
    period_last: IntArray | None
    """Index of the last bar of each calendar period (day, week, month or year)."""
    annual_periods: float
    resolution_ns: int

    @classmethod
    def of(cls, bars: Bars) -> Calendar:
        if bars.time is None:
            return cls(None, None, math.nan, 1)
        t = bars.time.astype("datetime64[ns]", copy=False).view(np.int64)
        period = int(np.median(np.diff(t[-100:]))) if t.size > 1 else 0
        freq_days = period // _UNITS_NS[0][1]
        res = next((ns for _, ns in _UNITS_NS if period and period % ns == 0), 1)
        if freq_days in (31, 365):
            unit = "datetime64[M]" if freq_days == 31 else "datetime64[Y]"
            key = bars.time.astype(unit).view(np.int64)
            last = np.flatnonzero(np.r_[key[1:] != key[:-1], True]).astype(np.int64)
            return cls(t, last, 12.0 if freq_days == 31 else 1.0, res)
        weekly = freq_days == 7
        last, weekend = _period_ends(t, weekly)
        weekends = weekend / t.size > 2 / 7 * 0.6
        annual = 52.0 if weekly else (365.0 if weekends else 252.0)  # weeks end on Sunday
        return cls(t, last, annual, res)

    def duration(self, ns: float) -> timedelta | float:
        """A duration in ns rounded up to the data's resolution (bars when untimed)."""
        if self.time_ns is None or math.isnan(ns):
            return ns
        r = self.resolution_ns
        return timedelta(microseconds=(-(-int(ns) // r) * r) / 1000)


_DAY_NS = 86_400 * 10**9
_NO_TIME = np.empty(0, dtype=np.int64)


def _period_ends(t: IntArray, weekly: bool) -> tuple[IntArray, int]:
    """The last bar of each UTC day (or week ending on Sunday) and how many bars fall on a
    weekend, from a binary search per day boundary (times in order, as ``validate_bars``
    ensures): a few thousand reads instead of a pass over every time."""
    n = t.size
    first, last = int(t[0]) // _DAY_NS, int(t[-1]) // _DAY_NS
    days = np.arange(first, last + 1, dtype=np.int64)
    starts = np.searchsorted(t, days[1:] * _DAY_NS, side="left")
    bars_per_day = np.diff(np.r_[0, starts, n])
    weekend = int(bars_per_day[(days + 3) % 7 >= 5].sum())  # 1970-01-01 was a Thursday
    if weekly:  # weeks end on Sunday: a new one starts on each Monday
        starts = starts[(days[1:] + 3) % 7 == 0]
    cut = starts[(starts > 0) & (starts < n)]
    # starts is sorted (sorted keys), so equal ones are neighbours: no np.unique (a sort)
    cut = cut[np.r_[True, cut[1:] != cut[:-1]]] if cut.size else cut
    ends = np.r_[cut - 1, n - 1].astype(np.int64)
    return ends, weekend


def _geometric_mean(r: FloatArray) -> float:
    x = np.nan_to_num(r, nan=0.0) + 1.0
    if np.any(x <= 0):
        return 0.0
    return float(np.exp(np.log(x).sum() / (x.size or np.nan)) - 1.0)


_BLOCK = 512
"""Bars per block of the drawdown pass: a block with no new high is summarised by its minimum."""


@kernel
def _drawdown_pass(
    equity: FloatArray, block_max: FloatArray, block_min: FloatArray, t: IntArray, timed: bool
) -> tuple[float, float, int, float, float, float, bool]:  # pragma: no cover - compiled
    # backtesting.py's drawdown statistics in one pass: dd = drawdown(equity, running peak); a
    # drawdown runs from a bar at dd == 0 (a new or equal high) to the next one or the last bar.
    # Between two highs the peak is fixed, so the deepest dd is drawdown(lowest equity, peak)
    # (the formula is monotonic in the equity): one division per drawdown, and a block of bars
    # below the peak (its numpy max) only lowers the run's low by its min. Returns (equity peak,
    # max dd, drawdowns, sum of their deepest dd, longest and summed durations, ok); ok is False
    # on a non-finite or negative equity, which _drawdown_pass_general answers as numpy would.
    n = equity.shape[0]
    peak = equity[0]
    if not (0.0 < peak < math.inf):
        return peak, 0.0, 0, 0.0, 0.0, 0.0, False
    acc = np.array([0.0, 0.0, 0.0, -math.inf, 0.0])
    prev = 0
    low = math.inf
    blocks = block_max.shape[0]
    for blk in range(blocks + 1):
        start = blk * _BLOCK
        stop = min(start + _BLOCK, n) if blk < blocks else n
        if blk < blocks and start > 0 and block_max[blk] < peak and block_min[blk] >= 0.0:
            if block_min[blk] < low:
                low = block_min[blk]
            continue
        for i in range(max(start, 1), stop):
            e = equity[i]
            if e < peak:
                if e < low:
                    low = e
                    if not (e >= 0.0):
                        return peak, 0.0, 0, 0.0, 0.0, 0.0, False
                continue
            if not (e < math.inf):  # NaN or inf
                return peak, 0.0, 0, 0.0, 0.0, 0.0, False
            if low < math.inf:  # a new or equal high ends the drawdown since prev
                _drawdown_ends(acc, drawdown_kernel(low, peak), prev, i, t, timed)
            prev = i
            low = math.inf
            peak = e
    if low < math.inf:  # the last bar is below the peak: its drawdown ends there
        _drawdown_ends(acc, drawdown_kernel(low, peak), prev, n - 1, t, timed)
    return peak, acc[0], int(acc[1]), acc[2], acc[3], acc[4], True


@kernel
def _drawdown_ends(
    acc: FloatArray, deepest: float, start: int, end: int, t: IntArray, timed: bool
) -> None:  # pragma: no cover - compiled
    # Book a drawdown from bar `start` to `end` into acc = [max dd, drawdowns, sum of their
    # deepest dd, longest, summed durations]; one that spans no bar boundary only moves max dd.
    acc[0] = max(acc[0], deepest)
    if end > start + 1:
        dur = float(t[end] - t[start]) if timed else float(end - start)
        acc[1] += 1.0
        acc[2] += deepest
        acc[3] = max(acc[3], dur)
        acc[4] += dur


def _drawdowns(
    equity: FloatArray, t: IntArray, timed: bool
) -> tuple[float, float, int, float, float, float]:
    """(equity peak, max dd, drawdowns, sum of their deepest dd, longest, summed durations)."""
    whole = equity[: equity.size // _BLOCK * _BLOCK].reshape(-1, _BLOCK)
    *out, ok = _drawdown_pass(equity, whole.max(axis=1), whole.min(axis=1), t, timed)
    if not ok:
        return _drawdown_pass_general(equity, t, timed)
    return tuple(out)  # type: ignore[return-value]


@kernel
def _drawdown_pass_general(
    equity: FloatArray, t: IntArray, timed: bool
) -> tuple[float, float, int, float, float, float]:  # pragma: no cover - compiled
    # _drawdown_pass bar by bar, with NaN propagating as numpy's maximum does and a peak of 0
    # dividing as numpy divides.
    n = equity.shape[0]
    peak = equity[0]
    dd_max = -math.inf
    prev = -1
    seg = 0.0
    count = 0
    sum_peaks = 0.0
    max_dur = -math.inf
    sum_dur = 0.0
    for i in range(n):
        e = equity[i]
        if math.isnan(e) or math.isnan(peak):
            peak = math.nan
        elif e > peak:
            peak = e
        # numpy's 1 - e / 0 where the peak is 0
        dd = drawdown_kernel(e, peak) if peak != 0.0 else (math.nan if e == 0.0 else math.inf)
        if math.isnan(dd) or math.isnan(dd_max):
            dd_max = math.nan
        elif dd > dd_max:
            dd_max = dd
        if dd == 0.0 or i == n - 1:
            if prev >= 0 and i > prev + 1:
                if math.isnan(dd) or math.isnan(seg):
                    seg = math.nan
                elif dd > seg:
                    seg = dd
                dur = float(t[i] - t[prev]) if timed else float(i - prev)
                count += 1
                sum_peaks += seg
                max_dur = max(max_dur, dur)
                sum_dur += dur
            prev = i
            seg = dd
        elif math.isnan(dd) or math.isnan(seg):
            seg = math.nan
        elif dd > seg:
            seg = dd
    return peak, dd_max, count, sum_peaks, max_dur, sum_dur


@kernel
def _covered(entry: IntArray, exit_: IntArray) -> int:  # pragma: no cover - compiled
    # How many bars lie inside some [entry, exit] interval (both inclusive).
    total = 0
    start = -1
    end = -2
    for k in np.argsort(entry, kind="mergesort"):
        a, b = entry[k], exit_[k]
        if a > end:
            if start >= 0:
                total += end - start + 1
            start, end = a, b
        elif b > end:
            end = b
    if start >= 0:
        total += end - start + 1
    return total


def _nanmax(x: FloatArray) -> float:
    return float(np.max(x)) if x.size else math.nan


def _nanmean(x: FloatArray) -> float:
    return float(np.mean(x)) if x.size else math.nan


def compute_stats(
    result: RunResult,
    bars: Bars,
    *,
    warmup: int = 0,
    calendar: Calendar | None = None,
    risk_free_rate: float = 0.0,
    alpha_beta: bool = False,
) -> dict[str, Any]:
    """backtesting.py's statistics for one run (same keys, same formulas).

    ``warmup`` is the number of bars the strategy's indicators need; it only moves the start of
    the buy-and-hold comparison, as in backtesting.py. Every per-bar statistic comes from one
    compiled pass over the equity curve; ``alpha_beta`` adds "Alpha [%]" and "Beta", which take
    two more passes (log returns of equity and market) and are left out unless asked for.
    """
    cal = calendar or Calendar.of(bars)
    trades: Trades = result.trades
    equity = np.ascontiguousarray(result.equity, dtype=np.float64)
    c = bars.close
    n = equity.size
    timed = cal.time_ns is not None
    t = cal.time_ns if cal.time_ns is not None else _NO_TIME
    peak, dd_max, n_dd, sum_dd, max_dur, sum_dur = _drawdowns(equity, t, timed)
    if timed:
        span: Any = timedelta(microseconds=float(t[-1] - t[0]) / 1000)
        start: Any = bars.time[0] if bars.time is not None else 0
        end: Any = bars.time[-1] if bars.time is not None else n - 1
    else:
        span, start, end = n - 1, 0, n - 1

    pl = trades.pnl
    rets = trades.return_pct
    s: dict[str, Any] = {"Start": start, "End": end, "Duration": span}
    nt = len(trades)
    covered = _covered(trades.entry_bar, trades.exit_bar) if nt else 0
    s["Exposure Time [%]"] = covered / n * 100
    s["Equity Final [$]"] = float(equity[-1])
    s["Equity Peak [$]"] = float(peak)
    commissions = float(trades.commission.sum())
    if commissions:
        s["Commissions [$]"] = commissions
    s["Return [%]"] = float((equity[-1] - equity[0]) / equity[0] * 100)
    w = min(max(int(warmup), 0), n - 1)
    s["Buy & Hold Return [%]"] = float((c[-1] - c[w]) / c[w] * 100)

    # numpy floats, as in backtesting.py: an overflow is inf (a Python float would raise)
    gmean = np.float64(0.0)
    annual = np.float64(cal.annual_periods)
    day_rets: FloatArray = np.array(np.nan)
    if cal.period_last is not None:
        last_eq = equity[cal.period_last]
        with np.errstate(divide="ignore", invalid="ignore"):
            day_rets = last_eq[1:] / last_eq[:-1] - 1.0
        day_rets = day_rets[~np.isnan(day_rets)]
        gmean = np.float64(_geometric_mean(day_rets))
    ddof = 1 if day_rets.shape else 0
    var = np.float64(np.var(day_rets, ddof=ddof)) if day_rets.size > ddof else np.float64(np.nan)
    with np.errstate(over="ignore", invalid="ignore"):
        ann_ret = (1 + gmean) ** annual - 1
        vol = np.sqrt((var + (1 + gmean) ** 2) ** annual - (1 + gmean) ** (2 * annual)) * 100
    s["Return (Ann.) [%]"] = ann_ret * 100
    s["Volatility (Ann.) [%]"] = vol
    if cal.time_ns is not None:
        secs = (cal.time_ns[-1] - cal.time_ns[0]) / 1e9
        years = (secs // 86400 + (secs % 86400) // 1 / 86400) / 365.25
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            growth = np.float64(equity[-1]) / np.float64(equity[0])
            s["CAGR [%]"] = (growth ** (1 / years) - 1) * 100 if years else math.nan
    max_dd = -float(np.nan_to_num(dd_max))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        s["Sharpe Ratio"] = (s["Return (Ann.) [%]"] - risk_free_rate * 100) / (vol or np.nan)
        below = np.clip(day_rets, -np.inf, 0) ** 2
        downside = np.sqrt(np.mean(below) if below.size else np.nan) * np.sqrt(annual)
        s["Sortino Ratio"] = (ann_ret - risk_free_rate) / downside
        s["Calmar Ratio"] = ann_ret / (-max_dd or np.nan)
    if alpha_beta:
        s.update(_alpha_beta(equity, c, s, risk_free_rate))
    s["Max. Drawdown [%]"] = max_dd * 100
    s["Avg. Drawdown [%]"] = -(sum_dd / n_dd if n_dd else math.nan) * 100
    s["Max. Drawdown Duration"] = cal.duration(max_dur if n_dd else math.nan)
    s["Avg. Drawdown Duration"] = cal.duration(sum_dur / n_dd if n_dd else math.nan)
    s["# Trades"] = nt
    win = float(np.mean(pl > 0)) if nt else math.nan
    s["Win Rate [%]"] = win * 100
    s["Best Trade [%]"] = _nanmax(rets) * 100
    s["Worst Trade [%]"] = (float(np.min(rets)) if nt else math.nan) * 100
    s["Avg. Trade [%]"] = _geometric_mean(rets) * 100 if nt else math.nan
    if cal.time_ns is not None:
        tdur = (cal.time_ns[trades.exit_bar] - cal.time_ns[trades.entry_bar]).astype(np.float64)
    else:
        tdur = (trades.exit_bar - trades.entry_bar).astype(np.float64)
    s["Max. Trade Duration"] = cal.duration(_nanmax(tdur))
    s["Avg. Trade Duration"] = cal.duration(_nanmean(tdur))
    losses = abs(float(rets[rets < 0].sum()))
    s["Profit Factor"] = float(rets[rets > 0].sum()) / (losses or math.nan)
    s["Expectancy [%]"] = _nanmean(rets) * 100
    sd = float(np.std(pl, ddof=1)) if nt > 1 else math.nan
    s["SQN"] = math.sqrt(nt) * _nanmean(pl) / (sd or math.nan)
    avg_win = _nanmean(pl[pl > 0])
    avg_loss = -_nanmean(pl[pl < 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.float64(avg_win) / np.float64(avg_loss)
        s["Kelly Criterion"] = win - (1 - win) / ratio if nt else math.nan
    return s


def _alpha_beta(
    equity: FloatArray, close: FloatArray, s: dict[str, Any], risk_free_rate: float
) -> dict[str, float]:
    """Jensen's alpha and beta of the equity's log returns against the market's (the close)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        eq_lr = np.log(equity[1:] / equity[:-1])
    mk_lr = np.log(close[1:] / close[:-1])
    beta = math.nan
    if eq_lr.size > 1:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            cov = np.cov(eq_lr, mk_lr)
            beta = float(cov[0, 1] / cov[1, 1])
    alpha = (
        s["Return [%]"]
        - risk_free_rate * 100
        - beta * (s["Buy & Hold Return [%]"] - risk_free_rate * 100)
    )
    return {"Alpha [%]": alpha, "Beta": beta}


def json_ready(stats: dict[str, Any]) -> dict[str, Any]:
    """Statistics as JSON-safe values: durations in seconds (or bars), NaN/inf as None."""
    out: dict[str, Any] = {}
    for k, v in stats.items():
        if isinstance(v, timedelta):
            out[k] = v.total_seconds()
        elif isinstance(v, np.datetime64):
            out[k] = str(v.astype("datetime64[s]"))
        elif isinstance(v, int | np.integer):
            out[k] = int(v)
        elif isinstance(v, float | np.floating):
            f = float(v)
            out[k] = f if math.isfinite(f) else None
        else:
            out[k] = v
    return out
