"""VaR and CVaR: hand-computed cases and the sanity properties every risk report relies on."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ffe_core.config import RiskSettings
from ffe_core.services.risk import RiskManager
from ffe_core.services.risk_metrics import (
    aligned_returns,
    correlation,
    historical_var,
    parametric_var,
    value_at_risk,
)

from .factories import TS, bars, portfolio

LADDER = [(i - 50) / 1000 for i in range(101)]  # -5% .. +5% in 0.1% steps


def test_historical_var_and_cvar_by_hand() -> None:
    # 5% quantile of 101 evenly spaced returns is the 6th lowest (-4.5%); tail -5.0..-4.5 mean -4.75%
    got = historical_var({"A": 1000.0}, {"A": LADDER}, 0.95)
    assert got.var == pytest.approx(45.0)
    assert got.cvar == pytest.approx(47.5)
    assert got.observations == 101


def test_short_position_loses_on_rises() -> None:
    got = historical_var({"A": -1000.0}, {"A": LADDER}, 0.95)
    assert got.var == pytest.approx(45.0) and got.cvar == pytest.approx(47.5)


def test_parametric_var_by_hand() -> None:
    returns = [0.01, -0.01] * 50  # mean 0, sample sd 0.01 * sqrt(100 / 99)
    sd = 0.01 * math.sqrt(100 / 99)
    z = NormalDist().inv_cdf(0.99)
    got = parametric_var({"A": 1000.0}, {"A": returns}, 0.99)
    assert got.var == pytest.approx(1000 * sd * z)
    assert got.cvar == pytest.approx(1000 * sd * NormalDist().pdf(z) / 0.01)


def test_diversification_of_opposite_returns() -> None:
    a = np.array(LADDER)
    both = historical_var({"A": 1000.0, "B": 1000.0}, {"A": a, "B": -a})
    assert both.var == pytest.approx(0.0, abs=1e-9)


def test_missing_history_is_an_error() -> None:
    with pytest.raises(ValueError, match="no return history for B"):
        value_at_risk({"A": 1.0, "B": 2.0}, {"A": LADDER})


def test_parametric_is_close_to_historical_on_normal_samples() -> None:
    rng = np.random.default_rng(7)
    cov = np.array([[0.0004, 0.00018], [0.00018, 0.0009]])
    r = rng.multivariate_normal([0.0, 0.0], cov, size=50_000)
    values = {"A": 60_000.0, "B": -25_000.0}
    returns = {"A": r[:, 0], "B": r[:, 1]}
    for confidence in (0.95, 0.99):
        hist = historical_var(values, returns, confidence)
        para = parametric_var(values, returns, confidence)
        assert para.var == pytest.approx(hist.var, rel=0.05)
        assert para.cvar == pytest.approx(hist.cvar, rel=0.05)


returns_matrix = arrays(
    np.float64,
    st.tuples(st.integers(5, 80), st.integers(1, 4)),
    elements=st.floats(-0.5, 0.5, allow_nan=False),
)


@given(returns_matrix, st.floats(0.5, 0.995), st.data())
def test_cvar_is_never_below_var(r: np.ndarray, confidence: float, data: st.DataObject) -> None:
    names = [f"S{i}" for i in range(r.shape[1])]
    values = {n: data.draw(st.floats(-1e6, 1e6).filter(lambda v: abs(v) > 1e-3)) for n in names}
    returns = {n: r[:, i] for i, n in enumerate(names)}
    for method in ("historical", "parametric"):
        got = value_at_risk(values, returns, confidence, method)  # type: ignore[arg-type]
        assert got.cvar >= got.var - 1e-9 * max(1.0, abs(got.var))


@given(returns_matrix, st.floats(0.5, 0.99), st.floats(0.01, 100))
def test_var_scales_with_position_size(r: np.ndarray, confidence: float, k: float) -> None:
    names = [f"S{i}" for i in range(r.shape[1])]
    values = {n: 1000.0 * (i + 1) for i, n in enumerate(names)}
    scaled = {n: v * k for n, v in values.items()}
    returns = {n: r[:, i] for i, n in enumerate(names)}
    for method in ("historical", "parametric"):
        base = value_at_risk(values, returns, confidence, method)  # type: ignore[arg-type]
        big = value_at_risk(scaled, returns, confidence, method)  # type: ignore[arg-type]
        assert big.var == pytest.approx(k * base.var, rel=1e-9, abs=1e-6)
        assert big.cvar == pytest.approx(k * base.cvar, rel=1e-9, abs=1e-6)


def test_returns_are_aligned_on_shared_timestamps() -> None:
    a = {b.ts: b.close for b in bars([100.0, 110.0, 99.0, 108.9])}
    b = dict(list({b.ts: b.close for b in bars([10.0, 11.0, 9.9, 10.89])}.items())[1:])
    r = aligned_returns([a, b], lookback=10)
    assert r.shape == (2, 2)
    assert r[:, 0] == pytest.approx([-0.1, 0.1])
    assert correlation(a, b, 10) is None  # too little history to say


def test_manager_var_uses_observed_bars() -> None:
    manager = RiskManager(RiskSettings(correlation_lookback=200))
    closes = [100.0]
    for step in LADDER:
        closes.append(closes[-1] * (1 + step))
    manager.observe("AAPL", bars(closes, TS))
    book = portfolio("0", AAPL=("10", "100"))
    got = manager.var(book, 0.95)
    value = 10 * closes[-1]
    assert got.var == pytest.approx(0.045 * value)
    with pytest.raises(ValueError, match="no bars observed for MSFT"):
        manager.var(portfolio("0", MSFT=("1", "10")))
