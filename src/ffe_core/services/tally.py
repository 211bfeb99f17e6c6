"""The ensemble's arithmetic on counted votes: scores per action, ties, disagreement, confidence.

One function for both ways the ensemble decides: :meth:`Ensemble.decide
<ffe_core.services.ensemble.Ensemble.decide>` on full votes (it then writes the reasoning from
the tally) and the replay's per-bar fast path on plain signals. The quorum is checked by the
caller first; ``judge`` falls back to the weighted majority here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from ffe_core.config import EnsembleSettings
from ffe_core.domain.decisions import Action
from ffe_core.services.ensemble_batch import Held

_BUY, _SELL, _HOLD = Action.BUY, Action.SELL, Action.HOLD
"""Module constants: reading an enum member through its class costs more than the tally's sums."""


class Tally(NamedTuple):
    action: Action
    confidence: float
    """Unrounded (``Decision.confidence`` is this rounded to 6 places); 0.0 when held."""
    held: Held
    scores: dict[Action, float]
    """Weighted score per action (empty for unanimity)."""
    total: float
    best: float


def tally(
    names: Sequence[str],
    actions: Sequence[Action],
    confidences: Sequence[float],
    weights: Mapping[str, float],
    settings: EnsembleSettings,
    mode: str,
) -> Tally:
    """Combine the counted votes (provider ``names[k]`` voted ``actions[k]`` with
    ``confidences[k]``, in the ensemble's order) under aggregation ``mode``."""
    if mode == "unanimity":
        if len(set(actions)) > 1:
            return Tally(_HOLD, 0.0, Held.NO_UNANIMITY, {}, 0.0, 0.0)
        return Tally(actions[0], sum(confidences) / len(confidences), Held.DECIDED, {}, 0.0, 0.0)
    by_confidence = mode == "confidence_weighted"
    ws: list[float] = []
    buy = sell = hold = 0.0
    for name, action, confidence in zip(names, actions, confidences, strict=True):
        w = weights.get(name, 1.0)
        ws.append(w)
        add = w * confidence if by_confidence else w
        if action is _BUY:
            buy += add
        elif action is _SELL:
            sell += add
        else:
            hold += add
    scores = {_BUY: buy, _SELL: sell, _HOLD: hold}
    total = buy + sell + hold  # sum() of the three, left to right
    best = max(buy, sell, hold)
    if total <= 0:
        return Tally(_HOLD, 0.0, Held.ZERO_WEIGHT, scores, total, best)
    if (buy == best) + (sell == best) + (hold == best) > 1:
        return Tally(_HOLD, 0.0, Held.TIE, scores, total, best)
    action = _BUY if buy == best else (_SELL if sell == best else _HOLD)
    if 1 - best / total > settings.max_disagreement:
        return Tally(_HOLD, 0.0, Held.DISAGREEMENT, scores, total, best)
    if by_confidence:
        conf = best / total  # the ensemble's probability mass on the winning action
    else:
        # sum() of the weights and of the winners' weighted confidences, left to right
        won = zip(ws, actions, confidences, strict=True)
        conf = sum([w * c for w, a, c in won if a is action]) / sum(ws)
    return Tally(action, conf, Held.DECIDED, scores, total, best)
