"""Windowed indicators equal the indicator computed on each bar's own trailing window."""

from __future__ import annotations

import numpy as np
import pytest

from ffe_core import indicators as ind
from ffe_core.indicators import windowed as win
from tests.unit.replay.bars import random_bars


@pytest.mark.parametrize("history", [None, 1, 9, 27, 60, 200, 5000])
def test_every_value_is_the_indicator_on_that_bars_window(history: int | None) -> None:
    bars = random_bars(420, seed=history or 0)
    c, h, lo = bars.close, bars.high, bars.low
    got = {
        "sma": win.sma(c, 20, history),
        "macd": win.macd_hist(c, history),
        "macd_short": win.macd_hist(c, history, 3, 7, 4),
        "atr": win.atr(h, lo, c, 14, history),
        "rsi": win.rsi(c, 14, history),
        "upper": win.bollinger(c, 20, 2.0, history)[1],
        "lower": win.bollinger(c, 20, 2.0, history)[2],
        "vol": win.volatility(c, 20, history),
        "std": win.rolling_std(c, 20, history, 1),
    }
    for i in range(len(bars)):
        s = 0 if history is None else max(0, i + 1 - history)
        cw, hw, lw = c[s : i + 1], h[s : i + 1], lo[s : i + 1]
        want = {
            "sma": ind.sma(cw, 20),
            "macd": ind.macd(cw)[2],
            "macd_short": ind.macd(cw, 3, 7, 4)[2],
            "atr": ind.atr(hw, lw, cw, 14),
            "rsi": ind.rsi(cw, 14),
            "upper": ind.bollinger(cw, 20, 2.0)[1],
            "lower": ind.bollinger(cw, 20, 2.0)[2],
            "vol": ind.volatility(cw, 20),
            "std": ind.rolling_std(cw, 20, 1),
        }
        for name, series in want.items():
            # Bit for bit, NaN where the window is too short.
            np.testing.assert_array_equal(got[name][i], series[-1], err_msg=f"{name} bar {i}")


def test_recursions_really_depend_on_the_window_start() -> None:
    # Why the windows are recomputed: seeded at another bar, an EMA or Wilder average differs.
    bars = random_bars(400, seed=5)
    c, h, lo = bars.close, bars.high, bars.low
    assert not np.array_equal(win.macd_hist(c, 100)[150:], ind.macd(c)[2][150:])
    assert not np.array_equal(win.atr(h, lo, c, 14, 100)[150:], ind.atr(h, lo, c, 14)[150:])
    assert not np.array_equal(win.rsi(c, 14, 100)[150:], ind.rsi(c, 14)[150:])
    np.testing.assert_array_equal(win.macd_hist(c, None), ind.macd(c)[2])


@pytest.mark.parametrize("history", [12, 40])
def test_windowed_sma_keeps_pandas_exact_cases(history: int) -> None:
    # Flat runs (the mean is the repeated value) and mixed signs (a sum whose sign no value
    # has is 0): each window's SMA is still ind.sma on that window.
    rng = np.random.default_rng(history)
    c = np.repeat(np.round(rng.normal(0, 1, 200), 1), 3)[:500]
    got = win.sma(c, 6, history)
    for i in range(c.size):
        want = ind.sma(c[max(0, i + 1 - history) : i + 1], 6)[-1]
        np.testing.assert_array_equal(got[i], want, err_msg=f"bar {i}")


def test_bad_history_is_refused() -> None:
    with pytest.raises(ValueError, match="history"):
        win.sma(np.ones(5), 2, 0)


@pytest.mark.parametrize("extra", [1, 127, 128, 129, 300])
def test_windows_at_block_edges_are_the_indicator_on_their_window(extra: int) -> None:
    # Full windows are advanced in blocks side by side (vectorised): the first and last
    # windows of each block and a partial last block give the indicator's value bit for bit.
    history = 50
    bars = random_bars(history + extra, seed=extra)
    c, h, lo = bars.close, bars.high, bars.low
    got = {
        "sma": win.sma(c, 20, history),
        "macd": win.macd_hist(c, history, 5, 11, 4),
        "atr": win.atr(h, lo, c, 14, history),
        "rsi": win.rsi(c, 14, history),
    }
    for i in range(history - 1, len(bars)):
        cw, hw, lw = (
            c[i + 1 - history : i + 1],
            h[i + 1 - history : i + 1],
            lo[i + 1 - history : i + 1],
        )
        want = {
            "sma": ind.sma(cw, 20)[-1],
            "macd": ind.macd(cw, 5, 11, 4)[2][-1],
            "atr": ind.atr(hw, lw, cw, 14)[-1],
            "rsi": ind.rsi(cw, 14)[-1],
        }
        for name, value in want.items():
            np.testing.assert_array_equal(got[name][i], value, err_msg=f"{name} bar {i}")
