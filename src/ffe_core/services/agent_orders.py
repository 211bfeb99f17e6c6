"""The agent's order desk: every order it sends goes through the one execution gate, fenced by
the run's lease, with its client order id journaled first; approved decisions are sent the same
way; after a crash nothing is resent, and the ledger and positions are reconciled with the venue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from ffe_core.domain.agent import AgentCycle, CyclePhase
from ffe_core.domain.decisions import Decision
from ffe_core.domain.orders import OrderStatus, client_order_id_for
from ffe_core.ports.brokers import Broker
from ffe_core.ports.clock import Clock
from ffe_core.ports.notify import EventKind
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.services.agent_journal import CycleJournal
from ffe_core.services.agent_lifecycle import AgentProgress
from ffe_core.services.agent_reports import Notices, SeenPositions
from ffe_core.services.approvals import ApprovalService
from ffe_core.services.execution import ExecutionGate, GateResult, send_approved

log = logging.getLogger(__name__)

Fence = Callable[[], AbstractAsyncContextManager[None]]

_UNFINISHED = (CyclePhase.OBSERVE, CyclePhase.ORIENT, CyclePhase.DECIDE, CyclePhase.ACT)


class OrderDesk:
    """Sends the agent's orders through ``gate`` and keeps the journal and ledger honest."""

    def __init__(
        self,
        gate: ExecutionGate,
        broker: Broker,
        approvals: ApprovalService,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        journal: CycleJournal,
        progress: AgentProgress,
        notices: Notices,
        fence: Fence,
        seen: SeenPositions,
    ) -> None:
        self.gate = gate
        self.broker = broker
        self.approvals = approvals
        self.uow_factory = uow_factory
        self.clock = clock
        self.journal = journal
        self.progress = progress
        self.notices = notices
        self.fence = fence
        self.seen = seen  # the positions ffe last saw
        self.last_reconciliation: dict[str, tuple[str, str]] = {}

    async def execute(
        self, cycle: AgentCycle, decision: Decision, *, stored: bool = True
    ) -> AgentCycle:
        """Hand ``decision`` to the execution gate and journal what it did; the order's id is
        journaled (with the decision, when ``stored`` is False) before anything is sent."""
        cycle = await self.journal.record(
            cycle,
            decided=None if stored else decision,
            phase=CyclePhase.ACT,
            client_order_id=client_order_id_for(decision.id),
        )
        result = await self.gate.execute(decision, fence=self.fence)
        note = gate_note(result)
        if result.order is not None and result.order.status is OrderStatus.REJECTED:
            self.progress.last_error = f"{decision.instrument}: {result.refused}"
            return await self.journal.record(cycle, phase=CyclePhase.FAILED, note=note)
        return await self.journal.record(cycle, phase=CyclePhase.DONE, note=note)

    async def execute_approved(self) -> list[str]:
        """Send approved decisions not yet in the ledger through the gate (which re-checks them
        now); one the gate or the venue refuses ends its approval expired or failed."""
        if self.progress.run is None:
            return []
        sent: list[str] = []
        for approval, result in await send_approved(self.approvals, self.gate, fence=self.fence):
            now = self.clock.now()
            await self.journal.add(
                AgentCycle(
                    run_id=self.progress.run.id,
                    seq=self.progress.cycles,
                    instrument=approval.instrument,
                    phase=CyclePhase.DONE,
                    decision_id=approval.decision_id,
                    client_order_id=client_order_id_for(approval.decision_id),
                    note="approved; " + gate_note(result),
                    started_at=now,
                    updated_at=now,
                )
            )
            if result.sent and result.order is not None:
                sent.append(result.order.client_order_id)
        return sent

    async def recover(self) -> list[AgentCycle]:
        """Finish cycles a crash interrupted: an order journaled in ACT is looked up, never resent;
        ledger orders the venue never received are closed, and the ledger catches up with it."""
        await self.gate.expire_unsent()
        await self.gate.sync()
        fixed: list[AgentCycle] = []
        async with self.uow_factory() as uow:
            cycles = await uow.agent.list_cycles(limit=500)
        for cycle in cycles:
            if cycle.phase not in _UNFINISHED:
                continue
            note = "interrupted before acting; not resumed"
            if cycle.phase is CyclePhase.ACT and cycle.client_order_id:
                order = await self.broker.get_order(cycle.client_order_id)
                note = (
                    f"recovered: broker has order {order.client_order_id} ({order.status})"
                    if order is not None
                    else "interrupted before the order reached the broker; not resent (stale)"
                )
            done = cycle.model_copy(
                update={
                    "phase": CyclePhase.DONE if "recovered" in note else CyclePhase.FAILED,
                    "note": note,
                    "updated_at": self.clock.now(),
                }
            )
            async with self.uow_factory() as uow:
                closed = await uow.agent.close_cycle(done)
                await uow.commit()
            if closed:  # else its own process (paused, not dead) ended it meanwhile
                fixed.append(done)
        return fixed

    async def reconcile(self) -> dict[str, tuple[str, str]]:
        """Before the first order: compare the venue's positions with those ffe last saw and with
        the ledger's fills; report every difference (one notification)."""
        diffs, known = await self.seen.reconcile()
        ledger = await self.gate.ledger_differences()
        self.last_reconciliation = diffs
        lines = (
            [f"{s}: ffe saw {a}, broker has {b}" for s, (a, b) in diffs.items()] if known else []
        )
        lines += [f"{s}: ledger fills give {a}, venue has {b}" for s, (a, b) in ledger.items()]
        if lines:
            text = "; ".join(lines)
            log.warning("reconciliation: %s", text)
            await self.notices.send(EventKind.ERROR, "Positions differ from the broker", text)
        return diffs


def gate_note(result: GateResult) -> str:
    """The cycle journal's line for what the gate did."""
    if result.duplicate:
        status = result.order.status if result.order is not None else "unknown"
        return f"order already sent ({status}); not resent"
    if result.refused is not None:
        return f"not sent: {result.refused}"[:500]
    assert result.order is not None
    return f"order {result.order.status}: {result.order.side} {result.order.quantity}"
