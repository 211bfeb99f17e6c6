"""The compiled passes of a whole run give what the array formulas they replace give.

``sma_cross`` is one pass (two running sums, crossovers, the held side) and must equal the
latch of the crossovers of two :func:`ffe_core.indicators.sma` series bit for bit; the drawdown
statistics come from one pass over the equity curve (a fast path and a general one for curves
with NaN, inf or a zero peak); ``Calendar.of`` finds period ends by binary search.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ffe_core import indicators as ind
from ffe_core.backtest.data import make_bars
from ffe_core.backtest.search import evaluate, run_search
from ffe_core.backtest.simulator import FillConfig, RunResult, simulate
from ffe_core.backtest.stats import (
    _BLOCK,
    Calendar,
    _drawdown_pass_general,
    _drawdowns,
    compute_stats,
    json_ready,
)
from ffe_core.backtest.strategies import _cross_latch, _ma_cross, ema_cross, sma_cross
from ffe_core.drawdown import drawdown

from .bt_reference import random_case


def _reference_drawdowns(equity: np.ndarray, t: np.ndarray) -> tuple[float, ...]:
    """backtesting.py's ``_drawdown_duration_peaks`` and ``dd.max()`` with numpy arrays."""
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = drawdown(equity, np.maximum.accumulate(equity))
    iloc = np.unique(np.r_[np.flatnonzero(dd == 0), dd.size - 1])
    prev, cur = iloc[:-1], iloc[1:]
    keep = cur > prev + 1
    prev, cur = prev[keep], cur[keep]
    peaks = np.array([dd[a : b + 1].max() for a, b in zip(prev, cur, strict=True)])
    dur = (t[cur] - t[prev]).astype(float)
    return (
        float(np.max(equity)),
        float(dd.max()),
        int(prev.size),
        float(peaks.sum()) if peaks.size else 0.0,
        float(dur.max()) if dur.size else -math.inf,
        float(dur.sum()),
    )


def _same(got: tuple[float, ...], want: tuple[float, ...]) -> None:
    for g, w in zip(got, want, strict=True):
        assert (math.isnan(g) and math.isnan(w)) or math.isclose(g, w, rel_tol=1e-12), (got, want)


@given(
    moves=st.lists(
        st.one_of(st.floats(-0.5, 0.5), st.just(0.0), st.just(-1.0), st.just(math.nan)),
        min_size=1,
        max_size=300,
    ),
    start=st.sampled_from([1.0, 10_000.0, 0.0]),
    stretch=st.integers(1, 3 * _BLOCK // 100),
    special=st.sampled_from([None, math.nan, math.inf, -1.0]),
    at=st.integers(0, 10**6),
)
def test_drawdown_passes_equal_the_array_formulas(
    moves: list[float], start: float, stretch: int, special: float | None, at: int
) -> None:
    # Repeating each point spreads the path over several blocks of the fast pass.
    equity = np.repeat(start * np.cumprod(1 + np.array([0.0, *moves])), stretch)
    if special is not None:
        equity[at % equity.size] = special
    t = np.arange(equity.size, dtype=np.int64) * 60 * 10**9
    want = _reference_drawdowns(equity, t)
    _same(tuple(_drawdown_pass_general(equity, t, True)), want)
    _same(_drawdowns(equity, t, True), want)


@given(seed=st.integers(0, 2**16), n=st.integers(2, 6 * _BLOCK), drift=st.floats(-1e-3, 1e-3))
def test_drawdowns_of_long_random_walks(seed: int, n: int, drift: float) -> None:
    rng = np.random.default_rng(seed)
    equity = 1e4 * np.exp(np.cumsum(rng.normal(drift, 1e-3, n)))
    t = np.cumsum(rng.integers(1, 5, n)).astype(np.int64) * 10**9
    _same(_drawdowns(equity, t, True), _reference_drawdowns(equity, t))
    _same(_drawdowns(equity, t, False), _reference_drawdowns(equity, np.arange(n)))


@given(
    freq=st.sampled_from(["min", "37min", "h", "D", "B", "W-SUN"]),
    n=st.integers(1, 3000),
    start=st.datetimes(pd.Timestamp("1960-01-01"), pd.Timestamp("2040-01-01")),
)
def test_calendar_period_ends_equal_a_pass_over_every_time(freq: str, n: int, start) -> None:  # type: ignore[no-untyped-def]
    times = pd.date_range(start, periods=n, freq=freq).values
    close = np.full(n, 100.0)
    cal = Calendar.of(make_bars(close, close, close, close, None, times))
    days = times.astype("datetime64[D]").view(np.int64)
    weekday = (days + 3) % 7
    key = (days + 3) // 7 if cal.annual_periods == 52.0 else days
    assert cal.period_last is not None
    np.testing.assert_array_equal(cal.period_last, np.flatnonzero(np.r_[key[1:] != key[:-1], True]))
    if cal.annual_periods in (252.0, 365.0):
        weekends = float(np.mean(weekday >= 5)) > 2 / 7 * 0.6
        assert cal.annual_periods == (365.0 if weekends else 252.0)


@given(
    steps=st.lists(st.floats(-0.02, 0.02), min_size=2, max_size=600),
    fast=st.integers(1, 12),
    extra=st.integers(0, 30),
    short=st.booleans(),
)
def test_sma_cross_in_one_pass_equals_the_crossovers_of_two_smas(
    steps: list[float], fast: int, extra: int, short: bool
) -> None:
    close = 100 * np.exp(np.cumsum(steps))
    close[::7] = np.round(close[::7], 1)  # ties and near-ties of the averages
    slow = fast + extra
    got = sma_cross(close, close, close, close, close, fast=fast, slow=slow, short=short)
    want = _ma_cross(ind.sma(close, fast), ind.sma(close, slow), short)
    np.testing.assert_array_equal(got, want)


def test_alpha_and_beta_only_on_request() -> None:
    n = 300
    close = 100 * np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.01, n)))
    times = pd.date_range("2021-01-01", periods=n, freq="h").values
    bars = make_bars(close, close * 1.01, close * 0.99, close, np.ones(n), times)
    run: RunResult = simulate(bars, sma_cross(close, close, close, close, close, fast=3, slow=9))
    plain = compute_stats(run, bars)
    full = compute_stats(run, bars, alpha_beta=True)
    assert "Beta" not in plain and "Alpha [%]" not in plain
    assert math.isfinite(full["Beta"]) and math.isfinite(full["Alpha [%]"])
    assert {k: v for k, v in full.items() if k not in ("Beta", "Alpha [%]")}.keys() == plain.keys()
    assert run.config == FillConfig()


@given(
    steps=st.lists(st.floats(-0.02, 0.02), min_size=2, max_size=400),
    pairs=st.lists(st.tuples(st.integers(1, 12), st.integers(1, 40)), min_size=1, max_size=6),
    short=st.booleans(),
    ema=st.booleans(),
)
def test_a_search_sharing_one_average_per_period_equals_each_strategy_run(
    steps: list[float], pairs: list[tuple[int, int]], short: bool, ema: bool
) -> None:
    # run_search computes each distinct SMA (EMA) once and latches its crossovers per
    # candidate: scores and statistics must equal running the strategy per candidate.
    close = 100 * np.exp(np.cumsum(steps))
    close[::5] = np.round(close[::5], 1)  # ties and near-ties of the averages
    times = pd.date_range("2021-01-01", periods=close.size, freq="h").values
    bars = make_bars(close, close * 1.01, close * 0.99, close, np.ones(close.size), times)
    strategy = ema_cross if ema else sma_cross
    cands = [{"fast": f, "slow": s, "short": short} for f, s in pairs]
    cfg = FillConfig(commission=0.001, unit_step=0.0)
    cal = Calendar.of(bars)
    got = run_search(bars, strategy, cands, cfg, objective="sharpe", workers=2)
    for ev, p in zip(got, cands, strict=True):
        want = evaluate(bars, strategy, p, cfg, "sharpe", cal)
        assert ev.params == want.params
        assert ev.score == want.score or (math.isnan(ev.score) and math.isnan(want.score))
        assert json_ready(dict(ev.stats)) == json_ready(dict(want.stats))
        np.testing.assert_array_equal(
            strategy(close, close, close, close, close, **p),
            _cross_latch(
                *(ind.ema(close, k) if ema else ind.sma(close, k) for k in (p["fast"], p["slow"])),
                short,
            ),
        )


def _same_run(a: RunResult, b: RunResult) -> None:
    np.testing.assert_array_equal(a.equity, b.equity)
    for name in ("size", "entry_bar", "exit_bar", "entry_price", "exit_price", "commission"):
        np.testing.assert_array_equal(getattr(a.trades, name), getattr(b.trades, name))
    for name in ("sl", "tp", "reason"):
        np.testing.assert_array_equal(getattr(a.trades, name), getattr(b.trades, name))


@pytest.mark.parametrize("kind", ["market", "orders", "stop_limit"])
def test_quiet_bars_of_the_simulator_equal_the_full_body(kind: str) -> None:
    # The shortcut books a bar on which nothing can happen with one test; every random
    # differential case (orders, SL/TP, trade_on_close, costs, gaps) must give the same run.
    for seed in range(150):
        case = random_case(seed, kind=kind)
        args = (case.bars, case.target, case.config)
        levels = {"limit": case.limit, "stop": case.stop}
        _same_run(simulate(*args, **levels), simulate(*args, **levels, quiet_bars=False))


@given(
    seed=st.integers(0, 2**16),
    n=st.integers(2, 400),
    every=st.integers(1, 200),
    vol=st.sampled_from([0.001, 0.05, 0.4]),
    sl=st.sampled_from([0.0, 0.02]),
    short=st.booleans(),
    on_close=st.booleans(),
)
def test_quiet_bars_through_long_holds_and_ruin(
    seed: int, n: int, every: int, vol: float, sl: float, short: bool, on_close: bool
) -> None:
    # Sparse targets make long quiet stretches; a volatile short (or long) reaches equity <= 0
    # inside one, where the run must stop on that bar as the full body does.
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0.002 if short else -0.002, vol, n)))
    open_ = np.r_[close[0], close[:-1]]
    high, low = np.maximum(open_, close) * 1.001, np.minimum(open_, close) * 0.999
    bars = make_bars(open_, high, low, close)
    sides = np.array([-1, 0, 1] if short else [0, 1], dtype=np.int8)
    target = np.repeat(rng.choice(sides, n // every + 1), every)[:n]
    cfg = FillConfig(commission=0.001, sl=sl, trade_on_close=on_close, unit_step=0.0)
    _same_run(simulate(bars, target, cfg), simulate(bars, target, cfg, quiet_bars=False))
