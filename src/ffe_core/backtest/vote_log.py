"""Every provider's vote at every bar of a replay, kept as matrices for attribution.

Rows are providers in the ensemble's order, columns bars. A bar the ensemble was not asked
about (before ``start``, after the money ran out) counts as abstained and not ``asked``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ffe_core.domain.decisions import Action, Decision
from ffe_core.ports.providers import Signal

Int8Array = npt.NDArray[np.int8]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

ACTION_CODE = {Action.BUY: 1, Action.SELL: -1, Action.HOLD: 0}


@dataclass(frozen=True, repr=False)
class VoteLog:
    """The votes of a replay: ``(providers, bars)`` matrices and the ensemble's confidence."""

    names: tuple[str, ...]
    actions: Int8Array
    """1 BUY, -1 SELL, 0 HOLD (0 where abstained or not asked)."""
    confidences: FloatArray
    abstained: BoolArray
    asked: BoolArray
    """Bars the ensemble decided on."""
    ensemble_action: Int8Array
    """The ensemble's action per bar before any risk check (0 where not asked)."""
    ensemble_confidence: FloatArray
    """The ensemble's confidence per bar (0 where not asked)."""

    def __repr__(self) -> str:
        return f"VoteLog(providers={list(self.names)}, asked={int(self.asked.sum())})"


class VoteRecorder:
    """Fills a :class:`VoteLog` one decision at a time (the per-bar path)."""

    def __init__(self, names: Sequence[str], n: int) -> None:
        self.names = tuple(names)
        self._row = {name: k for k, name in enumerate(self.names)}
        k = len(self.names)
        self.actions = np.zeros((k, n), dtype=np.int8)
        self.confidences = np.zeros((k, n), dtype=np.float64)
        self.abstained = np.ones((k, n), dtype=np.bool_)
        self.asked = np.zeros(n, dtype=np.bool_)
        self.ensemble_action = np.zeros(n, dtype=np.int8)
        self.ensemble_confidence = np.zeros(n, dtype=np.float64)

    def record(self, i: int, decision: Decision) -> None:
        """Bar ``i``'s decision as the ensemble made it (before the risk check)."""
        self.asked[i] = True
        self.ensemble_action[i] = ACTION_CODE[decision.action]
        self.ensemble_confidence[i] = decision.confidence
        for vote in decision.votes:
            k = self._row.get(vote.provider)
            if k is None:
                continue
            self.abstained[k, i] = vote.abstained
            if not vote.abstained:
                self.actions[k, i] = ACTION_CODE[vote.action]
                self.confidences[k, i] = vote.confidence

    def record_signals(
        self, i: int, signals: Sequence[Signal], action: Action, confidence: float
    ) -> None:
        """Bar ``i`` decided from the providers' signals (in the recorder's provider order)."""
        self.asked[i] = True
        self.ensemble_action[i] = ACTION_CODE[action]
        self.ensemble_confidence[i] = confidence
        for k, signal in enumerate(signals):
            if not signal.abstained:
                self.abstained[k, i] = False
                self.actions[k, i] = ACTION_CODE[signal.action]
                self.confidences[k, i] = signal.confidence

    def record_plan(self, i: int, action: int, confidence: float) -> None:
        """Bar ``i`` decided from batch votes already stored with :meth:`record_batch`."""
        self.asked[i] = True
        self.ensemble_action[i] = action
        self.ensemble_confidence[i] = confidence

    def record_batch(
        self, actions: Int8Array, confidences: FloatArray, abstained: BoolArray
    ) -> None:
        """Every bar's votes at once (the batch plan); ``asked`` is still set per bar."""
        self.actions[:] = actions
        self.confidences[:] = confidences
        self.abstained[:] = abstained

    def log(self) -> VoteLog:
        """The votes recorded; bars never asked are blanked to abstentions."""
        blank = ~self.asked
        self.abstained[:, blank] = True
        self.actions[:, blank] = 0
        self.confidences[:, blank] = 0.0
        return VoteLog(
            self.names,
            self.actions,
            self.confidences,
            self.abstained,
            self.asked,
            np.where(self.asked, self.ensemble_action, 0).astype(np.int8),
            self.ensemble_confidence,
        )
