"""The approved approvals the agent sends each pass: one read, unless an approval's time is up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ffe_adapters.storage.memory import InMemoryUnitOfWorkFactory
from ffe_core.config import ApprovalSettings
from ffe_core.domain.approvals import Approval, ApprovalStatus
from ffe_core.ports.clock import ManualClock
from ffe_core.services.approvals import ApprovalService

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class CountingStore(InMemoryUnitOfWorkFactory):
    def __init__(self) -> None:
        super().__init__()
        self.opened = 0

    def __call__(self):  # type: ignore[no-untyped-def]
        self.opened += 1
        return super().__call__()


async def test_approved_reads_once_and_expires_what_is_due() -> None:
    store, clock = CountingStore(), ManualClock(T0)
    service = ApprovalService(ApprovalSettings(), store, clock)
    made = [
        Approval(
            decision_id=f"d{i}",
            instrument="BTC-USD",
            created_at=T0 + timedelta(seconds=i),
            expires_at=T0 + timedelta(minutes=5 + i),
            on_expiry="approve" if i == 2 else "deny",
        )
        for i in range(3)
    ]
    async with store() as uow:
        for a in made:
            await uow.approvals.add(a)
        await uow.approvals.update(made[0].resolve(ApprovalStatus.APPROVED, "alice", T0))
        await uow.commit()
    store.opened = 0
    assert [a.decision_id for a in await service.approved()] == ["d0"]
    assert store.opened == 1, "nothing was due: one read"
    clock.advance(8 * 60)  # d1 expires (denied), d2's veto window passes
    assert [a.decision_id for a in await service.approved()] == ["d0", "d2"]
    async with store() as uow:
        assert (await uow.approvals.get(made[1].id)).status is ApprovalStatus.EXPIRED  # type: ignore[union-attr]


async def test_one_decision_asked_twice_at_once_gets_one_approval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two requests for the same decision both pass the pending check before either adds:
    the second add is refused (one approval per decision, in every storage; the in-memory
    store kept both) and both callers get the first, found by the decision's id."""
    import asyncio
    from decimal import Decimal
    from typing import Any

    from ffe_adapters.storage import memory
    from ffe_core.domain.decisions import Action, Decision

    both_read = asyncio.Event()
    readers: list[int] = []
    listing = memory._Approvals.list

    async def read_together(self: Any, status: Any = None) -> Any:
        found = await listing(self, status)
        readers.append(1)
        if len(readers) == 2:
            both_read.set()
        await both_read.wait()
        return found

    monkeypatch.setattr(memory._Approvals, "list", read_together)
    store, clock = InMemoryUnitOfWorkFactory(), ManualClock(T0)
    service = ApprovalService(ApprovalSettings(), store, clock)
    decision = Decision(
        instrument="BTC-USD",
        action=Action.BUY,
        confidence=0.9,
        suggested_size=Decimal("0.1"),
        reference_price=Decimal(100),
        created_at=T0,
    )
    first, second = await asyncio.gather(service.request(decision), service.request(decision))
    assert first == second
    monkeypatch.setattr(memory._Approvals, "list", listing)
    async with store() as uow:
        assert [a.id for a in await uow.approvals.list()] == [first.id]
