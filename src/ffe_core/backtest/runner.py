"""How one parameter set becomes a run (:class:`Runner`), shared by searches, walk-forward and
order-level strategies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from ffe_core.backtest.data import Bars
from ffe_core.backtest.simulator import FillConfig, RunResult, simulate

Params = dict[str, Any]
Strategy = Callable[..., Any]


@dataclass(frozen=True)
class Runner:
    """How one parameter set becomes a run: ``run(bars, params, config, first)`` trades
    ``bars[first:]`` (the bars before only warm the signals) and returns its result, bar 0 of
    the result being bar ``first``. Searches and walk-forward take a target strategy (a
    function returning target positions) or a Runner (e.g.
    :func:`ffe_core.backtest.orders.order_runner` for order-level strategies)."""

    run: Callable[[Bars, Params, FillConfig, int], RunResult]


def _run_targets(
    strategy: Strategy, bars: Bars, params: Params, config: FillConfig, first: int
) -> RunResult:
    target = strategy(bars.open, bars.high, bars.low, bars.close, bars.volume, **params)
    if first == 0:
        return simulate(bars, target, config)
    return simulate(bars.slice(first, len(bars)), np.asarray(target)[first:], config)


def runner_of(strategy: Strategy | Runner) -> Runner:
    """``strategy`` as a :class:`Runner` (a target strategy is simulated on its targets)."""
    if isinstance(strategy, Runner):
        return strategy
    return Runner(partial(_run_targets, strategy))
