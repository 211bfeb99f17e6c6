"""Overfitting measures: probability of backtest overfitting (CSCV) and the deflated Sharpe ratio.

References: Bailey, Borwein, López de Prado, Zhu, "The Probability of Backtest Overfitting"
(2015), and Bailey, López de Prado, "The Deflated Sharpe Ratio" (2014). Sharpe ratios here are
per period (not annualised); use the same period for every input.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from ffe_core.domain.errors import ValidationFailed

FloatArray = npt.NDArray[np.float64]
EULER_GAMMA = 0.5772156649015329
_N = NormalDist()


@dataclass(frozen=True)
class PboResult:
    """PBO, and the logits of the in-sample winner's out-of-sample rank per split."""

    pbo: float
    logits: FloatArray


def _sharpe_columns(m: FloatArray) -> FloatArray:
    sd = m.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sr = m.mean(axis=0) / sd
    return np.where(np.isfinite(sr), sr, -np.inf)


def pbo_cscv(returns: npt.ArrayLike, n_splits: int = 16) -> PboResult:
    """PBO by combinatorially symmetric cross-validation.

    ``returns`` is a (T periods x N strategies) matrix. Rows are cut into ``n_splits`` equal
    blocks (trailing rows dropped); for every choice of half the blocks as in-sample, the
    strategy with the best in-sample Sharpe is ranked out of sample; the logit of its relative
    rank ``w = rank / (N + 1)`` is ``log(w / (1 - w))`` and PBO is the share of logits <= 0.
    """
    m = np.asarray(returns, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] < 2:
        raise ValidationFailed("PBO needs a (periods x strategies) matrix with >= 2 strategies")
    s = int(n_splits)
    if s < 2 or s % 2:
        raise ValidationFailed(f"n_splits must be an even number >= 2, got {n_splits}")
    t = (m.shape[0] // s) * s
    if t < 2 * s:
        raise ValidationFailed(f"PBO needs at least {2 * s} periods, got {m.shape[0]}")
    blocks = m[:t].reshape(s, t // s, m.shape[1])
    n = m.shape[1]
    logits = []
    for chosen in itertools.combinations(range(s), s // 2):
        mask = np.zeros(s, dtype=bool)
        mask[list(chosen)] = True
        ins = blocks[mask].reshape(-1, n)
        oos = blocks[~mask].reshape(-1, n)
        star = int(np.argmax(_sharpe_columns(ins)))
        perf = _sharpe_columns(oos)
        rank = 1 + int(np.sum(perf < perf[star]))  # 1 = worst out of sample
        w = rank / (n + 1)
        logits.append(math.log(w / (1 - w)))
    lg = np.array(logits)
    return PboResult(float(np.mean(lg <= 0)), lg)


def expected_max_sharpe(sr_variance: float, n_trials: int) -> float:
    """Expected maximum Sharpe of ``n_trials`` unskilled trials whose Sharpes vary so much."""
    if n_trials < 2 or sr_variance <= 0:
        return 0.0
    z1 = _N.inv_cdf(1 - 1 / n_trials)
    z2 = _N.inv_cdf(1 - 1 / (n_trials * math.e))
    return math.sqrt(sr_variance) * ((1 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)


def probabilistic_sharpe(
    sr: float, benchmark: float, n_obs: int, skew: float = 0.0, kurtosis: float = 3.0
) -> float:
    """P(true Sharpe > benchmark) given an observed per-period ``sr`` over ``n_obs`` returns."""
    if n_obs < 2:
        return math.nan
    denom = 1 - skew * sr + (kurtosis - 1) / 4 * sr**2
    if denom <= 0:
        return math.nan
    return _N.cdf((sr - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(denom))


def deflated_sharpe(
    sr: float,
    n_obs: int,
    *,
    sr_variance: float,
    n_trials: int,
    skew: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """Deflated Sharpe ratio: the PSR against the best Sharpe expected from luck alone."""
    return probabilistic_sharpe(
        sr, expected_max_sharpe(sr_variance, n_trials), n_obs, skew, kurtosis
    )


def moments(returns: npt.ArrayLike) -> tuple[float, float, float, int]:
    """(per-period Sharpe, skewness, kurtosis (normal = 3), count) of a return series."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size < 2:
        return math.nan, 0.0, 3.0, int(r.size)
    sd = float(r.std(ddof=1))
    mu = float(r.mean())
    z = (r - mu) / (r.std() or 1.0)
    return (mu / sd if sd else math.nan), float(np.mean(z**3)), float(np.mean(z**4)), int(r.size)
