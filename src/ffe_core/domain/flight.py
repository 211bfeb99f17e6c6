"""The decision flight recorder: what is kept to reproduce and explain each decision.

The decision itself (votes with their raw answers, weights, aggregation, risk verdict) is the
stored :class:`~ffe_core.domain.decisions.Decision`; its record adds what the decision does not
carry: how each provider was asked (model, parameters, prompt version and rendered prompt hash),
the input snapshot's content hash, the ensemble's verdict before the risk manager resized it,
the configuration in force, and every verdict of the execution gate.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from ffe_core.domain.decisions import Action, Decision, utcnow
from ffe_core.domain.json_values import JsonData
from ffe_core.domain.market import Quote, UtcDatetime
from ffe_core.domain.orders import Fill, Order


class ProviderSpec(BaseModel):
    """How one provider is asked: model id, parameters and, for a language model, the prompt
    template version and the hash of the rendered prompt (whose text is stored compressed)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    provider: str = Field(min_length=1, max_length=64)
    model: str | None = Field(default=None, max_length=128)
    parameters: dict[str, JsonData] = Field(default_factory=dict)
    prompt_version: str | None = Field(default=None, max_length=32)
    prompt_hash: str | None = Field(default=None, max_length=64)
    input_usd_per_mtok: float = Field(default=0.0, ge=0.0)
    output_usd_per_mtok: float = Field(default=0.0, ge=0.0)

    @property
    def priced(self) -> bool:
        """Whether a call may cost money (free providers cannot overspend a budget)."""
        return self.input_usd_per_mtok > 0 or self.output_usd_per_mtok > 0


class EnsembleVerdict(BaseModel):
    """The ensemble's output before the risk check: what a replay must reproduce."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    action: Action
    confidence: float = Field(ge=0.0, le=1.0)
    reasoning: str = ""
    stop_loss: Decimal | None = Field(default=None, gt=0)
    take_profit: Decimal | None = Field(default=None, gt=0)
    aggregation: str = Field(default="", max_length=32)
    weights: dict[str, float] = Field(default_factory=dict)

    @classmethod
    def of(cls, decision: Decision) -> EnsembleVerdict:
        return cls(
            action=decision.action,
            confidence=decision.confidence,
            reasoning=decision.reasoning,
            stop_loss=decision.stop_loss,
            take_profit=decision.take_profit,
            aggregation=decision.aggregation,
            weights=decision.weights,
        )


class GateVerdict(BaseModel):
    """One pass of the decision through the execution gate, or (``synced``) a fill of one of
    its orders that reached the ledger later (a resting order or a venue-side exit)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    at: UtcDatetime = Field(default_factory=utcnow)
    sent: bool = False
    refused: str | None = Field(default=None, max_length=1000)
    duplicate: bool = False
    expired: bool = False
    approval_id: str | None = Field(default=None, max_length=64)
    client_order_id: str | None = Field(default=None, max_length=64)
    quantity: Decimal | None = Field(default=None, ge=0)
    status: str | None = Field(default=None, max_length=24)
    quote: Quote | None = None
    """The quote the venue filled the order at, when the venue says (``QuotedFills``)."""
    synced: bool = False
    """Recorded when the order's fill reached the ledger after the pass that sent it."""


class DecisionRecord(BaseModel):
    """The flight record of one decision (see the module docstring)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    decision_id: str = Field(min_length=1, max_length=64)
    instrument: str = Field(min_length=1, max_length=32)
    decided_at: UtcDatetime
    recorded_at: UtcDatetime = Field(default_factory=utcnow)
    snapshot_hash: str = Field(min_length=1, max_length=64)
    prompt_version: str = Field(max_length=32)
    providers: tuple[ProviderSpec, ...] = ()
    ensemble: EnsembleVerdict
    config: dict[str, JsonData] = Field(default_factory=dict)
    """The settings in force (``ensemble`` and ``risk`` sections), as JSON."""
    gate: tuple[GateVerdict, ...] = ()


class DecisionTrail(BaseModel):
    """Everything known about one decision, from its input to its fills (the audit export)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    decision: Decision
    record: DecisionRecord | None = None
    snapshot: dict[str, JsonData] | None = None
    """The input snapshot (bars, indicators, position, portfolio, memory) as JSON."""
    prompts: dict[str, str] = Field(default_factory=dict)
    """Rendered prompt text by hash."""
    orders: tuple[Order, ...] = ()
    fills: tuple[Fill, ...] = ()


class Difference(BaseModel):
    """One thing a replay found changed: an input (weights, config, prompt) or an output."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    what: str = Field(min_length=1, max_length=200)
    recorded: str = ""
    now: str = ""


class ReplayReport(BaseModel):
    """A decision re-run offline from its snapshot and stored votes, compared with the record."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    decision_id: str = Field(min_length=1, max_length=64)
    identical: bool
    recorded: EnsembleVerdict
    replayed: EnsembleVerdict
    inputs_changed: tuple[Difference, ...] = ()
    outputs_changed: tuple[Difference, ...] = ()
