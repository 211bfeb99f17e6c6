"""The control plane: what a person can see and do, whichever channel they use (API, CLI, Telegram).

Entry points and chat adapters depend on this port, never on the agent or container directly.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from ffe_core.domain.agent import AgentState
from ffe_core.domain.approvals import Approval
from ffe_core.domain.decisions import Decision
from ffe_core.domain.market import UtcDatetime
from ffe_core.domain.portfolio import Portfolio


class KillSwitchState(BaseModel):
    model_config = ConfigDict(frozen=True)

    tripped: bool = False
    reason: str | None = None
    at: UtcDatetime | None = None


class AgentStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: AgentState
    run_id: str | None = None
    started_at: UtcDatetime | None = None
    uptime_seconds: float = 0.0
    cycles: int = 0
    current_phase: str | None = None
    current_instrument: str | None = None
    instruments: tuple[str, ...] = ()
    interval_seconds: float = 0.0
    kill_switch: KillSwitchState = KillSwitchState()
    last_error: str | None = None


@runtime_checkable
class ControlPlane(Protocol):
    async def agent_status(self) -> AgentStatus: ...

    async def start_agent(self, by: str) -> AgentStatus:
        """Start; raises ConflictError if already running."""
        ...

    async def stop_agent(self, by: str) -> AgentStatus: ...

    async def pause_agent(self, by: str) -> AgentStatus: ...

    async def resume_agent(self, by: str) -> AgentStatus: ...

    async def reset_kill_switch(self, by: str) -> AgentStatus:
        """Re-allow trading after the drawdown kill switch fired (the agent stays stopped)."""
        ...

    async def portfolio(self) -> Portfolio: ...

    async def recent_decisions(self, limit: int = 10) -> list[Decision]: ...

    async def pending_approvals(self) -> list[Approval]: ...

    async def resolve_approval(self, approval_id: str, approve: bool, by: str) -> Approval:
        """Approve or reject. Idempotent: a repeat returns the already-resolved approval unchanged;
        raises NotFoundError for an unknown id."""
        ...
