"""The cycle journal: each cycle's phase is recorded before the agent takes the next step, so a
crash leaves a trail :meth:`ffe_core.services.agent_orders.OrderDesk.recover` can finish."""

from __future__ import annotations

import contextlib
from typing import Protocol

from ffe_core.domain.agent import AgentCycle
from ffe_core.domain.decisions import Decision
from ffe_core.domain.errors import ConflictError
from ffe_core.ports.clock import Clock
from ffe_core.ports.storage import UnitOfWork, UnitOfWorkFactory
from ffe_core.services.agent_lifecycle import AgentProgress


class WrittenWithDecisions(Protocol):
    """What is stored with each decision the journal stores (``DecisionService``)."""

    def was_stored(self, decision: Decision) -> None:
        """Told after ``decision`` is stored (committed)."""
        ...

    async def write_stored(self, uow: UnitOfWork, decision: Decision) -> None:
        """Add what belongs with ``decision`` to ``uow``, the transaction storing it."""
        ...


class CycleJournal:
    """Writes agent cycles, and the decision each names with all that is stored with it (see
    ``DecisionService.write_stored``), in one transaction per entry."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        progress: AgentProgress,
        with_decisions: WrittenWithDecisions | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.progress = progress
        self.with_decisions = with_decisions
        self._offered: str | None = None  # the id of the last decision offered to storage

    async def add(self, cycle: AgentCycle) -> None:
        """A new journal entry (:meth:`record` stores one it has not seen too)."""
        async with self.uow_factory() as uow:
            await uow.agent.add_cycle(cycle)
            await uow.commit()

    async def record(
        self, cycle: AgentCycle, *, decided: Decision | None = None, **changes: object
    ) -> AgentCycle:
        """Record the cycle's next phase; ``decided``, the cycle's decision, is stored in the
        same transaction (with its flight record and cost-ledger rows) unless an earlier entry
        stored it, so a cycle never names a decision that is not there, nor a decision that
        lacks what belongs with it. ``decided`` is made unstored for its cycle (``persist=False``):
        first offered, it is inserted without reading its row count (no round trip of its own
        on SQLite); offered again (a later phase, or after a failed write), the insert is
        checked, so it and what is stored with it are never doubled."""
        updated = cycle.model_copy(update={**changes, "updated_at": self.clock.now()})
        stored = False
        async with self.uow_factory() as uow:
            if decided is not None:
                if decided.id != self._offered:  # made for this cycle, never offered before
                    self._offered = decided.id
                    await uow.decisions.add(decided, fresh=True)
                    stored = True
                else:  # an earlier attempt (an earlier phase) may have stored it
                    with contextlib.suppress(ConflictError):
                        await uow.decisions.add(decided)
                        stored = True
                if stored and self.with_decisions is not None:
                    await self.with_decisions.write_stored(uow, decided)
            await uow.agent.update_cycle(updated)
            await uow.commit()
        if stored and decided is not None and self.with_decisions is not None:
            self.with_decisions.was_stored(decided)
        self.progress.phase = updated.phase
        return updated
