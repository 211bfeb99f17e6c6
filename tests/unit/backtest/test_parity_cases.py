"""The cases of issue 20 beyond the happy path, one by one, against backtesting.py 0.6.

The first group is equal to backtesting.py; the second shows each documented difference
(docs/backtesting.md, "Where ffe differs from backtesting.py") with both results side by side.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ffe_core import indicators as ind
from ffe_core.backtest.simulator import FillConfig, simulate
from ffe_core.backtest.stats import compute_stats
from ffe_core.backtest.strategies import bollinger, donchian_breakout, rsi_reversion, spec_for

from .bt_reference import Case, bt, run_backtesting_py, run_ffe
from .test_equivalence_random import check_case

GOOG = pytest.importorskip("backtesting.test").GOOG
FLAT = (100.0, 101.0, 99.0, 100.0)


def hand_case(
    rows: list[tuple[float, float, float, float]],
    target: list[int],
    *,
    limit: dict[int, float] | None = None,
    stop: dict[int, float] | None = None,
    **config: Any,
) -> Case:
    o, h, lo, c = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
    n = len(rows)
    df = pd.DataFrame(
        {"Open": o, "High": h, "Low": lo, "Close": c, "Volume": np.ones(n)},
        index=pd.date_range("2021-01-04", periods=n, freq="D"),
    )
    lim, stp = np.full(n, np.nan), np.full(n, np.nan)
    for i, v in (limit or {}).items():
        lim[i] = v
    for i, v in (stop or {}).items():
        stp[i] = v
    cfg = FillConfig(**{"cash": 1_000.0, **config})
    return Case(0, df, np.array(target, dtype=np.int8), lim, stp, cfg)


def _run_plain(case: Case, strategy: type, **kwargs: Any) -> Any:
    cfg = case.config
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bt.Backtest(
            case.df,
            strategy,
            cash=cfg.cash,
            commission=(cfg.commission_fixed, cfg.commission),
            spread=cfg.spread,
            trade_on_close=cfg.trade_on_close,
            finalize_trades=cfg.finalize,
        ).run(**kwargs)


# --- equal to backtesting.py ------------------------------------------------------------------


def test_trade_on_close_books_the_fill_on_the_next_bar_as_backtesting_py() -> None:
    rows = [FLAT, FLAT, (100, 103, 99, 102), (102, 105, 101, 104), (104, 106, 103, 105), FLAT]
    case = hand_case(rows, [0, 1, 1, 0, 0, 0], commission=0.01, trade_on_close=True)
    run = run_ffe(case)
    t = run.trades
    assert (t.entry_bar[0], t.entry_price[0]) == (1, 100.0)  # bar 1's close
    assert (t.exit_bar[0], t.exit_price[0]) == (3, 104.0)  # bar 3's close
    # Bar 1's equity is before the fill; the entry commission appears on bar 2.
    assert run.equity[1] == 1_000.0
    assert run.equity[2] == pytest.approx(1_000.0 + 9 * 2 - 9 * 100 * 0.01)
    check_case(case)


def test_forced_close_at_zero_equity_pays_the_exit_commission() -> None:
    rows = [FLAT, FLAT, FLAT, (150, 260, 150, 250), FLAT, FLAT]
    case = hand_case(rows, [0, -1, -1, -1, -1, -1], commission=0.002)
    run = run_ffe(case)
    t = run.trades
    assert run.equity[3] == 0.0 and len(t) == 1 and t.exit_bar[0] == 3
    size, entry, exit_ = t.size[0], t.entry_price[0], t.exit_price[0]
    assert exit_ == 250.0
    assert t.commission[0] == pytest.approx(abs(size) * (entry + exit_) * 0.002)
    check_case(case)


def test_a_target_set_at_bar_0_enters_after_the_first_next() -> None:
    rows = [FLAT, (101, 102, 100, 101), (102, 103, 101, 102), (103, 104, 102, 103)]
    case = hand_case([*rows, (104, 105, 103, 104)], [1, 1, 1, 1, 1])
    t = run_ffe(case).trades
    # Bar 0's target is not acted on (backtesting.py's first next() is on bar 1).
    assert (t.entry_bar[0], t.entry_price[0]) == (2, 102.0)
    check_case(case)


@pytest.mark.parametrize("finalize", [True, False])
def test_finalize_closes_the_last_position_or_leaves_it_open(finalize: bool) -> None:
    rows = [FLAT, FLAT, (100, 103, 99, 102), (102, 105, 101, 104), (105, 106, 104, 105.5)]
    case = hand_case(rows, [0, 1, 1, 1, 1], finalize=finalize, commission=0.001)
    run = run_ffe(case)
    if finalize:
        assert len(run.trades) == 1 and run.trades.exit_price[0] == 105.0  # last bar's open
    else:
        assert len(run.trades) == 0
        assert run.equity[-1] == pytest.approx(1_000 + 9 * (105.5 - 100) - 9 * 100 * 0.001)
    check_case(case)


class _Level(bt.Strategy):  # type: ignore[misc]
    """A backtesting.py level strategy: buy when ``up`` holds while flat, close on ``down``."""

    name = "rsi_reversion"
    _n = 0

    def init(self) -> None:
        # Indicators live on attributes: backtesting.py slices those to the current bar.
        c = np.asarray(self.data.Close, dtype=float)
        h, lo = np.asarray(self.data.High, dtype=float), np.asarray(self.data.Low, dtype=float)
        if self.name == "rsi_reversion":
            self.a = self.I(lambda: ind.rsi(c, 14))
            self.b = self.I(lambda: self.a)
        elif self.name == "bollinger":
            _, up, low = ind.bollinger(c, 20, 2.0)
            self.a, self.b = self.I(lambda: low), self.I(lambda: up)
        else:
            hi, lw = ind.donchian(h, lo, 20)
            self.a = self.I(lambda: np.r_[np.nan, hi[:-1]])
            self.b = self.I(lambda: np.r_[np.nan, lw[:-1]])

    def rule(self) -> tuple[bool, bool]:
        c, a, b = self.data.Close[-1], self.a[-1], self.b[-1]
        if self.name == "rsi_reversion":
            return a < 30, a > 70
        if self.name == "bollinger":
            return c < a, c > b
        return c > a, c < b

    def next(self) -> None:
        if len(self.data) == self._n:
            return  # no decision on the last bar (documented difference below)
        up, down = self.rule()
        if up:
            if not self.position:
                self.buy()
        elif down and self.position:
            self.position.close()


@pytest.mark.parametrize(
    "strategy", [rsi_reversion, bollinger, donchian_breakout], ids=lambda f: f.__name__
)
def test_level_strategies_act_at_backtesting_pys_first_next(strategy: Any) -> None:
    df = GOOG
    none = np.full(len(df), np.nan)
    cfg = FillConfig(cash=10_000, commission=0.002)
    case = Case(0, df, np.zeros(len(df), dtype=np.int8), none, none, cfg)
    bars = case.bars
    target = strategy(bars.open, bars.high, bars.low, bars.close, bars.volume)
    ours = simulate(bars, target, case.config)
    ref_strategy = type("Ref", (_Level,), {"name": strategy.__name__, "_n": len(df)})
    ref = _run_plain(case, ref_strategy)
    rt = ref["_trades"]
    assert len(rt) > 3
    np.testing.assert_array_equal(ours.trades.entry_bar, rt["EntryBar"].to_numpy())
    np.testing.assert_array_equal(ours.trades.exit_bar, rt["ExitBar"].to_numpy())
    np.testing.assert_allclose(ours.trades.pnl, rt["PnL"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours.equity, ref["_equity_curve"]["Equity"], rtol=1e-9)
    stats = compute_stats(ours, bars, warmup=spec_for(strategy.__name__).warmup({}))
    for key in ("Return [%]", "Buy & Hold Return [%]", "Sharpe Ratio", "Exposure Time [%]"):
        assert stats[key] == pytest.approx(ref[key], rel=1e-9), key


class _BuyOnBar(bt.Strategy):  # type: ignore[misc]
    bar = 0
    sl: float | None = None
    close_on: int | None = None

    def init(self) -> None:
        pass

    def next(self) -> None:
        i = len(self.data) - 1
        if i == self.bar:
            self.buy(sl=self.sl)
        elif i == self.close_on:
            self.position.close()


def test_a_decided_exit_fills_at_the_open_before_a_resting_stop_loss() -> None:
    rows = [FLAT, FLAT, FLAT, FLAT, (100, 101, 90, 92), FLAT]
    case = hand_case(rows, [0, 1, 1, 0, 0, 0], sl=0.05)
    t = run_ffe(case).trades
    ref = _run_plain(case, _BuyOnBar, bar=1, sl=95.0, close_on=3)
    # Both decided to exit at bar 3's close; bar 4 opens at 100 and then trades down to 90.
    # backtesting.py queues a close ahead of the resting stop-loss, as ffe fills it first.
    assert ref["_trades"]["ExitPrice"].iloc[0] == 100.0
    assert (t.exit_bar[0], t.exit_price[0]) == (4, 100.0)
    check_case(case)


# --- documented differences -------------------------------------------------------------------


def test_difference_trade_on_close_end_of_data_exit() -> None:
    rows = [FLAT, FLAT, (100, 103, 99, 102), (102, 105, 101, 104), (104, 106, 103, 105)]
    case = hand_case(rows, [0, 1, 1, 1, 1], trade_on_close=True)
    t = run_ffe(case).trades
    rt = run_backtesting_py(case)["_trades"]
    # backtesting.py re-runs its broker on the last bar with "previous close" prices.
    assert (rt["ExitBar"].iloc[-1], rt["ExitPrice"].iloc[-1]) == (3, 104.0)
    # ffe closes at the last close, on the last bar: the position was held through it.
    assert (t.exit_bar[-1], t.exit_price[-1]) == (4, 105.0)


def test_difference_stop_entry_after_a_gap_with_trade_on_close() -> None:
    rows = [FLAT, FLAT, (105, 106, 104, 105), FLAT]
    case = hand_case(rows, [0, 1, 1, 1], stop={1: 102.0}, trade_on_close=True)
    t = run_ffe(case).trades
    rt = run_backtesting_py(case)["_trades"]
    # backtesting.py: max(previous close, stop) = 102, a price bar 2 never traded at.
    assert rt["EntryPrice"].iloc[0] == 102.0
    # ffe: a triggered stop is a market order at the bar's open when it gapped over the stop.
    assert (t.entry_bar[0], t.entry_price[0]) == (2, 105.0)


def test_difference_stop_limit_entry_that_gaps_above_the_stop() -> None:
    rows = [FLAT, FLAT, (103, 105, 102.5, 104), FLAT]
    case = hand_case(rows, [0, 1, 1, 1], stop={1: 102.0}, limit={1: 104.0})
    t = run_ffe(case).trades
    rt = run_backtesting_py(case)["_trades"]
    # backtesting.py: min(stop, limit) = 102, below bar 2's low of 102.5.
    assert rt["EntryPrice"].iloc[0] == 102.0
    # ffe: the triggered order is a buy limit at 104 arriving at the open of 103.
    assert t.entry_price[0] == 103.0


def test_difference_a_change_on_the_last_bar_is_ignored() -> None:
    rows = [FLAT, FLAT, FLAT, FLAT]
    case = hand_case(rows, [0, 0, 0, 1], commission=0.01)
    ref = _run_plain(case, _BuyOnBar, bar=3)
    ours = run_ffe(case)
    # backtesting.py's finalize pass fills the order on the last bar's open and keeps the
    # position out of its trade list, its commission in the final equity.
    assert ref["# Trades"] == 0 and ref["Equity Final [$]"] < 1_000.0
    assert len(ours.trades) == 0 and ours.equity[-1] == 1_000.0


def test_difference_a_drawdown_only_on_the_last_bar() -> None:
    rows = [FLAT, (101, 102, 100, 101), (102, 103, 101, 102), (103, 104, 102, 103), FLAT]
    case = hand_case(rows, [0, 1, 1, 1, 1])
    ours = compute_stats(run_ffe(case), case.bars)
    ref = run_backtesting_py(case)
    assert ours["Max. Drawdown [%]"] == pytest.approx(ref["Max. Drawdown [%]"])
    assert ours["Max. Drawdown [%]"] < 0
    # backtesting.py's fallback when no drawdown has ended counts the last bar's drawdown as
    # its average and reports drawdown *fractions* as durations; ffe counts drawdowns that
    # span a bar boundary (as backtesting.py does in every other case): none here.
    assert ref["Avg. Drawdown [%]"] == ref["Max. Drawdown [%]"]
    assert isinstance(ref["Max. Drawdown Duration"], float)
    assert np.isnan(ours["Avg. Drawdown [%]"]) and np.isnan(ours["Max. Drawdown Duration"])
