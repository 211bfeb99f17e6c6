"""The control plane: what a person can see and do, whichever channel they use (API, CLI, Telegram).

Entry points and chat adapters depend on this port, never on the agent or container directly.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from ffe_core.domain.agent import AgentState
from ffe_core.domain.approvals import Approval
from ffe_core.domain.decisions import Decision
from ffe_core.domain.market import UtcDatetime
from ffe_core.domain.orders import Order
from ffe_core.domain.portfolio import Portfolio

AUDIT_LOGGER = "ffe.audit"
"""The logger every control action is recorded on (who did what, from which channel)."""


class KillSwitchState(BaseModel):
    """``reason``/``at``/``tripped_by``: the trip in force; ``reset_*``: the last reset."""

    model_config = ConfigDict(defer_build=True, frozen=True, allow_inf_nan=False)

    tripped: bool = False
    reason: str | None = None
    at: UtcDatetime | None = None
    tripped_by: str | None = None
    reset_by: str | None = None
    reset_at: UtcDatetime | None = None


class AgentStatus(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, allow_inf_nan=False)

    state: AgentState
    run_id: str | None = None
    started_at: UtcDatetime | None = None
    uptime_seconds: float = 0.0
    cycles: int = 0
    last_cycle_at: UtcDatetime | None = None  # when the last cycle ended (any run)
    current_phase: str | None = None
    current_instrument: str | None = None
    instruments: tuple[str, ...] = ()
    interval_seconds: float = 0.0
    kill_switch: KillSwitchState = KillSwitchState()
    last_error: str | None = None


class FlattenResult(BaseModel):
    """One position's flatten: the decision made for it and what the execution gate did."""

    model_config = ConfigDict(defer_build=True, frozen=True, allow_inf_nan=False)

    instrument: str
    held: Decimal
    """The position (signed quantity) the flatten set out to close."""
    decision_id: str
    sent: bool
    order: Order | None = None
    refused: str | None = None


@runtime_checkable
class ControlPlane(Protocol):
    async def agent_status(self) -> AgentStatus: ...

    async def start_agent(self, by: str) -> AgentStatus:
        """Start one run: callers arriving while a start is under way get that same run (or its
        refusal); ConflictError once it is running, or while the kill switch is tripped."""
        ...

    async def stop_agent(self, by: str) -> AgentStatus: ...

    async def pause_agent(self, by: str) -> AgentStatus: ...

    async def resume_agent(self, by: str) -> AgentStatus: ...

    async def reset_kill_switch(self, by: str) -> AgentStatus:
        """Re-allow trading after the drawdown kill switch fired (the agent stays stopped);
        recorded (who, when, why it had tripped), audited, persisted for every process."""
        ...

    async def portfolio(self) -> Portfolio: ...

    async def recent_decisions(self, limit: int = 10) -> list[Decision]: ...

    async def pending_approvals(self) -> list[Approval]: ...

    async def resolve_approval(
        self, approval_id: str, approve: bool, by: str, size: Decimal | None = None
    ) -> Approval:
        """Approve (at most ``size`` when given: a smaller size than sized) or reject a pending
        approval; anything else raises ConflictError (the approval's true state), an unknown
        id NotFoundError, a size above the sized one InvalidTransition."""
        ...

    async def size_now(self, approval: Approval) -> Decimal | None:
        """The size the execution gate would send for this approval's decision now (None when
        it would send nothing)."""
        ...

    async def cancel_order(self, client_order_id: str, by: str) -> Order:
        """Cancel a working order through the execution gate; audited. NotFoundError for an
        order the ledger does not have, ConflictError (the reason) for one that is finished."""
        ...

    async def flatten_position(self, instrument: str, by: str) -> FlattenResult:
        """Close one position with an order through the execution gate; audited. NotFoundError
        when there is none, ConflictError with the gate's reason when nothing was sent."""
        ...

    async def flatten_all(self, by: str) -> list[FlattenResult]:
        """Close every open position through the execution gate; one result per position."""
        ...


@runtime_checkable
class StandsBy(Protocol):
    def start_standby(self, by: str, retry_seconds: float) -> None:
        """Keep trying to start (while another process holds the leader lease)."""
        ...


@runtime_checkable
class AgentMetricsSource(Protocol):
    """A control plane whose agent runs in another process, which counts its own metrics."""

    async def agent_metrics(self) -> list[dict[str, Any]]:
        """That process's ffe_* metric families as plain data (name, documentation, type, unit,
        samples as [name, labels, value]); empty when it is not running."""
        ...
