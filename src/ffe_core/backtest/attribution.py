"""Who earned what in a replay: the ensemble and each provider alone over the same bars.

Each provider's solo run follows its own votes (BUY long, SELL flat or short, HOLD and
abstentions keep the position) on the same fill model as the ensemble; no risk check stands
between a solo provider and its fills. Votes are scored as the learning service scores them
(:func:`~ffe_core.services.learning_scoring.is_hit`, :func:`brier`) on the return over the
learning horizon in bars, and the learning service's weight update is replayed forward: a vote
moves its provider's weight only once its horizon has passed, so the path shows how trust
would have evolved without using a future outcome. "Overruled" counts bars where a provider
voted BUY or SELL and the ensemble decided otherwise; what that earned is the horizon return
times the difference in direction, summed (positive: overruling it paid).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from ffe_core.backtest.data import Bars, TimeArray
from ffe_core.backtest.replay_fast import targets_from_actions
from ffe_core.backtest.simulator import FillConfig, FloatArray, RunResult, simulate
from ffe_core.backtest.stats import compute_stats
from ffe_core.backtest.vote_log import VoteLog
from ffe_core.config import LearningSettings
from ffe_core.domain.intervals import horizon_bars, interval_seconds
from ffe_core.services.learning_scoring import next_weight

BoolArray = npt.NDArray[np.bool_]
Int8Array = npt.NDArray[np.int8]

WEIGHT_CHECKPOINTS = 10
CURVE_POINTS = 300


def horizon_in_bars(horizon: str, time: TimeArray | None) -> int:
    """The learning horizon in bars: as written (``"4bars"``), else its length over the median
    bar spacing (1 if untimed)."""
    bars = horizon_bars(horizon)
    if bars is not None:
        return max(1, bars)
    if time is None or time.shape[0] < 2:
        return 1
    step = float(np.median(np.diff(time.astype("datetime64[ns]").view(np.int64)))) / 1e9
    return max(1, round(interval_seconds(horizon) / step))


def horizon_returns(close: FloatArray, horizon: int) -> FloatArray:
    """``close[i + horizon] / close[i] - 1`` per bar; NaN where the horizon runs past the end."""
    out = np.full(close.shape[0], np.nan)
    if horizon < close.shape[0]:
        out[: close.shape[0] - horizon] = close[horizon:] / close[:-horizon] - 1.0
    return out


def vote_hits(actions: Int8Array, returns: FloatArray, hold_band: float) -> BoolArray:
    """:func:`~ffe_core.services.learning_scoring.is_hit` on arrays (False where NaN)."""
    with np.errstate(invalid="ignore"):
        held = np.abs(returns) < hold_band
        called = returns * actions > 0
    return np.where(actions == 0, held, called)


def _clean(x: float) -> float | None:
    return round(x, 6) if math.isfinite(x) else None


def run_summary(run: RunResult, bars: Bars) -> dict[str, Any]:
    """Return, Sharpe, max drawdown (percent) and trades of one run."""
    stats = compute_stats(run, bars)
    return {
        "return_pct": _clean(float(stats["Return [%]"])),
        "sharpe": _clean(float(stats["Sharpe Ratio"])),
        "max_drawdown_pct": _clean(float(stats["Max. Drawdown [%]"])),
        "trades": len(run.trades),
    }


def _scores(
    actions: Int8Array,
    confidences: FloatArray,
    counted: BoolArray,
    returns: FloatArray,
    hold_band: float,
) -> dict[str, Any]:
    scored = counted & np.isfinite(returns)
    hit = vote_hits(actions, returns, hold_band)[scored]
    conf = confidences[scored]
    return {
        "scored": int(scored.sum()),
        "hit_rate": _clean(float(hit.mean())) if hit.size else None,
        "brier": _clean(float(np.mean((conf - hit) ** 2))) if hit.size else None,
    }


def solo_run(
    bars: Bars, actions: Int8Array, start: int, allow_short: bool, config: FillConfig
) -> RunResult:
    """The run one provider's votes alone would have made."""
    return simulate(bars, targets_from_actions(actions, start, allow_short), config)


def buy_and_hold(bars: Bars, start: int, config: FillConfig) -> RunResult:
    """Long from the first decision to the end, on the same fill model."""
    target = np.zeros(len(bars), dtype=np.int8)
    target[start:] = 1
    return simulate(bars, target, config)


def weight_path(
    votes: VoteLog,
    returns: FloatArray,
    horizon: int,
    settings: LearningSettings,
    checkpoints: int = WEIGHT_CHECKPOINTS,
) -> dict[str, Any]:
    """Each provider's learned weight at evenly spaced bars, updated only by matured votes."""
    k = votes.actions.shape[0]
    asked = np.flatnonzero(votes.asked)
    if asked.size == 0 or k == 0:
        return {"bars": [], "providers": {}}
    marks = sorted({int(b) for b in np.linspace(asked[0], asked[-1], checkpoints).round()})
    hits = vote_hits(votes.actions, returns, settings.hold_band)
    counted = ~votes.abstained & np.isfinite(returns)
    weights = [1.0] * k
    path: list[list[float]] = [[] for _ in range(k)]
    mark = 0
    for i in range(int(asked[0]), int(asked[-1]) + 1):
        j = i - horizon  # the vote whose outcome is known at this bar's close
        if j >= 0:
            for p in range(k):
                if counted[p, j]:
                    weights[p] = next_weight(weights[p], 1.0 if hits[p, j] else -1.0, settings)
        while mark < len(marks) and marks[mark] == i:
            for p in range(k):
                path[p].append(round(weights[p], 6))
            mark += 1
    return {
        "bars": marks,
        "providers": {name: path[p] for p, name in enumerate(votes.names)},
    }


def equity_curves(
    bars: Bars,
    start: int,
    ensemble: RunResult,
    providers: dict[str, RunResult],
    buy_hold: RunResult,
    baseline: RunResult | None,
    points: int = CURVE_POINTS,
) -> dict[str, Any]:
    """The equity of each run from the first decision on, at up to ``points`` shared bars."""
    at = np.unique(np.linspace(start, len(bars) - 1, min(points, len(bars) - start)).round())
    idx = at.astype(np.int64)
    if bars.time is not None:
        ts = [f"{t}Z" for t in bars.time[idx].astype("datetime64[s]")]
    else:
        ts = [str(i) for i in idx]

    def curve(run: RunResult) -> list[float | None]:
        return [_clean(float(v)) for v in run.equity[idx]]

    return {
        "ts": ts,
        "ensemble": curve(ensemble),
        "providers": {name: curve(run) for name, run in providers.items()},
        "buy_and_hold": curve(buy_hold),
        "quant_baseline": None if baseline is None else curve(baseline),
    }


def attribution(
    bars: Bars,
    run: RunResult,
    votes: VoteLog,
    config: FillConfig,
    *,
    start: int,
    allow_short: bool,
    learning: LearningSettings,
    horizon: int,
    baseline: RunResult | None = None,
) -> dict[str, Any]:
    """The attribution table of a replay (see the module docstring)."""
    returns = horizon_returns(bars.close, horizon)
    band = learning.hold_band
    ens_counted = votes.asked.copy()
    ensemble = run_summary(run, bars) | _scores(
        votes.ensemble_action, votes.ensemble_confidence, ens_counted, returns, band
    )
    ensemble["decisions"] = int(votes.asked.sum())
    providers: dict[str, Any] = {}
    solos: dict[str, RunResult] = {}
    finite = np.isfinite(returns)
    safe = np.where(finite, returns, 0.0)
    for p, name in enumerate(votes.names):
        acts = votes.actions[p]
        counted = votes.asked & ~votes.abstained[p]
        solo = solos[name] = solo_run(bars, acts, start, allow_short, config)
        overruled = counted & (acts != 0) & (votes.ensemble_action != acts)
        earned = float(np.sum((safe * (votes.ensemble_action - acts))[overruled & finite]))
        providers[name] = (
            run_summary(solo, bars)
            | _scores(acts, votes.confidences[p], counted, returns, band)
            | {
                "votes": int(counted.sum()),
                "abstentions": int((votes.asked & votes.abstained[p]).sum()),
                "overruled": int(overruled.sum()),
                "overruled_earned_pct": round(earned * 100, 6),
            }
        )
    held = buy_and_hold(bars, start, config)
    return {
        "horizon_bars": horizon,
        "ensemble": ensemble,
        "providers": providers,
        "buy_and_hold": run_summary(held, bars),
        "quant_baseline": None if baseline is None else run_summary(baseline, bars),
        "weights": weight_path(votes, returns, horizon, learning),
        "equity": equity_curves(bars, start, run, solos, held, baseline),
    }
