"""Agent runs and the journal of their cycles (what makes a crash resumable)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ffe_core.domain.decisions import new_id, utcnow
from ffe_core.domain.market import UtcDatetime


class AgentState(StrEnum):
    STOPPED = "stopped"
    RUNNING = "running"
    PAUSED = "paused"


class CyclePhase(StrEnum):
    OBSERVE = "observe"
    ORIENT = "orient"
    DECIDE = "decide"
    ACT = "act"
    AWAITING_APPROVAL = "awaiting_approval"
    DONE = "done"
    FAILED = "failed"


class AgentRun(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    id: str = Field(default_factory=new_id, max_length=64)
    holder: str = ""  # which process holds the run (host:pid)
    state: AgentState = AgentState.RUNNING
    started_at: UtcDatetime = Field(default_factory=utcnow)
    heartbeat_at: UtcDatetime = Field(default_factory=utcnow)
    stopped_at: UtcDatetime | None = None
    stop_reason: str | None = None


class AgentCycle(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    id: str = Field(default_factory=new_id, max_length=64)
    run_id: str = Field(max_length=64)
    seq: int = Field(ge=0, le=2**31 - 1)  # a 32-bit column: 4,000 years of one cycle a minute
    instrument: str = Field(max_length=32)
    phase: CyclePhase = CyclePhase.OBSERVE
    decision_id: str | None = None
    client_order_id: str | None = None
    note: str = ""
    started_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)
