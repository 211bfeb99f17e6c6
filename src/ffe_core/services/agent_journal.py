"""The cycle journal: each cycle's phase is recorded before the agent takes the next step, so a
crash leaves a trail :meth:`ffe_core.services.agent_orders.OrderDesk.recover` can finish."""

from __future__ import annotations

import contextlib

from ffe_core.domain.agent import AgentCycle
from ffe_core.domain.decisions import Decision
from ffe_core.domain.errors import ConflictError
from ffe_core.ports.clock import Clock
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.services.agent_lifecycle import AgentProgress
from ffe_core.services.decisions import DecisionService


class CycleJournal:
    """Writes agent cycles, and the decision each names with all that is stored with it (see
    ``DecisionService.write_stored``), in one transaction per entry."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        progress: AgentProgress,
        decisions: DecisionService | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.progress = progress
        self.decisions = decisions  # what made the decisions the cycles store

    async def add(self, cycle: AgentCycle) -> None:
        """A new journal entry."""
        async with self.uow_factory() as uow:
            await uow.agent.add_cycle(cycle)
            await uow.commit()

    async def record(
        self, cycle: AgentCycle, *, decided: Decision | None = None, **changes: object
    ) -> AgentCycle:
        """Record the cycle's next phase; ``decided``, the cycle's decision, is stored in the
        same transaction (with its flight record and cost-ledger rows) unless an earlier entry
        stored it, so a cycle never names a decision that is not there, nor a decision that
        lacks what belongs with it."""
        updated = cycle.model_copy(update={**changes, "updated_at": self.clock.now()})
        stored = False
        async with self.uow_factory() as uow:
            if decided is not None:
                with contextlib.suppress(ConflictError):  # stored with an earlier phase
                    await uow.decisions.add(decided)
                    stored = True
                if stored and self.decisions is not None:
                    await self.decisions.write_stored(uow, decided)
            await uow.agent.update_cycle(updated)
            await uow.commit()
        if stored and self.decisions is not None:
            self.decisions.stored()
        self.progress.phase = updated.phase
        return updated
