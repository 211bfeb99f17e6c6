"""Indicators against pandas/hand references, and bad data rejected with the row named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ffe_core import indicators as ind
from ffe_core.backtest.data import make_bars
from ffe_core.domain.errors import ValidationFailed

RNG = np.random.default_rng(7)
X = 100 + np.cumsum(RNG.normal(0, 1, 300))


def test_rolling_indicators_match_pandas() -> None:
    s = pd.Series(X)
    np.testing.assert_allclose(ind.sma(X, 20), s.rolling(20).mean(), rtol=1e-12)
    np.testing.assert_allclose(ind.rolling_std(X, 20), s.rolling(20).std(ddof=0), rtol=1e-10)
    np.testing.assert_allclose(ind.rolling_max(X, 7), s.rolling(7).max())
    np.testing.assert_allclose(ind.rolling_min(X, 7), s.rolling(7).min())
    mid, up, _lo = ind.bollinger(X, 20, 2.0)
    np.testing.assert_allclose(up - mid, 2 * s.rolling(20).std(ddof=0), rtol=1e-10)
    assert np.isnan(ind.sma(X, 20)[:19]).all() and not np.isnan(ind.sma(X, 20)[19])


def _closes(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    walk = 100 * np.exp(np.cumsum(rng.normal(0, 5e-4, n)))
    if kind == "walk":
        return walk
    if kind == "ticks":  # prices on a 0.1 grid: runs of equal closes
        return np.round(walk, 1)
    return np.repeat(rng.normal(0, 1, n // 4 + 1), 4)[:n]  # signs mixed, flat runs of 4


@pytest.mark.parametrize("kind", ["walk", "ticks", "signed"])
@pytest.mark.parametrize(("fast", "slow"), [(1, 4), (4, 9), (10, 30)])
def test_sma_and_its_crossovers_are_pandas_rolling_mean_bit_for_bit(
    kind: str, fast: int, slow: int
) -> None:
    # backtesting.py's SMA is pandas' rolling mean: equal bits give equal crossovers, so trades
    # equal backtesting.py's even where the two averages nearly touch.
    from ffe_core.backtest.strategies import _ma_cross

    c = _closes(kind, 20_000, np.random.default_rng(fast * slow))
    want_f = pd.Series(c).rolling(fast).mean().to_numpy()
    want_s = pd.Series(c).rolling(slow).mean().to_numpy()
    np.testing.assert_array_equal(ind.sma(c, fast), want_f)
    np.testing.assert_array_equal(ind.sma(c, slow), want_s)
    for short in (False, True):
        np.testing.assert_array_equal(
            ind.sma_cross_target(c, fast, slow, short), _ma_cross(want_f, want_s, short)
        )


def test_ema_is_seeded_with_the_sma_then_recursive() -> None:
    e = ind.ema(X, 10)
    assert np.isnan(e[:9]).all()
    assert e[9] == pytest.approx(X[:10].mean())
    assert e[10] == pytest.approx(2 / 11 * X[10] + 9 / 11 * e[9])


def test_rsi_extremes_and_range() -> None:
    assert ind.rsi(np.arange(1.0, 40.0), 14)[-1] == 100.0
    assert ind.rsi(np.arange(40.0, 1.0, -1), 14)[-1] == 0.0
    r = ind.rsi(X, 14)
    assert np.isnan(r[:14]).all()
    assert np.all((r[14:] >= 0) & (r[14:] <= 100))


def test_macd_histogram_is_line_minus_signal() -> None:
    line, sig, hist = ind.macd(X)
    np.testing.assert_allclose(line, ind.ema(X, 12) - ind.ema(X, 26))
    np.testing.assert_allclose(hist, line - sig)


def test_atr_of_constant_range_bars_is_that_range() -> None:
    c = np.full(30, 10.0)
    assert ind.atr(c + 1, c - 1, c, 14)[-1] == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("row", "field", "value", "message"),
    [
        (3, "close", np.nan, "row 3: close is not a finite number"),
        (5, "high", 0.5, "row 5: high 0.5 < low"),
    ],
)
def test_bad_bars_name_the_row(row: int, field: str, value: float, message: str) -> None:
    cols = {k: np.full(10, 10.0) for k in ("open", "high", "low", "close")}
    cols["high"] += 1
    cols["low"] -= 1
    cols[field][row] = value
    with pytest.raises(ValidationFailed, match=message):
        make_bars(cols["open"], cols["high"], cols["low"], cols["close"])


def test_time_going_backwards_and_empty_data_are_rejected() -> None:
    one = np.ones(3)
    t = np.array(["2020-01-01", "2020-01-03", "2020-01-02"], dtype="datetime64[ns]")
    with pytest.raises(ValidationFailed, match="row 2: time"):
        make_bars(one, one, one, one, time=t)
    with pytest.raises(ValidationFailed, match="empty"):
        make_bars([], [], [], [])
