"""The control plane of a server whose agent runs in its own process (``ffe serve``).

Lifecycle, kill-switch resets and approvals go to the agent process while it is alive (its
``ControlService`` keeps every guarantee: one run for concurrent starts, stop after the current
cycle, no orphan runs or lease keepers); when it is not, to this process's idle
``ControlService``. Reads (portfolio, decisions, pending approvals, sizes) and the stored kill
switch are served here from storage. A start spawns a new agent process if the last one died.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ffe_core.domain.approvals import Approval
from ffe_core.domain.decisions import Decision
from ffe_core.domain.orders import Order
from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.control import AgentStatus, ControlPlane, FlattenResult
from ffe_core.services.control import ControlService
from ffe_entrypoints.services.agent_link import AgentUnreachable
from ffe_entrypoints.services.agent_process import AgentProcess


class AgentProcessControl(ControlPlane):
    """Implements ``ffe_core.ports.control.ControlPlane`` (and ``AgentMetricsSource``) over an
    :class:`AgentProcess`; ``local`` is this process's ControlService, never started here.

    ``changed``: this process's read models (account, decision pages), told when an answer
    from the agent process means it wrote to storage (a stop after its last cycle, a flatten,
    a cancel, a resolved approval), so the next read shows the change at once rather than
    after the read models' age limit."""

    def __init__(
        self,
        local: ControlService,
        process: AgentProcess,
        changed: Sequence[Callable[[], None]] = (),
    ) -> None:
        self.local = local
        self.process = process
        self._changed = tuple(changed)
        self._standby: asyncio.Task[Any] | None = None

    @classmethod
    def unspawned(
        cls, local: ControlService, changed: Sequence[Callable[[], None]] = ()
    ) -> AgentProcessControl:
        """No agent process yet: :meth:`warm` spawns it once the API answers, a start at once.
        Its imports would otherwise compete with the API's start-up for the CPU."""
        return cls(local, AgentProcess(local.agent.settings), changed)

    def warm(self) -> None:
        """Spawn the idle agent process now (it warms up while the API serves), so a start
        from the dashboard need not wait for its imports."""
        self.process.spawn()

    async def _started(self) -> None:
        """Wait for the agent process, then lower this process's CPU priority below it (the
        API yields to trading only once there is trading to yield to)."""
        await self.process.ready()  # a new agent process if the last one died
        self.process.lower_api_priority()

    async def _wrote(self, op: str, **args: Any) -> Any | None:
        """:meth:`_remote` for an operation that writes to storage: once the agent process
        answers, this process's read models are told."""
        try:
            return await self._remote(op, **args)
        finally:
            for tell in self._changed:
                tell()

    async def _remote(self, op: str, *, wait: bool = True, **args: Any) -> Any | None:
        """The agent process's answer, or None when it is not alive (or stops answering).
        ``wait``: an agent process still starting is waited for (else None)."""
        if not self.process.alive:
            return None
        try:
            return await self.process.link.call(op, **args)
        except AgentUnreachable:
            if wait and self.process.alive:  # alive but not listening yet
                await self.process.ready()
                return await self.process.link.call(op, **args)
            return None

    async def _status(self, answer: Any | None) -> AgentStatus:
        """The agent's status with the stored kill switch; a dead agent process is reported
        as an error (the health check then says the agent is down)."""
        kill_switch = await self.local.agent.refresh_kill_switch()
        if answer is None:
            status = await self.local.agent_status(refresh=False)
            death = self.process.death()
            if death is not None:
                status = status.model_copy(update={"last_error": death})
        else:
            status = AgentStatus.model_validate(answer)
        return status.model_copy(update={"kill_switch": kill_switch})

    async def agent_status(self) -> AgentStatus:
        return await self._status(await self._remote("status", wait=False))

    async def start_agent(self, by: str) -> AgentStatus:
        await self._started()
        return await self._status(await self.process.link.call("start", by=by))

    def start_standby(self, by: str, retry_seconds: float) -> None:
        """The agent process keeps trying to take the leader lease."""

        async def standby() -> None:
            await self._started()
            await self.process.link.call("standby", by=by, retry_seconds=retry_seconds)

        self._standby = asyncio.create_task(standby(), name="ffe-standby")

    async def stop_agent(self, by: str) -> AgentStatus:
        answer = await self._wrote("stop", by=by)
        if answer is None:
            await self.local.stop_agent(by)
        return await self._status(answer)

    async def pause_agent(self, by: str) -> AgentStatus:
        answer = await self._remote("pause", by=by)
        if answer is None:
            await self.local.pause_agent(by)  # not running here: ConflictError
        return await self._status(answer)

    async def resume_agent(self, by: str) -> AgentStatus:
        answer = await self._remote("resume", by=by)
        if answer is None:
            await self.local.resume_agent(by)
        return await self._status(answer)

    async def reset_kill_switch(self, by: str) -> AgentStatus:
        answer = await self._remote("reset_kill_switch", by=by)
        if answer is None:
            await self.local.reset_kill_switch(by)
        return await self._status(answer)

    async def resolve_approval(
        self, approval_id: str, approve: bool, by: str, size: Decimal | None = None
    ) -> Approval:
        """Resolved by the agent process (which sends an approved order through its gate at
        once); with no agent process, recorded here and sent by the next run."""
        answer = await self._wrote(
            "resolve_approval",
            approval_id=approval_id,
            approve=approve,
            by=by,
            size=str(size) if size is not None else None,
        )
        if answer is None:
            return await self.local.resolve_approval(approval_id, approve, by, size)
        return Approval.model_validate(answer)

    async def cancel_order(self, client_order_id: str, by: str) -> Order:
        """Through the agent process's gate (the leader's fence); with none, this process's."""
        answer = await self._wrote("cancel_order", client_order_id=client_order_id, by=by)
        if answer is None:
            return await self.local.cancel_order(client_order_id, by)
        return Order.model_validate(answer)

    async def flatten_position(self, instrument: str, by: str) -> FlattenResult:
        answer = await self._wrote("flatten_position", instrument=instrument, by=by)
        if answer is None:
            return await self.local.flatten_position(instrument, by)
        return FlattenResult.model_validate(answer)

    async def flatten_all(self, by: str) -> list[FlattenResult]:
        answer = await self._wrote("flatten_all", by=by)
        if answer is None:
            return await self.local.flatten_all(by)
        return [FlattenResult.model_validate(r) for r in answer]

    async def portfolio(self) -> Portfolio:
        return await self.local.portfolio()

    async def recent_decisions(self, limit: int = 10) -> list[Decision]:
        return await self.local.recent_decisions(limit)

    async def pending_approvals(self) -> list[Approval]:
        return await self.local.pending_approvals()

    async def size_now(self, approval: Approval) -> Decimal | None:
        return await self.local.size_now(approval)

    async def agent_metrics(self) -> list[dict[str, Any]]:
        """The agent process's ffe_* metric families (none when it is not running)."""
        families: list[dict[str, Any]] = await self._remote("metrics", wait=False) or []
        return families

    async def close(self) -> None:
        """Stop the agent (after its current cycle) and its process."""
        if self._standby is not None:
            self._standby.cancel()
            with contextlib.suppress(BaseException):
                await self._standby
        await self.process.close()
        await self.local.close()
