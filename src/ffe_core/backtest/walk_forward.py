"""Walk-forward analysis: optimise in sample, trade the winner out of sample, stitch, measure.

Windows are *rolling* (a fixed-length in-sample part sliding forward) or *anchored* (in-sample
always starts at bar 0). Out-of-sample parts follow each other without overlap; each is traded
with the window's best parameters, starting from the equity the previous window ended with.
Signals for an out-of-sample part are computed over its in-sample history too, so indicators
are warm when it starts. Overfitting is measured over all candidates on the whole data with
PBO (CSCV) and the deflated Sharpe ratio of the stitched out-of-sample returns.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from ffe_core.backtest.data import Bars
from ffe_core.backtest.overfitting import deflated_sharpe, moments, pbo_cscv
from ffe_core.backtest.runner import Params, Runner, Strategy, runner_of
from ffe_core.backtest.search import Progress, best, run_search
from ffe_core.backtest.simulator import FillConfig, RunResult, Trades
from ffe_core.backtest.stats import compute_stats
from ffe_core.domain.errors import ValidationFailed

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Window:
    """Bar ranges ``[is_start, is_end)`` in sample and ``[is_end, oos_end)`` out of sample."""

    is_start: int
    is_end: int
    oos_end: int


@dataclass(frozen=True)
class WindowResult:
    window: Window
    params: Params
    in_sample_score: float
    oos_return_pct: float


@dataclass(frozen=True)
class WalkForwardResult:
    windows: list[WindowResult]
    equity: FloatArray
    """Stitched out-of-sample equity, one value per out-of-sample bar."""
    oos_start: int
    stats: Mapping[str, Any]
    pbo: float
    deflated_sharpe: float


def make_windows(n: int, in_sample: int, out_of_sample: int, *, anchored: bool) -> list[Window]:
    """Consecutive windows over ``n`` bars; the last out-of-sample part may be shorter."""
    if in_sample < 2 or out_of_sample < 1:
        raise ValidationFailed("in-sample needs >= 2 bars and out-of-sample >= 1")
    if in_sample + out_of_sample > n:
        raise ValidationFailed(
            f"{n} bars cannot hold one window of {in_sample} + {out_of_sample} bars"
        )
    out = []
    end = in_sample
    while end < n:
        start = 0 if anchored else end - in_sample
        out.append(Window(start, end, min(end + out_of_sample, n)))
        end += out_of_sample
    return out


def chunk_returns(equity: FloatArray, periods: int) -> FloatArray:
    """Returns of ``equity`` over ``periods`` equal stretches (the rows PBO compares)."""
    edges = np.linspace(0, equity.size - 1, periods + 1).astype(np.int64)
    e = equity[edges]
    with np.errstate(divide="ignore", invalid="ignore"):
        return e[1:] / e[:-1] - 1.0


def _overfitting(
    bars: Bars,
    runner: Runner,
    candidates: Sequence[Params],
    config: FillConfig,
    oos_returns: FloatArray,
    n_splits: int,
) -> tuple[float, float]:
    """PBO over all candidates on the whole data, and the DSR of the out-of-sample returns."""
    if len(candidates) < 2:
        return math.nan, math.nan
    periods = n_splits * 8
    cols = []
    bar_sr = []
    for p in candidates:
        eq = runner.run(bars, p, config, 0).equity
        cols.append(chunk_returns(eq, periods))
        with np.errstate(divide="ignore", invalid="ignore"):
            bar_sr.append(moments(eq[1:] / eq[:-1] - 1.0)[0])
    try:
        pbo = pbo_cscv(np.column_stack(cols), n_splits).pbo if len(bars) > periods else math.nan
    except ValidationFailed:
        pbo = math.nan
    srs = np.array([s for s in bar_sr if math.isfinite(s)])
    sr, skew, kurt, n_obs = moments(oos_returns)
    if not math.isfinite(sr) or srs.size < 2:
        return pbo, math.nan
    dsr = deflated_sharpe(
        sr,
        n_obs,
        sr_variance=float(srs.var(ddof=1)),
        n_trials=len(candidates),
        skew=skew,
        kurtosis=kurt,
    )
    return pbo, dsr


def walk_forward(
    bars: Bars,
    strategy: Strategy | Runner,
    candidates: Sequence[Params],
    config: FillConfig | None = None,
    *,
    in_sample: int,
    out_of_sample: int,
    anchored: bool = False,
    objective: str = "sharpe",
    workers: int | None = None,
    warmup: Callable[[Mapping[str, Any]], int] = lambda p: 0,
    progress: Progress | None = None,
    n_splits: int = 16,
) -> WalkForwardResult:
    """Run the analysis; ``progress(done, total)`` counts evaluated windows. ``strategy``: a
    target strategy or a :class:`~ffe_core.backtest.search.Runner` (order-level strategies)."""
    cfg = config or FillConfig()
    runner = runner_of(strategy)
    wins = make_windows(len(bars), in_sample, out_of_sample, anchored=anchored)
    results: list[WindowResult] = []
    pieces: list[FloatArray] = []
    trade_parts: list[Trades] = []
    cash = cfg.cash
    for k, w in enumerate(wins):
        ins = bars.slice(w.is_start, w.is_end)
        evals = run_search(
            ins, runner, candidates, cfg, objective=objective, workers=workers, warmup=warmup
        )
        top = best(evals)
        hist = bars.slice(w.is_start, w.oos_end)
        run = runner.run(hist, top.params, replace(cfg, cash=cash), w.is_end - w.is_start)
        pieces.append(run.equity)
        trade_parts.append(_shift(run.trades, w.is_end - wins[0].is_end))
        ret = (run.equity[-1] / cash - 1) * 100
        results.append(WindowResult(w, top.params, top.score, float(ret)))
        cash = float(run.equity[-1])
        if cash <= 0:
            break
        if progress is not None:
            progress(k + 1, len(wins))
    equity = np.concatenate(pieces)
    start = wins[0].is_end
    oos = bars.slice(start, start + equity.size)
    stitched = RunResult(_concat(trade_parts), equity, cfg)
    stats = compute_stats(stitched, oos)
    with np.errstate(divide="ignore", invalid="ignore"):
        oos_rets = np.r_[equity[0] / cfg.cash - 1.0, equity[1:] / equity[:-1] - 1.0]
    pbo, dsr = _overfitting(bars, runner, candidates, cfg, oos_rets, n_splits)
    return WalkForwardResult(results, equity, start, stats, pbo, dsr)


def _shift(t: Trades, offset: int) -> Trades:
    return replace(t, entry_bar=t.entry_bar + offset, exit_bar=t.exit_bar + offset)


def _concat(parts: Sequence[Trades]) -> Trades:
    names = (
        "size",
        "entry_bar",
        "exit_bar",
        "entry_price",
        "exit_price",
        "sl",
        "tp",
        "commission",
        "reason",
    )
    return Trades(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in names})
