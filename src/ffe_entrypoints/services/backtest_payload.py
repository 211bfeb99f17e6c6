"""A backtest job's result as plain data: stats, equity and drawdown series, trades, heatmap.

Built in the worker process from the kernels' arrays (:mod:`backtest_worker`); every number
is JSON-ready (a non-finite one is None) and a long series is thinned to about 500 points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ffe_core.backtest.data import Bars
from ffe_core.backtest.search import OBJECTIVES
from ffe_core.backtest.simulator import RunResult
from ffe_core.backtest.stats import json_ready
from ffe_core.drawdown import drawdown_curve

OBJECTIVE = "sharpe"
"""What an optimize job maximises (one of ``search.OBJECTIVES``)."""


def warnings_of(*messages: str | None) -> list[str]:
    """The messages that are set."""
    return [m for m in messages if m]


def heatmap(space: Mapping[str, Any], evaluations: list[Any]) -> dict[str, Any] | None:
    """Best score per cell of the first two searched parameters; ``metric`` names the score."""
    keys = list(space)
    if len(keys) < 2:
        return None
    xs, ys = sorted(set(space[keys[0]])), sorted(set(space[keys[1]]))
    z: list[list[float | None]] = [[None] * len(xs) for _ in ys]
    for ev in evaluations:
        xi, yi = xs.index(ev.params[keys[0]]), ys.index(ev.params[keys[1]])
        prev = z[yi][xi]
        score = clean(ev.score)
        if score is not None and (prev is None or score > prev):
            z[yi][xi] = score
    return {
        "x_param": keys[0],
        "y_param": keys[1],
        "metric": OBJECTIVES[OBJECTIVE],
        "x": xs,
        "y": ys,
        "z": z,
    }


def clean(value: float) -> float | None:
    """``value`` as JSON can hold it: None when it is not finite."""
    return float(value) if math.isfinite(value) else None


def _iso(times: np.ndarray, i: int) -> str:
    return datetime.fromtimestamp(int(times[i]) / 1e9, UTC).isoformat()


def _series(bars: Bars, values: np.ndarray, key: str, offset: int = 0) -> list[dict[str, Any]]:
    step = max(1, len(values) // 500)
    return [
        {
            "ts": _iso(bars.time, offset + i) if bars.time is not None else str(offset + i),
            key: clean(float(values[i])),
        }
        for i in range(0, len(values), step)
    ]


def result_payload(
    equity: np.ndarray,
    bars: Bars,
    stats: Mapping[str, Any],
    run: RunResult | None,
    heatmap: dict[str, Any] | None,
    offset: int = 0,
) -> dict[str, Any]:
    """The result of a run or a search: stats, series (from bar ``offset``), last 500 trades."""
    trades: list[dict[str, Any]] = []
    if run is not None and bars.time is not None:
        t = run.trades
        for i in range(len(t)):
            trades.append(
                {
                    "entry_time": _iso(bars.time, int(t.entry_bar[i])),
                    "exit_time": _iso(bars.time, int(t.exit_bar[i])),
                    "size": float(t.size[i]),
                    "entry_price": float(t.entry_price[i]),
                    "exit_price": float(t.exit_price[i]),
                    "pnl": float(t.pnl[i]),
                    "return_pct": float(t.return_pct[i] * 100),
                }
            )
    stats_json = {
        k: (clean(v) if isinstance(v, float) else v) for k, v in json_ready(dict(stats)).items()
    }
    return {
        "stats": stats_json,
        "equity": _series(bars, equity, "equity", offset),
        "drawdown": _series(
            bars, -drawdown_curve(np.asarray(equity, dtype=np.float64)), "drawdown", offset
        ),
        "trades": trades[-500:],
        "heatmap": heatmap,
    }
