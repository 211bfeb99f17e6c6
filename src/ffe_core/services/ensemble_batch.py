"""The ensemble's aggregation over a whole series of votes at once.

:func:`aggregate_batch` gives, for every bar, the action and confidence that
:meth:`Ensemble.decide <ffe_core.services.ensemble.Ensemble.decide>` reaches from the same votes
and (constant) weights - same quorum, unanimity, tie, zero-weight and disagreement rules, and the
same floating-point sums in the same order - plus a code saying why it held. The ``judge``
aggregation asks a provider per bar and has no batch form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import IntEnum
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ffe_core.config import EnsembleSettings

FloatArray = npt.NDArray[np.float64]
Int8Array = npt.NDArray[np.int8]
BoolArray = npt.NDArray[np.bool_]

_ACTIONS = (1, -1, 0)
"""Action codes in the order Ensemble scores them: BUY, SELL, HOLD."""


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
    m = act.shape[0]
    scores = np.zeros((3, n))
    for k in range(m):  # scores[v.action] += w * (confidence | 1.0), provider by provider
        add = w[k] * conf[k] if by_confidence else np.full(n, w[k] * 1.0)
        for a, code in enumerate(_ACTIONS):
            scores[a] = scores[a] + np.where(counted[k] & (act[k] == code), add, 0.0)
    total = (scores[0] + scores[1]) + scores[2]
    best = np.maximum(np.maximum(scores[0], scores[1]), scores[2])
    leaders = (scores == best).sum(axis=0)
    lead = np.argmax(scores == best, axis=0)
    action = np.array(_ACTIONS, dtype=np.int8)[lead]
    held = np.zeros(n, dtype=np.int8)
    with np.errstate(divide="ignore", invalid="ignore"):
        against = 1 - best / total
        disagree = against > settings.max_disagreement
        held[disagree] = Held.DISAGREEMENT
        held[leaders > 1] = Held.TIE
        held[total <= 0] = Held.ZERO_WEIGHT
        if by_confidence:
            out = best / total
        else:
            w_sum, win_sum = np.zeros(n), np.zeros(n)
            for k in range(m):
                w_sum = w_sum + np.where(counted[k], w[k], 0.0)
                wins = counted[k] & (act[k] == action)
                win_sum = win_sum + np.where(wins, w[k] * conf[k], 0.0)
            out = win_sum / w_sum
    return action, out, held
