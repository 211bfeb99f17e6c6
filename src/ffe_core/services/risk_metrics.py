"""Portfolio risk statistics from return histories: correlation, VaR and CVaR (numpy, pure).

Losses are reported as positive numbers in the currency of the position values, over one bar
of the return histories given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from statistics import NormalDist
from typing import Literal

import numpy as np
import numpy.typing as npt

from ffe_core.domain.market import Bar

FloatArray = npt.NDArray[np.float64]
VarMethod = Literal["historical", "parametric"]
MIN_OBSERVATIONS = 10
"""Fewer common returns than this and a correlation is treated as unknown."""


@dataclass(frozen=True, slots=True)
class ValueAtRisk:
    """VaR and CVaR (expected shortfall) of a portfolio at ``confidence``, as positive losses."""

    method: VarMethod
    confidence: float
    var: float
    cvar: float
    observations: int


def closes_by_time(bars: Sequence[Bar]) -> dict[datetime, float]:
    return {b.ts: b.close for b in bars}


def aligned_returns(series: Sequence[Mapping[datetime, float]], lookback: int) -> FloatArray:
    """Simple returns over the timestamps every series shares, the last ``lookback`` of them:
    shape (returns, series). Aligning by time keeps a weekend gap from pairing unrelated bars."""
    if not series:
        return np.empty((0, 0))
    common = sorted(set.intersection(*(set(s) for s in series)))[-(lookback + 1) :]
    if len(common) < 2:
        return np.empty((0, len(series)))
    prices = np.array([[s[t] for s in series] for t in common], dtype=np.float64)
    out: FloatArray = prices[1:] / prices[:-1] - 1.0
    return out


def correlation(
    a: Mapping[datetime, float], b: Mapping[datetime, float], lookback: int
) -> float | None:
    """Correlation of two instruments' returns over their common history; None when unknown."""
    r = aligned_returns([a, b], lookback)
    if r.shape[0] < MIN_OBSERVATIONS:
        return None
    sd = r.std(axis=0)
    if not np.all(sd > 0):
        return None
    rho = float(np.corrcoef(r[:, 0], r[:, 1])[0, 1])
    return max(-1.0, min(1.0, rho)) if math.isfinite(rho) else None


def _inputs(
    values: Mapping[str, Decimal | float], returns: Mapping[str, Sequence[float] | FloatArray]
) -> tuple[FloatArray, FloatArray]:
    names = [n for n in values if values[n] != 0]
    missing = [n for n in names if n not in returns]
    if missing:
        raise ValueError(f"no return history for {', '.join(missing)}")
    v = np.array([float(values[n]) for n in names], dtype=np.float64)
    if not names:
        return v, np.empty((0, 0))
    length = min(len(returns[n]) for n in names)
    if length < 2:
        raise ValueError("VaR needs at least 2 returns per position")
    r = np.column_stack([np.asarray(returns[n], dtype=np.float64)[-length:] for n in names])
    if not np.all(np.isfinite(r)):
        raise ValueError("return histories must be finite")
    return v, r


def _check_confidence(confidence: float) -> None:
    if not 0.5 <= confidence < 1:
        raise ValueError("confidence must be in [0.5, 1)")


def historical_var(
    values: Mapping[str, Decimal | float],
    returns: Mapping[str, Sequence[float] | FloatArray],
    confidence: float = 0.95,
) -> ValueAtRisk:
    """VaR/CVaR from the empirical distribution of ``returns @ values`` (the last common bars):
    VaR is the loss at the (1 - confidence) quantile, CVaR the mean loss at or beyond it."""
    _check_confidence(confidence)
    v, r = _inputs(values, returns)
    if v.size == 0:
        return ValueAtRisk("historical", confidence, 0.0, 0.0, 0)
    pnl = r @ v
    cutoff = float(np.quantile(pnl, 1.0 - confidence))
    tail = pnl[pnl <= cutoff]
    var = -cutoff
    cvar = max(-float(tail.mean()), var)  # the tail mean is never above the cutoff; guard rounding
    return ValueAtRisk("historical", confidence, var, cvar, int(pnl.size))


def parametric_var(
    values: Mapping[str, Decimal | float],
    returns: Mapping[str, Sequence[float] | FloatArray],
    confidence: float = 0.95,
) -> ValueAtRisk:
    """VaR/CVaR assuming jointly normal returns with the sample mean and covariance:
    VaR = z·σ − μ and CVaR = σ·φ(z)/(1 − confidence) − μ for the portfolio P&L."""
    _check_confidence(confidence)
    v, r = _inputs(values, returns)
    if v.size == 0:
        return ValueAtRisk("parametric", confidence, 0.0, 0.0, 0)
    mu = float(r.mean(axis=0) @ v)
    cov = np.atleast_2d(np.cov(r, rowvar=False, ddof=1))
    sigma = math.sqrt(max(float(v @ cov @ v), 0.0))
    normal = NormalDist()
    z = normal.inv_cdf(confidence)
    var = z * sigma - mu
    cvar = sigma * normal.pdf(z) / (1.0 - confidence) - mu
    return ValueAtRisk("parametric", confidence, var, cvar, int(r.shape[0]))


def value_at_risk(
    values: Mapping[str, Decimal | float],
    returns: Mapping[str, Sequence[float] | FloatArray],
    confidence: float = 0.95,
    method: VarMethod = "historical",
) -> ValueAtRisk:
    """VaR and CVaR of positions worth ``values`` (signed) by ``method``."""
    if method == "historical":
        return historical_var(values, returns, confidence)
    return parametric_var(values, returns, confidence)
