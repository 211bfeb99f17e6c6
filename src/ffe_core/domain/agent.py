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
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_id)
    holder: str = ""  # which process holds the run (host:pid)
    state: AgentState = AgentState.RUNNING
    started_at: UtcDatetime = Field(default_factory=utcnow)
    heartbeat_at: UtcDatetime = Field(default_factory=utcnow)
    stopped_at: UtcDatetime | None = None
    stop_reason: str | None = None


class AgentCycle(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_id)
    run_id: str
    seq: int = Field(ge=0)
    instrument: str
    phase: CyclePhase = CyclePhase.OBSERVE
    decision_id: str | None = None
    client_order_id: str | None = None
    note: str = ""
    started_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)
