"""ffe's simulator and statistics against backtesting.py 0.6 on its own test data.

A long-only, all-equity SMA cross with commission as a fraction of traded value; a position
open at the end is closed on the last bar (``finalize_trades=True``).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

bt = pytest.importorskip("backtesting")
from backtesting.lib import crossover  # noqa: E402
from backtesting.test import EURUSD, GOOG, SMA  # noqa: E402

from ffe_core.backtest.data import Bars, make_bars  # noqa: E402
from ffe_core.backtest.simulator import FillConfig, RunResult, simulate  # noqa: E402
from ffe_core.backtest.stats import compute_stats  # noqa: E402
from ffe_core.backtest.strategies import sma_cross  # noqa: E402

REL = 1e-9


class SmaCross(bt.Strategy):  # type: ignore[misc]
    fast = 10
    slow = 30

    def init(self) -> None:
        self.s1 = self.I(SMA, self.data.Close, self.fast)
        self.s2 = self.I(SMA, self.data.Close, self.slow)

    def next(self) -> None:
        if crossover(self.s1, self.s2):
            if not self.position:
                self.buy()
        elif crossover(self.s2, self.s1):
            self.position.close()


CASES = [
    pytest.param(GOOG, 0.002, 0.0, 10, 30, id="GOOG-10-30"),
    pytest.param(GOOG, 0.001, 0.0, 5, 20, id="GOOG-5-20"),
    pytest.param(GOOG, 0.002, 0.001, 20, 50, id="GOOG-20-50-spread"),
    pytest.param(EURUSD, 0.0002, 0.0, 10, 30, id="EURUSD-10-30"),
    pytest.param(EURUSD, 0.0001, 0.0, 24, 96, id="EURUSD-24-96"),
]

STAT_KEYS = [
    "Exposure Time [%]",
    "Equity Final [$]",
    "Equity Peak [$]",
    "Commissions [$]",
    "Return [%]",
    "Buy & Hold Return [%]",
    "Return (Ann.) [%]",
    "Volatility (Ann.) [%]",
    "CAGR [%]",
    "Sharpe Ratio",
    "Sortino Ratio",
    "Calmar Ratio",
    "Alpha [%]",
    "Beta",
    "Max. Drawdown [%]",
    "Avg. Drawdown [%]",
    "Max. Drawdown Duration",
    "Avg. Drawdown Duration",
    "# Trades",
    "Win Rate [%]",
    "Best Trade [%]",
    "Worst Trade [%]",
    "Avg. Trade [%]",
    "Max. Trade Duration",
    "Avg. Trade Duration",
    "Profit Factor",
    "Expectancy [%]",
    "SQN",
    "Kelly Criterion",
]


def _run_both(
    df: pd.DataFrame, commission: float, spread: float, fast: int, slow: int
) -> tuple[Any, RunResult, Bars]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = bt.Backtest(
            df, SmaCross, cash=10_000, commission=commission, spread=spread, finalize_trades=True
        ).run(fast=fast, slow=slow)
    bars = make_bars(df.Open, df.High, df.Low, df.Close, df.Volume, df.index.values)
    target = sma_cross(
        bars.open, bars.high, bars.low, bars.close, bars.volume, fast=fast, slow=slow
    )
    ours = simulate(bars, target, FillConfig(cash=10_000, commission=commission, spread=spread))
    return ref, ours, bars


@pytest.mark.parametrize(("df", "commission", "spread", "fast", "slow"), CASES)
def test_trade_list_and_equity_equal_backtesting_py(
    df: pd.DataFrame, commission: float, spread: float, fast: int, slow: int
) -> None:
    ref, ours, _ = _run_both(df, commission, spread, fast, slow)
    trades = ref["_trades"]
    assert len(trades) > 5
    assert len(ours.trades) == len(trades)
    np.testing.assert_array_equal(ours.trades.entry_bar, trades["EntryBar"].to_numpy())
    np.testing.assert_array_equal(ours.trades.exit_bar, trades["ExitBar"].to_numpy())
    np.testing.assert_allclose(ours.trades.size, trades["Size"].to_numpy(), rtol=REL)
    np.testing.assert_allclose(ours.trades.entry_price, trades["EntryPrice"].to_numpy(), rtol=REL)
    np.testing.assert_allclose(ours.trades.exit_price, trades["ExitPrice"].to_numpy(), rtol=REL)
    np.testing.assert_allclose(ours.trades.pnl, trades["PnL"].to_numpy(), rtol=REL)
    np.testing.assert_allclose(ours.equity, ref["_equity_curve"]["Equity"].to_numpy(), rtol=REL)
    assert math.isclose(ours.equity[-1], ref["Equity Final [$]"], rel_tol=REL)


def test_open_position_is_closed_on_the_last_bar_and_counted() -> None:
    ref, ours, bars = _run_both(GOOG, 0.002, 0.0, 10, 30)
    last = len(bars) - 1
    still_open = ref["_trades"]["ExitBar"].to_numpy() == last
    assert still_open.sum() == 1, "case chosen so a position is open at the end"
    assert ours.trades.exit_bar[-1] == last
    assert ours.trades.exit_price[-1] == bars.open[last]


@pytest.mark.parametrize(("df", "commission", "spread", "fast", "slow"), CASES)
def test_statistics_equal_backtesting_py(
    df: pd.DataFrame, commission: float, spread: float, fast: int, slow: int
) -> None:
    ref, ours, bars = _run_both(df, commission, spread, fast, slow)
    stats = compute_stats(ours, bars, warmup=slow - 1, alpha_beta=True)
    assert np.datetime64(ref["Start"]) == stats["Start"]
    assert np.datetime64(ref["End"]) == stats["End"]
    assert ref["Duration"] == stats["Duration"]
    for key in STAT_KEYS:
        want, got = ref[key], stats[key]
        if isinstance(want, pd.Timedelta):
            assert want == got, key
        elif isinstance(want, float) and math.isnan(want):
            assert math.isnan(got), key
        else:
            assert math.isclose(got, want, rel_tol=REL, abs_tol=1e-12), (key, got, want)
