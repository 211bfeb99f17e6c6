"""Parameter search (grid or random) run in parallel on every local core.

Parallelism uses threads: the simulator, indicator and signal kernels are numba functions
compiled with ``nogil=True`` and numpy releases the GIL in its array loops, so threads share
the bars without copying or pickling them (plugin strategies written in pure Python get less
from this). ``workers=1`` runs in the calling thread.
"""

from __future__ import annotations

import itertools
import math
import os
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np

from ffe_core.backtest.data import Bars
from ffe_core.backtest.orders import OrderRunResult
from ffe_core.backtest.runner import Params, Runner, Strategy, runner_of
from ffe_core.backtest.simulator import FillConfig, RunResult, simulate
from ffe_core.backtest.stats import Calendar, compute_stats
from ffe_core.backtest.strategies import SHARED_INDICATORS
from ffe_core.domain.errors import ValidationFailed

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each evaluation, from worker threads."""

OBJECTIVES: dict[str, str] = {
    "sharpe": "Sharpe Ratio",
    "sortino": "Sortino Ratio",
    "calmar": "Calmar Ratio",
    "return": "Return [%]",
    "equity": "Equity Final [$]",
    "sqn": "SQN",
    "profit_factor": "Profit Factor",
    "win_rate": "Win Rate [%]",
    "expectancy": "Expectancy [%]",
}
"""Objective name -> the statistic it maximises."""

PARALLELISM = "threads over nogil numba kernels"

SHARED_BUDGET = 1 << 30
"""Bytes of indicator arrays a search may hold to share them across candidates."""


@dataclass(frozen=True)
class Evaluation:
    """One candidate: its parameters, its objective value, and its statistics (if computed)."""

    params: Params
    score: float
    stats: Mapping[str, Any]


def grid(
    space: Mapping[str, Sequence[Any]],
    constraint: Callable[[Mapping[str, Any]], bool] = lambda p: True,
) -> list[Params]:
    """Every combination of the listed values that satisfies ``constraint``."""
    keys = list(space)
    combos = (dict(zip(keys, vals, strict=True)) for vals in itertools.product(*space.values()))
    return [p for p in combos if constraint(p)]


def random_sample(
    space: Mapping[str, Sequence[Any]],
    n: int,
    *,
    seed: int = 0,
    constraint: Callable[[Mapping[str, Any]], bool] = lambda p: True,
) -> list[Params]:
    """``n`` distinct combinations drawn uniformly from the grid (all of them if fewer)."""
    full = grid(space, constraint)
    if n >= len(full):
        return full
    return random.Random(seed).sample(full, n)


def objective_value(
    result: RunResult, bars: Bars, objective: str, calendar: Calendar, warmup: int = 0
) -> tuple[float, Mapping[str, Any]]:
    """The objective of a run; cheap objectives skip the full statistics."""
    if objective not in OBJECTIVES:
        known = ", ".join(OBJECTIVES)
        raise ValidationFailed(f"unknown objective {objective!r} (known: {known})")
    eq = result.equity
    if objective == "equity":
        return float(eq[-1]), {}
    if objective == "return":
        return float((eq[-1] - eq[0]) / eq[0] * 100), {}
    stats = compute_stats(result, bars, warmup=warmup, calendar=calendar)
    value = float(stats[OBJECTIVES[objective]])
    return (value if math.isfinite(value) else -math.inf), stats


def evaluate(
    bars: Bars,
    strategy: Strategy | Runner,
    params: Params,
    config: FillConfig,
    objective: str,
    calendar: Calendar,
    warmup: int = 0,
) -> Evaluation:
    """Signals, simulation and objective for one parameter set (an order-level run's own
    warm-up replaces ``warmup``)."""
    result = runner_of(strategy).run(bars, params, config, 0)
    return _scored(result, bars, params, objective, calendar, warmup)


def evaluate_target(
    bars: Bars,
    target: Any,
    params: Params,
    config: FillConfig,
    objective: str,
    calendar: Calendar,
    warmup: int = 0,
) -> Evaluation:
    """Simulation and objective for one parameter set whose target is already computed."""
    return _scored(simulate(bars, target, config), bars, params, objective, calendar, warmup)


def _scored(
    result: RunResult,
    bars: Bars,
    params: Params,
    objective: str,
    calendar: Calendar,
    warmup: int,
) -> Evaluation:
    # The objective step of every evaluation; an order-level run knows its own warm-up.
    if isinstance(result, OrderRunResult):
        warmup = result.warmup
    score, stats = objective_value(result, bars, objective, calendar, warmup)
    return Evaluation(dict(params), score, stats)


def run_search(
    bars: Bars,
    strategy: Strategy | Runner,
    candidates: Sequence[Params],
    config: FillConfig | None = None,
    *,
    objective: str = "sharpe",
    workers: int | None = None,
    progress: Progress | None = None,
    warmup: Callable[[Mapping[str, Any]], int] = lambda p: 0,
    calendar: Calendar | None = None,
    executor: Executor | None = None,
) -> list[Evaluation]:
    """Evaluate every candidate (in parallel by default); results keep the candidates' order.

    ``executor`` runs the evaluations elsewhere: any ``concurrent.futures.Executor``, e.g. a
    Dask cluster's ``client.get_executor()`` (see ``ffe_adapters.compute.dask``) for searches
    that outgrow one machine. Without it, local threads share the bars (the kernels release
    the GIL).
    """
    if not candidates:
        raise ValidationFailed("no parameter combinations to evaluate")
    cfg = config or FillConfig()
    cal = calendar or Calendar.of(bars)
    total = len(candidates)
    if executor is not None:
        futures = [
            executor.submit(evaluate, bars, strategy, p, cfg, objective, cal, warmup(p))
            for p in candidates
        ]
        for finished, _ in enumerate(as_completed(futures), start=1):
            if progress is not None:
                progress(finished, total)
        return [f.result() for f in futures]

    n_workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    pool = ThreadPoolExecutor(max_workers=n_workers) if n_workers > 1 and total > 1 else None
    try:
        return _run_local(bars, strategy, candidates, cfg, objective, progress, warmup, cal, pool)
    finally:
        if pool is not None:
            pool.shutdown()


def _run_local(
    bars: Bars,
    strategy: Strategy | Runner,
    candidates: Sequence[Params],
    cfg: FillConfig,
    objective: str,
    progress: Progress | None,
    warmup: Callable[[Mapping[str, Any]], int],
    cal: Calendar,
    pool: ThreadPoolExecutor | None,
) -> list[Evaluation]:
    # One SMA (EMA, ...) per distinct period, shared by the candidates that read it, when the
    # strategy declares its indicators and they fit SHARED_BUDGET.
    total = len(candidates)
    done = 0
    lock = threading.Lock()
    shared = None if isinstance(strategy, Runner) else SHARED_INDICATORS.get(strategy)
    arrays: dict[int, Any] = {}
    if shared is not None and all(p.keys() <= shared.params for p in candidates):
        keys = sorted({k for p in candidates for k in shared.keys(p)})
        if len(keys) * len(bars) * 8 <= SHARED_BUDGET:
            close = bars.close

            def indicator(k: int) -> Any:
                return shared.compute(close, k)

            found = pool.map(indicator, keys) if pool is not None else map(indicator, keys)
            arrays = dict(zip(keys, found, strict=True))

    def one(p: Params) -> Evaluation:
        nonlocal done
        if arrays and shared is not None:
            target = shared.target([arrays[k] for k in shared.keys(p)], p)
            ev = evaluate_target(bars, target, p, cfg, objective, cal, warmup(p))
        else:
            ev = evaluate(bars, strategy, p, cfg, objective, cal, warmup(p))
        with lock:
            done += 1
            if progress is not None:
                progress(done, total)
        return ev

    if pool is None:
        return [one(p) for p in candidates]
    return list(pool.map(one, candidates))


def best(evaluations: Sequence[Evaluation]) -> Evaluation:
    """The highest-scoring evaluation (the first one on ties)."""
    scores = np.array([e.score for e in evaluations], dtype=np.float64)
    return evaluations[int(np.argmax(scores))]
