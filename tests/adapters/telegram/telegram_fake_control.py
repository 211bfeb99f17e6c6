"""A hand-written ControlPlane fake: in-memory agent state and approvals that honour expiry."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from ffe_core.domain.agent import AgentState
from ffe_core.domain.approvals import Approval, ApprovalStatus
from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.errors import ConflictError, NotFoundError
from ffe_core.domain.portfolio import Portfolio, Position
from ffe_core.ports.clock import ManualClock
from ffe_core.ports.control import AgentStatus, ControlPlane, KillSwitchState
from ffe_core.services.approvals import ApprovalConflict


class FakeControlPlane(ControlPlane):
    """Behaves like the approval service and agent runner, in memory, on a ManualClock."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.state = AgentState.STOPPED
        self.approvals: dict[str, Approval] = {}
        self.decisions: list[Decision] = []
        self.actions: list[tuple[str, str]] = []  # (action, by)
        self.book = Portfolio(cash=Decimal("10000"))
        self.kill_switch_reason: str | None = None  # set: approving is refused (409)
        self.gate_refuses: str | None = None  # set: an approved order fails with this reason

    def add_approval(self, approval_id: str, *, minutes: float = 5, summary: str = "") -> Approval:
        now = self.clock.now()
        approval = Approval(
            id=approval_id,
            decision_id=f"d-{approval_id}",
            instrument="BTC-USD",
            summary=summary or "BUY 0.01 BTC-USD @ 50,000 · conf 72%",
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
            action="BUY",
            size=Decimal("0.01"),
            reference_price=Decimal("50000"),
            notional=Decimal("500"),
        )
        self.approvals[approval_id] = approval
        return approval

    async def agent_status(self) -> AgentStatus:
        return AgentStatus(
            state=self.state,
            instruments=("BTC-USD",),
            interval_seconds=60,
            kill_switch=self.kill_switch(),
        )

    def kill_switch(self) -> KillSwitchState:
        if self.kill_switch_reason is None:
            return KillSwitchState()
        return KillSwitchState(tripped=True, reason=self.kill_switch_reason, at=self.clock.now())

    async def reset_kill_switch(self, by: str) -> AgentStatus:
        if self.kill_switch_reason is not None:
            self.actions.append(("reset_kill_switch", by))
            self.kill_switch_reason = None
        return await self.agent_status()

    async def _move(
        self, action: str, by: str, allowed: set[AgentState], to: AgentState
    ) -> AgentStatus:
        if self.state not in allowed:
            raise ConflictError(f"cannot {action}: agent is {self.state.value}")
        self.actions.append((action, by))
        self.state = to
        return await self.agent_status()

    async def start_agent(self, by: str) -> AgentStatus:
        return await self._move("start", by, {AgentState.STOPPED}, AgentState.RUNNING)

    async def stop_agent(self, by: str) -> AgentStatus:
        return await self._move(
            "stop", by, {AgentState.RUNNING, AgentState.PAUSED}, AgentState.STOPPED
        )

    async def pause_agent(self, by: str) -> AgentStatus:
        return await self._move("pause", by, {AgentState.RUNNING}, AgentState.PAUSED)

    async def resume_agent(self, by: str) -> AgentStatus:
        return await self._move("resume", by, {AgentState.PAUSED}, AgentState.RUNNING)

    async def portfolio(self) -> Portfolio:
        return self.book

    async def recent_decisions(self, limit: int = 10) -> list[Decision]:
        return self.decisions[-limit:]

    async def pending_approvals(self) -> list[Approval]:
        now = self.clock.now()
        return [
            a for a in self.approvals.values() if a.effective_status(now) is ApprovalStatus.PENDING
        ]

    async def resolve_approval(
        self, approval_id: str, approve: bool, by: str, size: Decimal | None = None
    ) -> Approval:
        try:
            approval = self.approvals[approval_id]
        except KeyError:
            raise NotFoundError(f"approval {approval_id}") from None
        now = self.clock.now()
        status = approval.effective_status(now)
        if status is ApprovalStatus.EXPIRED and approval.status is ApprovalStatus.PENDING:
            approval = self.approvals[approval_id] = approval.expire()
        if status is not ApprovalStatus.PENDING:
            raise ApprovalConflict(approval)  # like the service: 409 with the true state
        if approve and self.kill_switch_reason is not None:
            raise ConflictError(
                f"the kill switch is tripped ({self.kill_switch_reason}); "
                "approving is refused until it is reset"
            )
        target = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
        approval = self.approvals[approval_id] = approval.resolve(target, by, now, size)
        if approve and self.gate_refuses is not None:  # the execution gate refused the order
            approval = self.approvals[approval_id] = approval.fail(self.gate_refuses)
        return approval

    async def size_now(self, approval: Approval) -> Decimal | None:
        return approval.size


def sample_decision(at: datetime) -> Decision:
    return Decision(
        instrument="BTC-USD",
        action=Action.BUY,
        confidence=0.72,
        suggested_size=Decimal("0.01"),
        reference_price=Decimal("50000"),
        reasoning="Trend up on 4h\nVolume rising",
        created_at=at,
    )


def with_position(book: Portfolio) -> Portfolio:
    pos = Position(instrument="BTC-USD", quantity=Decimal("0.01"), average_price=Decimal("50000"))
    return book.model_copy(update={"positions": {"BTC-USD": pos}})
