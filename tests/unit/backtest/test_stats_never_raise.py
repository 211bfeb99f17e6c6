"""``compute_stats`` answers every valid run, with inf/NaN where backtesting.py gives them.

A Python float raises ``OverflowError`` on ``(1 + r) ** 365`` where numpy answers inf; a run
whose equity falls 94 % and recovers reached that (issue 20). The property test draws equity
curves with crashes, recoveries, flat stretches and a fall to zero, plus trades, over daily,
hourly and untimed bars.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ffe_core.backtest.data import make_bars
from ffe_core.backtest.simulator import FillConfig, RunResult, Trades
from ffe_core.backtest.stats import compute_stats, json_ready


def _trades(n: int, rng: np.random.Generator, count: int) -> Trades:
    entry = np.sort(rng.integers(0, max(n - 1, 1), count)).astype(np.int64)
    exit_ = np.minimum(entry + rng.integers(0, 5, count), n - 1).astype(np.int64)
    return Trades(
        size=rng.choice([-1.0, 1.0], count) * rng.uniform(0.001, 50, count),
        entry_bar=entry,
        exit_bar=exit_,
        entry_price=rng.uniform(0.01, 1e5, count),
        exit_price=rng.uniform(0.01, 1e5, count),
        sl=np.full(count, np.nan),
        tp=np.full(count, np.nan),
        commission=rng.uniform(0, 5, count),
        reason=np.zeros(count, dtype=np.int64),
    )


def _run(equity: np.ndarray, trades: Trades) -> RunResult:
    return RunResult(trades, equity, FillConfig())


def _bars(n: int, freq: str | None, rng: np.random.Generator):  # type: ignore[no-untyped-def]
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.05, n)))
    time = None if freq is None else pd.date_range("2020-01-01", periods=n, freq=freq).values
    return make_bars(close, close * 1.01, close * 0.99, close, np.ones(n), time)


@settings(max_examples=150)
@given(
    moves=st.lists(
        st.one_of(
            st.floats(-0.99, 5.0),
            st.just(-0.94),
            st.just(0.0),
            st.floats(-1e-9, 1e-9),
            st.just(15.0),
        ),
        min_size=1,
        max_size=400,
    ),
    to_zero=st.booleans(),
    freq=st.sampled_from(["D", "h", "W", None]),
    count=st.integers(0, 6),
    seed=st.integers(0, 2**16),
)
def test_compute_stats_never_raises(
    moves: list[float], to_zero: bool, freq: str | None, count: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    equity = 10_000 * np.cumprod(1 + np.array([0.0, *moves]))
    if to_zero and equity.size > 2:
        equity[-(equity.size // 3 or 1) :] = 0.0  # the forced close when equity reaches zero
    n = equity.size
    bars = _bars(n, freq, rng)
    stats = compute_stats(_run(equity, _trades(n, rng, count)), bars, alpha_beta=True)
    assert stats["# Trades"] == count
    assert stats["Equity Final [$]"] == equity[-1]
    out = json_ready(stats)
    assert all(v is None or not isinstance(v, float) or math.isfinite(v) for v in out.values())


def test_a_94_percent_fall_and_recovery_gives_backtesting_py_numbers() -> None:
    """The case of the issue: backtesting.py's formulas give inf/NaN here; so do ours."""
    from backtesting._stats import compute_stats as bt_stats

    n = 20
    days = pd.date_range("2021-01-01", periods=n, freq="D")
    equity = np.full(n, 10_000.0)
    equity[10] = 600.0  # -94 %, then back the next day
    close = np.linspace(100, 130, n)
    bars = make_bars(close, close, close, close, np.ones(n), days.values)
    empty = _trades(n, np.random.default_rng(0), 0)
    ours = compute_stats(_run(equity, empty), bars)
    ohlc = pd.DataFrame({"Open": close, "High": close, "Low": close, "Close": close}, index=days)
    theirs = bt_stats(
        trades=[],
        equity=equity,
        ohlc_data=ohlc,
        strategy_instance=None,
        risk_free_rate=0.0,
    )
    for key in ("Return (Ann.) [%]", "Volatility (Ann.) [%]", "CAGR [%]", "Sharpe Ratio"):
        a, b = float(ours[key]), float(theirs[key])
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9), key
    assert math.isinf(float(ours["Volatility (Ann.) [%]"]))
