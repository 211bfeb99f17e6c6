"""Property tests of what money depends on, over random bars and random targets."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ffe_core.backtest.data import make_bars
from ffe_core.backtest.simulator import FillConfig, simulate


@st.composite
def scenario(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    n = draw(st.integers(3, 60))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    open_ = close * np.exp(rng.normal(0, 0.01, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.02, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.02, n))
    target = rng.choice(np.array([-1, 0, 1], dtype=np.int8), n, p=[0.2, 0.5, 0.3])
    cfg = FillConfig(
        cash=draw(st.sampled_from([1_000.0, 10_000.0])),
        commission=draw(st.sampled_from([0.0, 0.001, 0.01])),
        commission_fixed=draw(st.sampled_from([0.0, 1.0])),
        spread=draw(st.sampled_from([0.0, 0.002])),
        slippage=draw(st.sampled_from([0.0, 0.001])),
        unit_step=draw(st.sampled_from([1.0, 0.0])),
        trade_on_close=draw(st.booleans()),
        sl=draw(st.sampled_from([0.0, 0.02])),
        tp=draw(st.sampled_from([0.0, 0.03])),
    )
    return make_bars(open_, high, low, close), target, cfg


def _fee(size: float, price: float, cfg: FillConfig) -> float:
    return cfg.commission_fixed + abs(size) * price * cfg.commission


@settings(max_examples=150, deadline=None)
@given(scenario())
def test_equity_is_cash_plus_position_value_at_every_bar(case) -> None:  # type: ignore[no-untyped-def]
    bars, target, cfg = case
    run = simulate(bars, target, cfg)
    t = run.trades
    n = len(bars)
    if run.equity.min() <= 0:
        return  # ruined runs stop early; checked elsewhere
    # With trade_on_close a market fill at bar i's close is booked when bar i+1 is processed
    # (backtesting.py's order): signal exits and entries reach the equity one bar after their
    # bar in the trade list.
    late = int(cfg.trade_on_close)
    booked_entry = t.entry_bar + late
    booked_exit = t.exit_bar + late * (t.reason == 0)
    for i in range(n):
        done = booked_exit <= i
        cash = cfg.cash + t.pnl[done].sum()
        held = (booked_entry <= i) & ~done
        assert held.sum() <= 1
        for k in np.flatnonzero(held):
            cash += t.size[k] * (bars.close[i] - t.entry_price[k]) - _fee(
                t.size[k], t.entry_price[k], cfg
            )
        assert np.isclose(run.equity[i], cash, rtol=1e-9, atol=1e-6)


@settings(max_examples=150, deadline=None)
@given(scenario())
def test_every_trade_follows_a_signal_and_trades_never_overlap(case) -> None:  # type: ignore[no-untyped-def]
    bars, target, cfg = case
    n = len(bars)
    t = simulate(bars, target, cfg).trades
    # Decisions start at bar 1, compared with a flat start (bar 0's target is not acted on).
    prev = np.r_[0, 0, target[1:-1]]
    changed = np.flatnonzero((target != prev) & (np.arange(n) > 0))
    for k in range(len(t)):
        e = int(t.entry_bar[k])
        # the entry was decided on a change bar: the same bar (on close) or the one before
        signal_bar = e if cfg.trade_on_close else e - 1
        assert signal_bar in changed
        assert np.sign(t.size[k]) == target[signal_bar]
    assert np.all(t.entry_bar[1:] >= t.exit_bar[:-1])
    assert np.all(t.exit_bar >= t.entry_bar)


@settings(max_examples=100, deadline=None)
@given(scenario())
def test_commission_is_never_negative_and_costs_only_reduce_equity(case) -> None:  # type: ignore[no-untyped-def]
    bars, target, cfg = case
    run = simulate(bars, target, cfg)
    assert np.all(run.trades.commission >= 0)
    free = simulate(
        bars,
        target,
        FillConfig(cash=cfg.cash, unit_step=cfg.unit_step, trade_on_close=cfg.trade_on_close),
    )
    # Costs can shrink a position (fewer units fit), and a smaller losing position loses less;
    # so compare only runs that traded the same sizes: then costs can only reduce equity.
    same_trades = len(free.trades) == len(run.trades) and np.array_equal(
        free.trades.size, run.trades.size
    )
    if cfg.sl == cfg.tp == 0 and len(run.trades) <= 1 and same_trades:
        assert run.equity[-1] <= free.equity[-1] + 1e-9


@settings(max_examples=50, deadline=None)
@given(scenario())
def test_no_signal_means_no_trade_and_flat_equity(case) -> None:  # type: ignore[no-untyped-def]
    bars, _, cfg = case
    run = simulate(bars, np.zeros(len(bars), dtype=np.int8), cfg)
    assert len(run.trades) == 0
    assert np.all(run.equity == cfg.cash)
