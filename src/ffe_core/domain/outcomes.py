"""How decisions turned out: the forward return at each horizon and what it taught the ensemble."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from ffe_core.domain.decisions import Action, utcnow
from ffe_core.domain.market import UtcDatetime


class VoteScore(BaseModel):
    """One provider's vote judged against the realized return, and the weight move it caused.

    ``weight_before``/``weight_after`` make the outcomes table the weight history: every
    learned weight change is one of these rows, timestamped by the outcome's ``due_at``.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    provider: str = Field(min_length=1, max_length=64)
    action: Action
    confidence: float = Field(ge=0.0, le=1.0)
    hit: bool
    brier: float = Field(ge=0.0, le=1.0)
    pnl: float
    """Realized return x vote direction x the provider's share of the decision's weight."""
    weight_before: float = Field(gt=0)
    weight_after: float = Field(gt=0)
    reason: str = ""


class DecisionOutcome(BaseModel):
    """A decision scored at one horizon; unique per ``(decision_id, horizon)``.

    ``realized_return`` is ``exit_price / reference_price - 1`` (None with ``void_reason`` when
    no price could be found). ``trade_pnl`` is the P&L, marked at the horizon, of the fills of
    the orders the decision placed (realized on what they closed, unrealized on what they
    opened, net of commission); None when the decision traded nothing. ``scores`` are filled
    only at the learning horizon, where provider stats and weights are updated.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    decision_id: str = Field(min_length=1, max_length=64)
    instrument: str = Field(min_length=1, max_length=32)
    action: Action
    horizon: str = Field(min_length=1, max_length=16)
    decided_at: UtcDatetime
    due_at: UtcDatetime
    reference_price: Decimal | None = Field(default=None, gt=0)
    exit_price: Decimal | None = Field(default=None, gt=0)
    realized_return: float | None = None
    trade_pnl: Decimal | None = None
    scores: tuple[VoteScore, ...] = ()
    void_reason: str | None = None
    scored_at: UtcDatetime = Field(default_factory=utcnow)

    @property
    def is_void(self) -> bool:
        return self.realized_return is None


class WeightSnapshot(BaseModel):
    """A provider's weight right after one learning update (a point of "weights over time")."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    at: UtcDatetime
    provider: str
    weight: float
    reason: str
