"""While a person has not answered, the agent does not ask again (found by the dashboard e2e
test: each cycle superseded the approval the operator was about to approve)."""

from __future__ import annotations

from pathlib import Path

from ffe_core.domain.approvals import ApprovalStatus
from ffe_entrypoints.lifecycle import shutdown, startup
from tests.unit.agent.test_agent_lifecycle import make


async def test_a_pending_approval_is_not_replaced_every_cycle(tmp_path: Path) -> None:
    c = make(tmp_path, FFE_APPROVALS__POLICY="always")
    await startup(c)
    try:
        agent = c.agent()
        await agent.run(cycles=5, interval=0)
        approvals = await c.approval_service().find()
        assert [a.status for a in approvals] == [ApprovalStatus.PENDING]
        async with c.uow_factory()() as uow:
            notes = [cycle.note for cycle in await uow.agent.list_cycles()]
        assert sum("still pending" in n for n in notes) == 4, notes
    finally:
        await shutdown(c)


async def test_an_approval_past_its_decisions_age_is_no_longer_pending(tmp_path: Path) -> None:
    """Its window closes with the decision's maximum age: each cycle asks anew."""
    c = make(tmp_path, FFE_APPROVALS__POLICY="always", FFE_APPROVALS__MAX_AGE_SECONDS="0.001")
    await startup(c)
    try:
        await c.agent().run(cycles=3, interval=0)
        approvals = await c.approval_service().find()
        assert [a.status for a in approvals] == [ApprovalStatus.EXPIRED] * 3
        assert {a.reason for a in approvals} == {"nobody answered in time"}
    finally:
        await shutdown(c)
