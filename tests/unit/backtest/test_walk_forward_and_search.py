"""Windows, PBO, deflated Sharpe, parameter search and walk-forward on hand-checkable cases."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from ffe_core.backtest.data import make_bars
from ffe_core.backtest.overfitting import (
    deflated_sharpe,
    expected_max_sharpe,
    pbo_cscv,
    probabilistic_sharpe,
)
from ffe_core.backtest.search import grid, random_sample, run_search
from ffe_core.backtest.simulator import FillConfig
from ffe_core.backtest.strategies import STRATEGY_SPECS, sma_cross
from ffe_core.backtest.walk_forward import Window, make_windows, walk_forward


def test_rolling_and_anchored_windows() -> None:
    assert make_windows(10, 4, 3, anchored=False) == [Window(0, 4, 7), Window(3, 7, 10)]
    assert make_windows(11, 4, 3, anchored=True) == [
        Window(0, 4, 7),
        Window(0, 7, 10),
        Window(0, 10, 11),
    ]


def test_pbo_is_one_when_the_in_sample_winner_always_loses_out_of_sample() -> None:
    # Two strategies, two blocks: each wins exactly the block the other loses.
    a = np.r_[np.tile([0.02, 0.01], 5), np.tile([-0.02, -0.01], 5)]
    m = np.column_stack([a, -a])
    assert pbo_cscv(m, n_splits=2).pbo == 1.0


def test_pbo_is_zero_when_the_winner_stays_the_winner() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.01, (40, 3))
    m = noise + np.array([0.02, 0.0, -0.02])
    assert pbo_cscv(m, n_splits=4).pbo == 0.0


def test_deflated_sharpe_reduces_to_the_psr_without_trial_dispersion() -> None:
    # No dispersion -> no luck to deflate; PSR(0) with SR 0.1 over 101 normal returns.
    expected = NormalDist().cdf(0.1 * 10 / math.sqrt(1 + 2 / 4 * 0.01))
    assert deflated_sharpe(0.1, 101, sr_variance=0.0, n_trials=50) == pytest.approx(expected)
    assert probabilistic_sharpe(0.0, 0.0, 50) == 0.5


def test_more_trials_raise_the_bar_and_lower_the_dsr() -> None:
    assert expected_max_sharpe(0.01, 10) < expected_max_sharpe(0.01, 1000)
    lo = deflated_sharpe(0.1, 500, sr_variance=0.01, n_trials=1000)
    hi = deflated_sharpe(0.1, 500, sr_variance=0.01, n_trials=10)
    assert lo < hi


def test_grid_respects_constraint_and_random_sample_is_seeded() -> None:
    spec = STRATEGY_SPECS["sma_cross"]
    combos = grid({"fast": (5, 30), "slow": (20, 30)}, spec.constraint)
    assert combos == [{"fast": 5, "slow": 20}, {"fast": 5, "slow": 30}]
    space = {"a": tuple(range(10)), "b": tuple(range(10))}
    assert random_sample(space, 5, seed=3) == random_sample(space, 5, seed=3)
    assert len({tuple(p.values()) for p in random_sample(space, 20, seed=1)}) == 20


def _synthetic(n: int = 3000, seed: int = 1):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    o = np.r_[c[0], c[:-1]]
    t = np.datetime64("2020-01-01", "ns") + np.arange(n) * np.timedelta64(1, "D")
    return make_bars(o, np.maximum(o, c) * 1.002, np.minimum(o, c) * 0.998, c, time=t)


def test_parallel_search_equals_serial_search() -> None:
    bars = _synthetic()
    cands = grid({"fast": (5, 10, 20), "slow": (30, 50)})
    par = run_search(bars, sma_cross, cands, objective="sharpe", workers=2)
    ser = run_search(bars, sma_cross, cands, objective="sharpe", workers=1)
    assert [e.score for e in par] == [e.score for e in ser]
    assert [e.params for e in par] == cands


def test_walk_forward_stitches_out_of_sample_windows() -> None:
    bars = _synthetic()
    cands = grid({"fast": (5, 10), "slow": (30, 60)})
    seen: list[int] = []
    res = walk_forward(
        bars,
        sma_cross,
        cands,
        FillConfig(cash=10_000, commission=0.001),
        in_sample=1000,
        out_of_sample=500,
        objective="return",
        workers=1,
        progress=lambda done, total: seen.append(done),
    )
    assert [w.window for w in res.windows] == make_windows(3000, 1000, 500, anchored=False)
    assert seen == [1, 2, 3, 4]
    assert res.equity.size == 2000 and res.oos_start == 1000
    assert all(w.params in cands for w in res.windows)
    # compounding: each window's return chains into the stitched final equity
    growth = np.prod([1 + w.oos_return_pct / 100 for w in res.windows])
    assert res.equity[-1] == pytest.approx(10_000 * growth)
    assert 0.0 <= res.pbo <= 1.0 and 0.0 <= res.deflated_sharpe <= 1.0
