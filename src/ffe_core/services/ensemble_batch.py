"""The ensemble's aggregation over a whole series of votes at once.

:func:`aggregate_batch` gives, for every bar, the action and confidence that
:meth:`Ensemble.decide <ffe_core.services.ensemble.Ensemble.decide>` reaches from the same votes
and (constant) weights - same quorum, unanimity, tie, zero-weight and disagreement rules, and the
same floating-point sums in the same order - plus a code saying why it held. The ``judge``
aggregation asks a provider per bar and has no batch form. The scored aggregations run as one
compiled pass over the bars (a loop per bar, as ``decide`` tallies its votes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import IntEnum
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ffe_core.config import EnsembleSettings
from ffe_core.kernels import kernel

FloatArray = npt.NDArray[np.float64]
Int8Array = npt.NDArray[np.int8]
BoolArray = npt.NDArray[np.bool_]


class Held(IntEnum):
    """Why the ensemble answered HOLD with confidence 0 (DECIDED: it did not)."""

    DECIDED = 0
    QUORUM = 1
    NO_UNANIMITY = 2
    ZERO_WEIGHT = 3
    TIE = 4
    DISAGREEMENT = 5


class BatchDecisions(NamedTuple):
    actions: Int8Array
    """1 BUY, -1 SELL, 0 HOLD per bar."""
    confidences: FloatArray
    """Unrounded (``Decision.confidence`` is this rounded to 6 places)."""
    held: Int8Array
    """A :class:`Held` code per bar."""


def weight_vector(names: Sequence[str], weights: Mapping[str, float]) -> FloatArray:
    """The weight of each provider as the ensemble reads it (1.0 when missing)."""
    return np.array([float(weights.get(n, 1.0)) for n in names], dtype=np.float64)


def aggregate_batch(
    actions: npt.ArrayLike,
    confidences: npt.ArrayLike,
    abstained: npt.ArrayLike,
    weights: npt.ArrayLike,
    settings: EnsembleSettings,
) -> BatchDecisions:
    """Aggregate ``(providers, bars)`` vote matrices into one decision per bar.

    Rows are providers in the ensemble's order (sums run in that order, as ``decide``'s do);
    ``weights`` has one entry per provider.
    """
    act = np.asarray(actions, dtype=np.int8)
    conf = np.asarray(confidences, dtype=np.float64)
    counted = ~np.asarray(abstained, dtype=np.bool_)
    w = np.asarray(weights, dtype=np.float64)
    if act.ndim != 2 or conf.shape != act.shape or counted.shape != act.shape:
        raise ValueError("actions, confidences and abstained must be (providers, bars) matrices")
    if w.shape != (act.shape[0],):
        raise ValueError(f"need one weight per provider ({act.shape[0]}), got shape {w.shape}")
    mode = settings.aggregation
    if mode == "judge":
        raise ValueError("the judge aggregation asks a provider per bar: no batch form")
    n = act.shape[1]
    if mode == "unanimity":
        out_action, out_conf, held = _unanimity(act, conf, counted, n)
    else:
        out_action, out_conf, held = _scored(act, conf, counted, w, settings, n)
    quorum = counted.sum(axis=0) < settings.quorum
    held[quorum] = Held.QUORUM
    stay = held != Held.DECIDED
    out_action[stay] = 0
    out_conf[stay] = 0.0
    return BatchDecisions(out_action, out_conf, held)


def _unanimity(
    act: Int8Array, conf: FloatArray, counted: BoolArray, n: int
) -> tuple[Int8Array, FloatArray, Int8Array]:
    held = np.zeros(n, dtype=np.int8)
    lowest = np.where(counted, act, 2).min(axis=0, initial=2)
    highest = np.where(counted, act, -2).max(axis=0, initial=-2)
    held[lowest != highest] = Held.NO_UNANIMITY
    total = np.zeros(n)
    for k in range(act.shape[0]):  # sum(v.confidence for v in counted), left to right
        total = total + np.where(counted[k], conf[k], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / counted.sum(axis=0)
    return lowest.astype(np.int8), mean, held


def _scored(
    act: Int8Array,
    conf: FloatArray,
    counted: BoolArray,
    w: FloatArray,
    settings: EnsembleSettings,
    n: int,
) -> tuple[Int8Array, FloatArray, Int8Array]:
    by_confidence = settings.aggregation == "confidence_weighted"
    return _scored_kernel(
        np.ascontiguousarray(act),
        np.ascontiguousarray(conf),
        np.ascontiguousarray(counted),
        np.ascontiguousarray(w),
        by_confidence,
        float(settings.max_disagreement),
    )


@kernel
def _nan_max(a: float, b: float) -> float:  # pragma: no cover - compiled
    """``np.maximum(a, b)``: NaN when either is."""
    if np.isnan(a) or np.isnan(b):
        return np.nan
    return a if a >= b else b


@kernel
def _divided(a: float, b: float) -> float:  # pragma: no cover - compiled
    """``a / b`` as numpy divides (inf or NaN by zero, no exception)."""
    if b != 0.0:
        return a / b
    if a == 0.0 or np.isnan(a):
        return np.nan
    return np.inf if (a > 0.0) == (np.copysign(1.0, b) > 0.0) else -np.inf


@kernel
def _scored_kernel(
    act: Int8Array,
    conf: FloatArray,
    counted: BoolArray,
    w: FloatArray,
    by_confidence: bool,
    max_disagreement: float,
) -> tuple[Int8Array, FloatArray, Int8Array]:  # pragma: no cover - compiled
    # Ensemble.decide's tally per bar: scores[v.action] += w * (confidence | 1.0), provider by
    # provider, then total, best, ties, disagreement and the confidence, in its order of sums.
    m, n = act.shape
    action = np.zeros(n, dtype=np.int8)
    out = np.zeros(n)
    held = np.zeros(n, dtype=np.int8)
    for j in range(n):
        buy = 0.0
        sell = 0.0
        hold = 0.0
        for k in range(m):
            if counted[k, j]:
                add = w[k] * conf[k, j] if by_confidence else w[k] * 1.0
                code = act[k, j]
                if code == 1:
                    buy = buy + add
                elif code == -1:
                    sell = sell + add
                elif code == 0:
                    hold = hold + add
        total = (buy + sell) + hold
        best = _nan_max(_nan_max(buy, sell), hold)
        leaders = int(buy == best) + int(sell == best) + int(hold == best)
        code = 1 if buy == best else (-1 if sell == best else (0 if hold == best else 1))
        action[j] = code
        against = 1.0 - _divided(best, total)
        if total <= 0.0:
            held[j] = 3  # Held.ZERO_WEIGHT
        elif leaders > 1:
            held[j] = 4  # Held.TIE
        elif against > max_disagreement:
            held[j] = 5  # Held.DISAGREEMENT
        if by_confidence:
            out[j] = _divided(best, total)
        else:
            w_sum = 0.0
            win_sum = 0.0
            for k in range(m):
                if counted[k, j]:
                    w_sum = w_sum + w[k]
                    if act[k, j] == code:
                        win_sum = win_sum + w[k] * conf[k, j]
            out[j] = _divided(win_sum, w_sum)
    return action, out, held
