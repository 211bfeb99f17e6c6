"""Bars and helpers shared by the replay tests."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from ffe_core.backtest.data import Bars, make_bars
from ffe_core.backtest.replay import bar_models
from ffe_core.backtest.simulator import RunResult
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.domain.portfolio import Portfolio

INSTRUMENT = Instrument(symbol="GOOG", asset_class=AssetClass.EQUITY, base="GOOG", quote="USD")


def goog() -> Bars:
    pytest.importorskip("backtesting")
    from backtesting.test import GOOG

    return make_bars(GOOG.Open, GOOG.High, GOOG.Low, GOOG.Close, GOOG.Volume, GOOG.index.values)


def random_bars(n: int, seed: int, vol: float = 0.01) -> Bars:
    """A random walk with gaps, wicks and volume: open, high and low all carry information."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, vol, n)))
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, vol / 3, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, vol, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, vol, n))
    time = np.datetime64("2024-01-01T00:00") + np.arange(n) * np.timedelta64(1, "h")
    return make_bars(open_, high, low, close, rng.uniform(1, 10, n), time)


def contexts(bars: Bars, history: int | None) -> list[DecisionContext]:
    """The context a live decision gets at each bar (bars only; the rest is irrelevant here)."""
    models = bar_models(bars)
    portfolio = Portfolio(cash=Decimal(10_000))
    out = []
    for i in range(len(models)):
        lo = 0 if history is None else max(0, i + 1 - history)
        out.append(
            DecisionContext.model_construct(
                instrument=INSTRUMENT,
                as_of=models[i].ts,
                bars=tuple(models[lo : i + 1]),
                indicators={},
                position=portfolio.position("GOOG"),
                portfolio=portfolio,
                memory=(),
            )
        )
    return out


def assert_identical_runs(got: RunResult, want: RunResult) -> None:
    """Same trades and equity, bit for bit."""
    g, w = got.trades, want.trades
    assert len(g) == len(w)
    for name in ("size", "entry_bar", "exit_bar", "entry_price", "exit_price", "sl", "tp"):
        np.testing.assert_array_equal(getattr(g, name), getattr(w, name), err_msg=name)
    np.testing.assert_array_equal(g.commission, w.commission)
    np.testing.assert_array_equal(g.reason, w.reason)
    np.testing.assert_array_equal(got.equity, want.equity)
