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
        t = bars.time.astype("datetime64[ns]").view(np.int64)
        period = int(np.median(np.diff(t[-100:]))) if t.size > 1 else 0
        freq_days = period // _UNITS_NS[0][1]
        days = t // _UNITS_NS[0][1]
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        have_weekends = float(np.mean(weekday >= 5)) > 2 / 7 * 0.6
        if freq_days == 7:
            key, annual = (days + 3) // 7, 52.0  # weeks ending on Sunday
        elif freq_days == 31:
            key, annual = bars.time.astype("datetime64[M]").view(np.int64), 12.0
        elif freq_days == 365:
            key, annual = bars.time.astype("datetime64[Y]").view(np.int64), 1.0
        else:
            key, annual = days, (365.0 if have_weekends else 252.0)
        last = np.flatnonzero(np.r_[key[1:] != key[:-1], True]).astype(np.int64)
        res = next((ns for _, ns in _UNITS_NS if period and period % ns == 0), 1)
        return cls(t, last, annual, res)

    def duration(self, ns: float) -> timedelta | float:
        """A duration in ns rounded up to the data's resolution (bars when untimed)."""
        if self.time_ns is None or math.isnan(ns):
            return ns
        r = self.resolution_ns
        return timedelta(microseconds=(-(-int(ns) // r) * r) / 1000)


def _geometric_mean(r: FloatArray) -> float:
    x = np.nan_to_num(r, nan=0.0) + 1.0
    if np.any(x <= 0):
        return 0.0
    return float(np.exp(np.log(x).sum() / (x.size or np.nan)) - 1.0)


def _drawdown_segments(dd: FloatArray) -> tuple[IntArray, IntArray]:
    """(start, end) bar of each drawdown: from the last zero before it to the next zero/end."""
    iloc = np.unique(np.r_[np.flatnonzero(dd == 0), dd.size - 1]).astype(np.int64)
    prev, cur = iloc[:-1], iloc[1:]
    keep = cur > prev + 1
    return prev[keep], cur[keep]


def _segment_max(x: FloatArray, starts: IntArray, ends: IntArray) -> FloatArray:
    """The maximum of ``x[a : b + 1]`` for each segment, without a Python loop."""
    if starts.size == 0:
        return np.empty(0)
    edges = np.empty(2 * starts.size, dtype=np.int64)
    edges[0::2] = starts
    edges[1::2] = ends + 1
    return np.maximum.reduceat(np.r_[x, 0.0], edges)[0::2]


def _covered(entry: IntArray, exit_: IntArray, n: int) -> float:
    """How many of ``n`` bars lie inside some ``[entry, exit]`` interval (both inclusive)."""
    steps = np.zeros(n + 1, dtype=np.int64)
    np.add.at(steps, entry, 1)
    np.add.at(steps, exit_ + 1, -1)
    return float(np.count_nonzero(np.cumsum(steps[:n]) > 0))


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
) -> dict[str, Any]:
    """backtesting.py's statistics for one run (same keys, same formulas).

    ``warmup`` is the number of bars the strategy's indicators need; it only moves the start of
    the buy-and-hold comparison, as in backtesting.py.
    """
    cal = calendar or Calendar.of(bars)
    trades: Trades = result.trades
    equity = result.equity
    c = bars.close
    n = equity.size
    dd = 1.0 - equity / np.maximum.accumulate(equity)
    starts, ends = _drawdown_segments(dd)
    peaks = _segment_max(dd, starts, ends)
    if cal.time_ns is not None:
        t = cal.time_ns
        dur = (t[ends] - t[starts]).astype(np.float64)
        span: Any = timedelta(microseconds=float(t[-1] - t[0]) / 1000)
        start: Any = bars.time[0] if bars.time is not None else 0
        end: Any = bars.time[-1] if bars.time is not None else n - 1
    else:
        dur = (ends - starts).astype(np.float64)
        span, start, end = n - 1, 0, n - 1

    pl = trades.pnl
    rets = trades.return_pct
    s: dict[str, Any] = {"Start": start, "End": end, "Duration": span}
    s["Exposure Time [%]"] = _covered(trades.entry_bar, trades.exit_bar, n) / n * 100
    s["Equity Final [$]"] = float(equity[-1])
    s["Equity Peak [$]"] = float(equity.max())
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
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        s["Sharpe Ratio"] = (s["Return (Ann.) [%]"] - risk_free_rate * 100) / (vol or np.nan)
        below = np.clip(day_rets, -np.inf, 0) ** 2
        downside = np.sqrt(np.mean(below) if below.size else np.nan) * np.sqrt(annual)
        s["Sortino Ratio"] = (ann_ret - risk_free_rate) / downside
        max_dd = -float(np.nan_to_num(dd.max()))
        s["Calmar Ratio"] = ann_ret / (-max_dd or np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        eq_lr = np.log(equity[1:] / equity[:-1])
    mk_lr = np.log(c[1:] / c[:-1])
    beta = math.nan
    if eq_lr.size > 1:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            cov = np.cov(eq_lr, mk_lr)
            beta = float(cov[0, 1] / cov[1, 1])
    s["Alpha [%]"] = (
        s["Return [%]"]
        - risk_free_rate * 100
        - beta * (s["Buy & Hold Return [%]"] - risk_free_rate * 100)
    )
    s["Beta"] = beta
    s["Max. Drawdown [%]"] = max_dd * 100
    s["Avg. Drawdown [%]"] = -_nanmean(peaks) * 100
    s["Max. Drawdown Duration"] = cal.duration(_nanmax(dur))
    s["Avg. Drawdown Duration"] = cal.duration(_nanmean(dur))
    nt = len(trades)
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
