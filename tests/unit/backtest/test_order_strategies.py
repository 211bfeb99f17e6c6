"""The compiled order-level form and the Python Strategy form: same broker, same results."""

from __future__ import annotations

import math
import warnings
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ffe_core import indicators as ind
from ffe_core.backtest.data import make_bars
from ffe_core.backtest.order_strategies import ORDER_STRATEGIES, SMA_BRACKET
from ffe_core.backtest.orders import BrokerConfig, Strategy, run_compiled_strategy, run_strategy
from ffe_core.backtest.simulator import FillConfig
from ffe_core.backtest.stats import compute_stats

from .bt_reference import _bars
from .order_reference import bt
from .test_equivalence_random import REL, _close


class BtBracket(bt.Strategy):  # type: ignore[misc]
    """sma_bracket written for backtesting.py (trailing as its TrailingStrategy does)."""

    fast = 10
    slow = 30
    sl = 0.0
    tp = 0.0
    trail = 0.0

    def init(self) -> None:
        self.f = self.I(ind.sma, self.data.Close, self.fast)
        self.s = self.I(ind.sma, self.data.Close, self.slow)

    def next(self) -> None:
        c = float(self.data.Close[-1])
        f, s = self.f, self.s
        if f[-2] < s[-2] and f[-1] > s[-1]:
            if self.position.size <= 0:
                self.position.close()
                self.buy(
                    sl=c * (1 - self.sl) if self.sl else None,
                    tp=c * (1 + self.tp) if self.tp else None,
                )
        elif s[-2] < f[-2] and s[-1] > f[-1]:
            self.position.close()
        if self.trail:
            for t in self.trades:
                t.sl = max(t.sl or -np.inf, c * (1 - self.trail))


class PyBracket(Strategy):
    """sma_bracket as a Python Strategy."""

    fast = 10
    slow = 30
    sl = 0.0
    tp = 0.0
    trail = 0.0

    def init(self) -> None:
        self.f = self.I(ind.sma, self.data.Close, self.fast)
        self.s = self.I(ind.sma, self.data.Close, self.slow)

    def next(self) -> None:
        c = float(self.data.Close[-1])
        f, s = self.f, self.s
        if f[-2] < s[-2] and f[-1] > s[-1]:
            if self.position.size <= 0:
                self.position.close()
                self.buy(
                    sl=c * (1 - self.sl) if self.sl else None,
                    tp=c * (1 + self.tp) if self.tp else None,
                    trail=self.trail,
                )
        elif s[-2] < f[-2] and s[-1] > f[-1]:
            self.position.close()


@settings(max_examples=40)
@given(seed=st.integers(0, 2**32 - 1))
def test_compiled_python_and_backtesting_py_brackets_agree(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(60, 400))
    df = _bars(rng, n, gaps=True)
    bars = make_bars(df.Open, df.High, df.Low, df.Close, df.Volume, df.index.values)
    p: dict[str, Any] = {
        "fast": int(rng.integers(2, 8)),
        "slow": int(rng.integers(9, 25)),
        "sl": float(rng.choice([0.0, 0.02, 0.05])),
        "tp": float(rng.choice([0.0, 0.03, 0.1])),
        "trail": float(rng.choice([0.0, 0.02, 0.04])),
    }
    fill = FillConfig(
        cash=float(df.Close.iloc[0]) * 50,
        commission=float(rng.choice([0.0, 0.001])),
        trade_on_close=bool(rng.random() < 0.3),
    )
    cfg = BrokerConfig(fill)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = bt.Backtest(
            df,
            BtBracket,
            cash=fill.cash,
            commission=fill.commission,
            trade_on_close=fill.trade_on_close,
            finalize_trades=True,
        ).run(**p)
    compiled = run_compiled_strategy(bars, SMA_BRACKET, cfg, **p)
    python = run_strategy(bars, PyBracket, cfg, **p)
    ref_eq = ref["_equity_curve"]["Equity"].to_numpy()
    for run in (compiled, python):
        assert len(run.trades) == len(ref["_trades"])
        np.testing.assert_array_equal(run.trades.entry_bar, ref["_trades"]["EntryBar"])
        np.testing.assert_allclose(run.trades.exit_price, ref["_trades"]["ExitPrice"], rtol=REL)
        np.testing.assert_allclose(run.equity, ref_eq, rtol=REL, atol=fill.cash * 1e-12)
        stats = compute_stats(run, bars, warmup=run.warmup)
        for key in ("Buy & Hold Return [%]", "Return [%]", "Sharpe Ratio", "# Trades", "SQN"):
            _close(float(stats[key]), float(ref[key]), key, atol=1e-9)


def _bars_of(n: int = 200, seed: int = 1) -> Any:
    df = _bars(np.random.default_rng(seed), n, gaps=False)
    return make_bars(df.Open, df.High, df.Low, df.Close, df.Volume, df.index.values)


def test_sma_bracket_is_registered_by_name_and_runs_when_called() -> None:
    assert ORDER_STRATEGIES["sma_bracket"] is SMA_BRACKET
    bars = _bars_of(300)
    called = SMA_BRACKET(bars, fast=3, slow=9, tp=0.02)
    run = run_compiled_strategy(bars, SMA_BRACKET, fast=3, slow=9, tp=0.02)
    assert len(called.trades) == len(run.trades) > 0
    np.testing.assert_array_equal(called.equity, run.equity)


class FractionalBuyer(Strategy):
    def next(self) -> None:
        if len(self.data) == 5:
            self.buy(units=0.25)
        if len(self.data) == 20:
            self.trades[0].close(0.5)


def test_fractional_units_and_partial_close_keep_cash_consistent() -> None:
    bars = _bars_of()
    run = run_strategy(bars, FractionalBuyer, BrokerConfig(FillConfig(unit_step=0.0)))
    t = run.trades
    np.testing.assert_allclose(t.size, [0.125, 0.125])
    assert t.exit_bar.tolist() == [20, len(bars) - 1]
    assert math.isclose(run.equity[-1], 10_000 + float(t.pnl.sum()), rel_tol=1e-12)


class WrongStop(Strategy):
    def next(self) -> None:
        c = self.data.Close[-1]
        self.buy(sl=c * 1.1)


def test_an_order_with_sl_above_a_long_entry_is_refused() -> None:
    with pytest.raises(ValueError, match="Long orders require"):
        run_strategy(_bars_of(), WrongStop)


def test_unknown_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="no parameter"):
        run_strategy(_bars_of(), WrongStop, nope=1)
    with pytest.raises(ValueError, match="unknown parameter"):
        run_compiled_strategy(_bars_of(), SMA_BRACKET, nope=1)


def test_margin_must_be_a_fraction() -> None:
    with pytest.raises(ValueError, match="margin"):
        BrokerConfig(margin=0.0)


class ManyTrades(Strategy):
    """Opens a unit trade every bar and never closes: the closed-trade table must grow."""

    def next(self) -> None:
        self.buy(size=1)


def test_the_trade_table_grows_past_its_first_size() -> None:
    bars = _bars_of(300)
    run = run_strategy(bars, ManyTrades, BrokerConfig(FillConfig(cash=1e9), hedging=True))
    assert len(run.trades) == 298  # entries filled from bar 2 to 299, all closed at the end


class Inspector(Strategy):
    """Reads what a strategy sees: times, its trades and orders as handles."""

    seen: ClassVar[list[tuple[Any, ...]]] = []

    def next(self) -> None:
        i = len(self.data) - 1
        if i == 3:
            self.buy(size=1, limit=float(self.data.Close[-1]) * 0.5)
            self.buy(size=1)
        if i == 5:
            t = self.trades[0]
            o = self.orders[0]
            self.seen.append((self.data.index[-1], t == self.trades[0], t.size, o.limit))
            o.cancel()
            self.seen.append((len(self.orders), o in self.orders))


def test_a_strategy_sees_times_and_stable_trade_and_order_handles() -> None:
    bars = _bars_of(20)
    Inspector.seen.clear()
    run_strategy(bars, Inspector)
    assert bars.time is not None
    (when, same, size, limit), (left, still) = Inspector.seen
    assert when == bars.time[5] and same and size == 1.0
    assert limit == pytest.approx(float(bars.close[3]) * 0.5)
    assert (left, still) == (0, False)
