"""The control plane: agent lifecycle in the background, approvals and account views.

API, CLI and Telegram all go through this one implementation of ``ControlPlane``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from decimal import Decimal

from ffe_core.domain.agent import AgentState
from ffe_core.domain.approvals import Approval, ApprovalStatus
from ffe_core.domain.decisions import Decision
from ffe_core.domain.errors import ConflictError
from ffe_core.domain.orders import Order
from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.brokers import Broker
from ffe_core.ports.control import AgentStatus, ControlPlane, FlattenResult
from ffe_core.ports.live_gate import LiveGateRefused
from ffe_core.ports.storage import DecisionQuery, UnitOfWorkFactory
from ffe_core.services.agent import TradingAgent
from ffe_core.services.approvals import ApprovalService
from ffe_core.services.desk import Desk

log = logging.getLogger(__name__)


class ControlService(ControlPlane):
    """Implements ``ffe_core.ports.control.ControlPlane`` over one agent."""

    def __init__(
        self,
        agent: TradingAgent,
        approvals: ApprovalService,
        broker: Broker,
        uow_factory: UnitOfWorkFactory,
    ) -> None:
        self.agent = agent
        self.approvals = approvals
        self.broker = broker
        self.uow_factory = uow_factory
        self._task: asyncio.Task[object] | None = None
        self._starting: asyncio.Task[AgentStatus] | None = None  # the one start under way
        self._standby: asyncio.Task[None] | None = None
        gate = agent.gate
        self.desk = Desk(gate, broker, uow_factory, gate.clock, agent.lifecycle.fence)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def agent_status(self, *, refresh: bool = True) -> AgentStatus:
        """``refresh``: read the stored kill switch first (a reset from the CLI shows here);
        without, the switch as this process knows it (the API process reads the stored one)."""
        kill_switch = (
            await self.agent.refresh_kill_switch() if refresh else self.agent.kill_switch()
        )
        p = self.agent.progress
        run = p.run
        return AgentStatus(
            state=p.state if self.running else AgentState.STOPPED,
            run_id=run.id if run and self.running else None,
            started_at=run.started_at if run and self.running else None,
            uptime_seconds=round(self.agent.uptime(), 3) if self.running else 0.0,
            cycles=p.cycles,
            last_cycle_at=p.last_cycle_at,
            current_phase=p.phase.value if p.phase and self.running else None,
            current_instrument=p.instrument if self.running else None,
            instruments=self.agent.settings.agent.instruments,
            interval_seconds=self.agent.settings.agent.interval_seconds,
            kill_switch=kill_switch,
            last_error=p.last_error,
        )

    async def start_agent(self, by: str) -> AgentStatus:
        """One start at a time: a caller arriving while one is under way gets its outcome (the
        same run, or the same refusal); once the agent runs, ConflictError. The start goes on
        even if the caller that began it goes away."""
        if self._starting is None:
            if self.running:
                raise ConflictError("the agent is already running")
            self._starting = asyncio.create_task(self._start(by), name="ffe-agent-start")
        return await asyncio.shield(self._starting)

    async def _start(self, by: str) -> AgentStatus:
        try:
            ks = await self.agent.refresh_kill_switch()
            if ks.tripped:
                raise ConflictError(f"the kill switch is tripped ({ks.reason}); reset it first")
            run = await self.agent.acquire()
            log.info("agent started by %s (run %s)", by, run.id)
            self.agent.progress.state = AgentState.RUNNING
            self.agent.progress.run = run
            self.agent.progress.started_monotonic = time.monotonic()  # uptime before run()
            self._task = asyncio.create_task(self._run(run.id), name="ffe-agent")
        finally:
            self._starting = None  # in the same step as _task is set: no gap between the two
        return await self.agent_status()

    async def _run(self, run_id: str) -> object:
        run = self.agent.progress.run
        try:
            return await self.agent.run(run=run if run and run.id == run_id else None)
        except Exception:
            log.exception("agent run %s ended on an error", run_id)
            return None

    def start_standby(self, by: str, retry_seconds: float) -> None:
        """Keep trying to start (e.g. while another process holds the leader lease)."""
        if self._standby is None or self._standby.done():
            self._standby = asyncio.create_task(
                self._stand_by(by, retry_seconds), name="ffe-standby"
            )

    async def _stand_by(self, by: str, retry_seconds: float) -> None:
        said: str | None = None  # the live gate's last refusal, logged once until it changes
        while True:
            if not self.running and not (await self.agent.refresh_kill_switch()).tripped:
                try:
                    await self.start_agent(by)
                except LiveGateRefused as exc:
                    if str(exc) != said:
                        said = str(exc)
                        log.warning("standby cannot take over: %s", said)
                except ConflictError:
                    pass
            await asyncio.sleep(retry_seconds)

    async def stop_agent(self, by: str) -> AgentStatus:
        if self._standby is not None:
            self._standby.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._standby
            self._standby = None
        if self._starting is not None:  # a start under way is stopped, not left running
            with contextlib.suppress(Exception):
                await asyncio.shield(self._starting)
        if self._task is not None:
            log.info("agent stop requested by %s", by)
            self.agent.stop()
            with contextlib.suppress(Exception):
                await self._task
            self._task = None
        return await self.agent_status()

    async def pause_agent(self, by: str) -> AgentStatus:
        if not self.running:
            raise ConflictError("the agent is not running")
        self.agent.pause()
        return await self.agent_status()

    async def resume_agent(self, by: str) -> AgentStatus:
        if not self.running:
            raise ConflictError("the agent is not running")
        self.agent.resume()
        return await self.agent_status()

    async def reset_kill_switch(self, by: str) -> AgentStatus:
        await self.agent.reset_kill_switch(by)
        return await self.agent_status()

    async def portfolio(self) -> Portfolio:
        return await self.broker.get_portfolio()

    async def recent_decisions(self, limit: int = 10) -> list[Decision]:
        async with self.uow_factory() as uow:
            items, _ = await uow.decisions.list(DecisionQuery(limit=limit))
        return items

    async def pending_approvals(self) -> list[Approval]:
        return await self.approvals.find(ApprovalStatus.PENDING)

    async def resolve_approval(
        self, approval_id: str, approve: bool, by: str, size: Decimal | None = None
    ) -> Approval:
        """Approve or reject (409 for anything not pending). An approval is sent through the
        execution gate only after it is committed; while the kill switch is tripped nothing
        can be approved. Returns the approval's state after the gate (approved, failed ...)."""
        ks = await self.agent.refresh_kill_switch() if approve else self.agent.kill_switch()
        if approve and ks.tripped:
            raise ConflictError(
                f"the kill switch is tripped ({ks.reason}); approving is refused until it is reset"
            )
        approval = await self.approvals.resolve(approval_id, approve, by, size)
        if approval.status is ApprovalStatus.APPROVED and self.running:
            await self.agent.execute_approved()
            approval = await self.approvals.get(approval.id)
        return approval

    async def size_now(self, approval: Approval) -> Decimal | None:
        async with self.uow_factory() as uow:
            decision = await uow.decisions.get(approval.decision_id)
        if decision is None:
            return None
        return await self.agent.gate.preview_size(decision)

    async def cancel_order(self, client_order_id: str, by: str) -> Order:
        return await self.desk.cancel(client_order_id, by)

    async def flatten_position(self, instrument: str, by: str) -> FlattenResult:
        return await self.desk.flatten(instrument, by)

    async def flatten_all(self, by: str) -> list[FlattenResult]:
        return await self.desk.flatten_all(by)

    async def close(self) -> None:
        """Stop the agent gracefully (the container closes this first)."""
        await self.stop_agent("shutdown")
