"""Decisions and the provider votes behind them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ffe_core.domain.market import UtcDatetime


class Action(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"


def new_id() -> str:
    """A fresh, sortable-enough unique id (uuid4 hex)."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class ProviderVote(BaseModel):
    """One provider's answer (or abstention) for one decision."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    provider: str = Field(min_length=1, max_length=64)
    model: str | None = None
    action: Action = Action.HOLD
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    reasoning: str = Field(default="", max_length=4000)
    stop_loss: Decimal | None = Field(default=None, gt=0)
    take_profit: Decimal | None = Field(default=None, gt=0)
    abstained: bool = False
    abstain_reason: str | None = None
    latency_ms: float = Field(default=0.0, ge=0.0)
    tokens_in: int = Field(default=0, ge=0)
    tokens_out: int = Field(default=0, ge=0)
    cost_usd: float = Field(default=0.0, ge=0.0)
    raw_answer: str | None = Field(default=None, max_length=8000)
    """What the model answered, verbatim (scrubbed), for the flight recorder; None for rules."""

    @model_validator(mode="after")
    def _abstention_has_reason(self) -> ProviderVote:
        if self.abstained and not self.abstain_reason:
            raise ValueError("an abstention needs a reason")
        return self

    @classmethod
    def abstain(cls, provider: str, reason: str, **extra: object) -> ProviderVote:
        """A vote that does not count, with the reason recorded."""
        return cls.model_validate(
            {"provider": provider, "abstained": True, "abstain_reason": reason[:500], **extra}
        )


class RiskAssessment(BaseModel):
    """The risk manager's verdict on a decision: approved (possibly resized) or rejected, and why."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    approved: bool
    reason: str
    size: Decimal | None = Field(default=None, ge=0)
    notional: Decimal | None = Field(default=None, ge=0)
    checks: dict[str, str] = Field(default_factory=dict)


class Decision(BaseModel):
    """What the ensemble decided for one instrument, with every vote and weight behind it."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    id: str = Field(default_factory=new_id, min_length=1, max_length=64)
    instrument: str = Field(min_length=1, max_length=32)
    action: Action
    confidence: float = Field(ge=0.0, le=1.0)
    suggested_size: Decimal | None = Field(default=None, ge=0)
    reference_price: Decimal | None = Field(default=None, gt=0)
    stop_loss: Decimal | None = Field(default=None, gt=0)
    take_profit: Decimal | None = Field(default=None, gt=0)
    reasoning: str = ""
    votes: tuple[ProviderVote, ...] = ()
    weights: dict[str, float] = Field(default_factory=dict)
    aggregation: str = "weighted_majority"
    timings_ms: dict[str, float] = Field(default_factory=dict)
    risk: RiskAssessment | None = None
    created_at: UtcDatetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _protective_levels_on_the_right_side(self) -> Decision:
        ref = self.reference_price
        if ref is None or self.action is Action.HOLD:
            return self
        below, above = (self.stop_loss, self.take_profit)
        if self.action is Action.SELL:
            below, above = above, below
        if below is not None and below >= ref:
            raise ValueError(f"{self.action} protective level {below} must be below price {ref}")
        if above is not None and above <= ref:
            raise ValueError(f"{self.action} target level {above} must be above price {ref}")
        return self

    @property
    def counted_votes(self) -> tuple[ProviderVote, ...]:
        return tuple(v for v in self.votes if not v.abstained)
