"""The cost ledger: every provider call with its tokens, dollars, latency and outcome, the spend
measured against the budgets, and what each provider's dollars bought ("value for money")."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ffe_core.domain.decisions import new_id, utcnow
from ffe_core.domain.market import UtcDatetime


class CallOutcome(StrEnum):
    OK = "ok"
    ABSTAINED = "abstained"
    """The provider was asked and abstained (timeout, error, refused or invalid output)."""
    OVER_BUDGET = "over_budget"
    """Not asked: a budget was reached (recorded so the ledger shows the refusal)."""


class ProviderCall(BaseModel):
    """One provider call (or budget refusal) as the ledger records it."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    id: str = Field(default_factory=new_id, min_length=1, max_length=64)
    provider: str = Field(min_length=1, max_length=64)
    model: str | None = Field(default=None, max_length=128)
    decision_id: str | None = Field(default=None, max_length=64)
    at: UtcDatetime = Field(default_factory=utcnow)
    outcome: CallOutcome = CallOutcome.OK
    reason: str | None = Field(default=None, max_length=500)
    tokens_in: int = Field(default=0, ge=0, le=2**62)
    tokens_out: int = Field(default=0, ge=0, le=2**62)
    cost_usd: float = Field(default=0.0, ge=0.0)
    latency_ms: float = Field(default=0.0, ge=0.0)


class SpendTotal(BaseModel):
    """One provider's calls summed over a period."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    provider: str = Field(min_length=1, max_length=64)
    calls: int = Field(default=0, ge=0)
    tokens_in: int = Field(default=0, ge=0)
    tokens_out: int = Field(default=0, ge=0)
    cost_usd: float = Field(default=0.0, ge=0.0)


class SpendLine(BaseModel):
    """Spend against budget for one scope: a provider, or ``*`` for all of them together."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    scope: str = Field(min_length=1, max_length=64)
    spent_today_usd: float = Field(default=0.0, ge=0.0)
    spent_month_usd: float = Field(default=0.0, ge=0.0)
    daily_budget_usd: float | None = Field(default=None, ge=0.0)
    monthly_budget_usd: float | None = Field(default=None, ge=0.0)
    calls_today: int = Field(default=0, ge=0)
    tokens_in_today: int = Field(default=0, ge=0)
    tokens_out_today: int = Field(default=0, ge=0)
    exhausted: bool = False
    """A budget of this scope is reached: its (priced) providers abstain until the period ends."""


class SpendReport(BaseModel):
    """What ``GET /api/v1/costs`` serves: the day's and month's spend against every budget."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    as_of: UtcDatetime
    day_start: UtcDatetime
    month_start: UtcDatetime
    total: SpendLine
    providers: tuple[SpendLine, ...] = ()


class ProviderValue(BaseModel):
    """What a provider's dollars bought over a window.

    ``brier_improvement`` sums, over its scored votes, how much better each was than the
    uninformed forecast (confidence 0.5 scores 0.25); ``pnl_usd`` is the P&L of the trades it
    voted for, split among their voters by weight share. The per-dollar figures are None when
    the provider cost nothing in the window.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    provider: str = Field(min_length=1, max_length=64)
    window_days: int = Field(ge=1)
    calls: int = Field(default=0, ge=0)
    cost_usd: float = Field(default=0.0, ge=0.0)
    scored: int = Field(default=0, ge=0)
    brier: float | None = Field(default=None, ge=0.0, le=1.0)
    brier_improvement: float = 0.0
    pnl_usd: float = 0.0
    brier_improvement_per_usd: float | None = None
    pnl_per_usd: float | None = None
