"""A vote read back from the vote cache: an unreadable or invalid entry is a miss.

:func:`stored_vote` validates the stored JSON as a :class:`ProviderVote`. :func:`stored_signal`
gives only its :class:`Signal` (what a replay's loop reads) from msgspec's decoding of the same
JSON into :class:`_Stored`: the vote's fields with its constraints, stricter where they differ
(numbers as JSON numbers only, no abstention); whatever it rejects is validated as the vote, so
an entry is a hit exactly when :func:`stored_vote` reads it, with the same signal.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from pydantic import ValidationError

from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.ports.providers import Signal

# msgspec refuses a JSON number out of a float's range (and NaN): no infinity gets through,
# as ProviderVote's ``allow_inf_nan=False`` wants.
_Amount = Annotated[float, msgspec.Meta(ge=0.0)]
_Price = Annotated[float, msgspec.Meta(gt=0.0)]
_Count = Annotated[int, msgspec.Meta(ge=0)]


class _Stored(msgspec.Struct, forbid_unknown_fields=True):
    """:class:`ProviderVote` as msgspec decodes it (a test holds the fields equal)."""

    provider: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    model: str | None = None
    action: Action = Action.HOLD
    confidence: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.0
    reasoning: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    stop_loss: _Price | None = None
    take_profit: _Price | None = None
    abstained: bool = False
    abstain_reason: str | None = None
    latency_ms: _Amount = 0.0
    tokens_in: _Count = 0
    tokens_out: _Count = 0
    cost_usd: _Amount = 0.0
    raw_answer: Annotated[str, msgspec.Meta(max_length=8000)] | None = None


_DECODER = msgspec.json.Decoder(_Stored)


def stored_vote(raw: bytes | None) -> ProviderVote | None:
    """The vote stored as ``raw``; None when there is none or it is unreadable."""
    if raw is None:
        return None
    try:
        return ProviderVote.model_validate_json(raw)
    except ValidationError:
        return None


def stored_signal(raw: bytes) -> Signal | None:
    """The signal of :func:`stored_vote` of ``raw`` (None when that is None)."""
    try:
        vote = _DECODER.decode(raw)
    except Exception:  # msgspec's stricter reading: the vote's own validation decides
        vote = None
    if vote is None or vote.abstained:  # an abstention must also give its reason
        found = stored_vote(raw)
        return None if found is None else Signal(found.action, found.confidence, found.abstained)
    return Signal(vote.action, vote.confidence, False)
