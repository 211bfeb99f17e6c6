"""The fill model on hand-made bars: each expected price follows from the documented rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ffe_core.backtest.data import make_bars
from ffe_core.backtest.fills import floordiv, order_size
from ffe_core.backtest.simulator import EXIT_REASONS, FillConfig, simulate


def bars_from(rows: list[tuple[float, float, float, float]]):  # type: ignore[no-untyped-def]
    o, h, lo, c = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
    return make_bars(o, h, lo, c)


FLAT = (100.0, 101.0, 99.0, 100.0)


def test_market_order_fills_at_next_open_by_default() -> None:
    bars = bars_from([FLAT, FLAT, (102, 103, 101, 102), (104, 105, 103, 104), (106, 107, 105, 106)])
    run = simulate(bars, [0, 1, 1, 0, 0], FillConfig(cash=1000))
    t = run.trades
    assert len(t) == 1
    assert (t.entry_bar[0], t.entry_price[0]) == (2, 102.0)
    assert (t.exit_bar[0], t.exit_price[0]) == (4, 106.0)
    assert t.size[0] == 9  # floor(1000 / 102)


def test_trade_on_close_fills_at_the_signal_bar_close() -> None:
    bars = bars_from([FLAT, (102, 103, 101, 102.5), (104, 105, 103, 104.5), (106, 107, 105, 106)])
    run = simulate(bars, [0, 1, 0, 0], FillConfig(cash=1000, trade_on_close=True))
    t = run.trades
    assert (t.entry_bar[0], t.entry_price[0]) == (1, 102.5)
    assert (t.exit_bar[0], t.exit_price[0]) == (2, 104.5)


def test_stop_loss_wins_when_both_levels_are_inside_one_bar() -> None:
    # Entry at 100; SL 95 and TP 105 are both inside bar 2's range.
    bars = bars_from([FLAT, FLAT, (100, 106, 94, 100), FLAT])
    run = simulate(bars, [1, 1, 1, 1], FillConfig(cash=1000, sl=0.05, tp=0.05))
    t = run.trades
    assert EXIT_REASONS[t.reason[0]] == "stop_loss"
    assert (t.exit_bar[0], t.exit_price[0]) == (2, 95.0)


def test_take_profit_alone_fills_at_its_level_and_gap_fills_at_open() -> None:
    bars = bars_from([FLAT, FLAT, (100, 106, 99, 100), FLAT, FLAT, (110, 111, 109, 110), FLAT])
    run = simulate(bars, [1, 1, 1, 0, 1, 1, 1], FillConfig(cash=1000, tp=0.05))
    t = run.trades
    assert EXIT_REASONS[t.reason[0]] == "take_profit"
    assert t.exit_price[0] == 105.0
    # Second entry at bar 5's open (110): TP 115.5 never reached; closed at the end.
    assert t.entry_price[1] == 110.0
    assert EXIT_REASONS[t.reason[1]] == "end"


def test_stop_loss_gapped_through_fills_at_the_open() -> None:
    bars = bars_from([FLAT, FLAT, FLAT, (90, 91, 89, 90), FLAT])
    t = simulate(bars, [0, 1, 1, 1, 1], FillConfig(cash=1000, sl=0.05)).trades
    assert (t.exit_bar[0], t.exit_price[0]) == (3, 90.0)


def test_no_reentry_after_a_stop_until_the_target_changes() -> None:
    bars = bars_from([FLAT, FLAT, (100, 101, 90, 95), FLAT, FLAT, FLAT])
    t = simulate(bars, [1, 1, 1, 1, 1, 1], FillConfig(cash=1000, sl=0.05)).trades
    assert len(t) == 1


def test_limit_entry_fills_at_limit_or_better_and_waits() -> None:
    bars = bars_from([FLAT, FLAT, FLAT, (99, 99.5, 97, 98), (96, 97, 95, 96), FLAT])
    limit = np.full(6, np.nan)
    limit[1] = 97.5  # working from bar 2: bar 2 low 99 misses, bar 3 low 97 fills at 97.5
    t = simulate(bars, [0, 1, 1, 1, 1, 1], FillConfig(cash=1000), limit=limit).trades
    assert (t.entry_bar[0], t.entry_price[0]) == (3, 97.5)
    limit[1] = 98.0
    bars2 = bars_from([FLAT, FLAT, FLAT, (97, 99, 96, 98), FLAT, FLAT])
    t2 = simulate(bars2, [0, 1, 1, 1, 1, 1], FillConfig(cash=1000), limit=limit).trades
    assert t2.entry_price[0] == 97.0  # opened below the limit: filled at the open


def test_limit_entry_is_cancelled_when_the_target_changes() -> None:
    bars = bars_from([FLAT, FLAT, FLAT, (95, 96, 90, 95), FLAT])
    limit = np.full(5, 92.0)
    t = simulate(bars, [1, 1, 0, 0, 0], FillConfig(cash=1000), limit=limit).trades
    assert len(t) == 0


def test_stop_entry_fills_at_stop_or_the_gap_open() -> None:
    bars = bars_from([FLAT, FLAT, (100, 103, 99, 102), (105, 106, 104, 105)])
    stop = np.full(4, 102.0)
    t = simulate(bars, [1, 1, 1, 1], FillConfig(cash=1000), stop=stop).trades
    assert (t.entry_bar[0], t.entry_price[0]) == (2, 102.0)
    stop[:] = 104.5
    t = simulate(bars, [1, 1, 1, 1], FillConfig(cash=1000), stop=stop).trades
    assert (t.entry_bar[0], t.entry_price[0]) == (3, 105.0)


def test_short_profits_when_price_falls() -> None:
    bars = bars_from([FLAT, FLAT, FLAT, (90, 91, 89, 90), (80, 81, 79, 80)])
    run = simulate(bars, [0, -1, -1, -1, 0], FillConfig(cash=1000))
    t = run.trades
    assert t.size[0] == -9  # "all equity" is 1 - 2**-52 of it: 999.99.. // 100
    assert t.pnl[0] == pytest.approx(9 * (100 - 80))
    assert run.equity[-1] == pytest.approx(1180.0)


def test_fixed_commission_is_paid_on_both_fills() -> None:
    bars = bars_from([FLAT, FLAT, FLAT, FLAT, FLAT])
    run = simulate(bars, [0, 1, 0, 0, 0], FillConfig(cash=1000, commission_fixed=2.5))
    assert run.trades.commission[0] == 5.0
    assert run.equity[-1] == pytest.approx(995.0)
    assert run.trades.size[0] == 9  # 1000 // (100 + 2.5): the fixed fee counts in sizing


def test_fractional_units_spend_the_whole_fraction() -> None:
    bars = bars_from([FLAT, FLAT, (30000, 30000, 30000, 30000), (31000, 31000, 31000, 31000)])
    t = simulate(bars, [0, 1, 0, 0], FillConfig(cash=1000, unit_step=0.0)).trades
    assert t.size[0] == pytest.approx(1000 / 30000)
    whole = simulate(bars, [0, 1, 0, 0], FillConfig(cash=1000)).trades
    assert len(whole) == 0  # not even one unit fits


def test_slippage_moves_market_fills_against_the_trader() -> None:
    bars = bars_from([FLAT, FLAT, FLAT, FLAT])
    t = simulate(bars, [0, 1, 0, 0], FillConfig(cash=1000, slippage=0.01)).trades
    assert t.entry_price[0] == pytest.approx(101.0)
    assert t.exit_price[0] == pytest.approx(99.0)


def test_a_change_on_the_last_bar_is_ignored() -> None:
    bars = bars_from([FLAT, FLAT, FLAT])
    assert len(simulate(bars, [0, 0, 1], FillConfig()).trades) == 0


def test_config_rejects_impossible_values() -> None:
    with pytest.raises(ValueError, match="size"):
        FillConfig(size=1.5)
    with pytest.raises(ValueError, match="cash"):
        FillConfig(cash=0)


@given(
    st.floats(1e-3, 1e9, allow_nan=False),
    st.floats(1e-3, 1e6, allow_nan=False),
)
def test_floordiv_matches_python(a: float, b: float) -> None:
    assert floordiv(a, b) == a // b


@given(st.integers(0, 2**40), st.floats(1e-3, 1e6, allow_nan=False), st.integers(-2, 2))
def test_floordiv_matches_python_next_to_whole_quotients(k: int, b: float, ulps: int) -> None:
    # a a few ulps from k * b: a / b may round to the whole number k while the exact quotient
    # lies below it (Python floors to k - 1); signs and zero take CPython's general path.
    a = float(k) * b
    for _ in range(abs(ulps)):
        a = float(np.nextafter(a, math.copysign(math.inf, ulps)))
    for x, y in ((a, b), (-a, b), (a, -b)):
        assert floordiv(x, y) == x // y, (x, y)


@given(st.floats(1.0, 1e7), st.floats(0.01, 1e4), st.floats(0.0, 0.05), st.floats(0.0, 10.0))
def test_order_size_never_spends_more_than_equity(
    equity: float, price: float, rel: float, fixed: float
) -> None:
    units = order_size(equity, 1.0, price, 1, 0.0, fixed, rel, 1.0)
    assert units >= 0 and units == math.floor(units)
    if units:
        assert units * price + (fixed + units * price * rel) <= equity * (1 + 1e-12)
