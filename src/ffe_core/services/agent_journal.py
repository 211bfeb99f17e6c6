"""The cycle journal: each cycle's phase is recorded before the agent takes the next step, so a
crash leaves a trail :meth:`ffe_core.services.agent_orders.OrderDesk.recover` can finish."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from ffe_core.domain.agent import AgentCycle
from ffe_core.domain.decisions import Decision
from ffe_core.domain.errors import ConflictError
from ffe_core.ports.clock import Clock
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.services.agent_lifecycle import AgentProgress


class CycleJournal:
    """Writes agent cycles, and the decision each names, in one transaction per entry."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        progress: AgentProgress,
        on_stored: Callable[[Decision], Awaitable[None]] | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.progress = progress
        self.on_stored = on_stored  # e.g. the flight recorder, once a cycle's decision is stored

    async def add(self, cycle: AgentCycle) -> None:
        """A new journal entry."""
        async with self.uow_factory() as uow:
            await uow.agent.add_cycle(cycle)
            await uow.commit()

    async def record(
        self, cycle: AgentCycle, *, decided: Decision | None = None, **changes: object
    ) -> AgentCycle:
        """Record the cycle's next phase; ``decided``, the cycle's decision, is stored in the
        same transaction unless an earlier entry stored it, so a cycle never names a decision
        that is not there."""
        updated = cycle.model_copy(update={**changes, "updated_at": self.clock.now()})
        async with self.uow_factory() as uow:
            if decided is not None:
                with contextlib.suppress(ConflictError):  # stored with an earlier phase
                    await uow.decisions.add(decided)
            await uow.agent.update_cycle(updated)
            await uow.commit()
        if decided is not None and self.on_stored is not None:
            await self.on_stored(decided)
        self.progress.phase = updated.phase
        return updated
