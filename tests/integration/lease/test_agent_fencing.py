"""The agent with a leader lease: one leader per storage, and a stale leader's order is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from ffe_core.config import Settings
from ffe_core.domain.agent import AgentRun, CyclePhase
from ffe_core.domain.errors import ConflictError
from ffe_core.ports.clock import SystemClock
from ffe_core.services.agent import TradingAgent
from ffe_core.services.approvals import ApprovalService
from tests.conftest import SQL_BACKENDS, open_sql_storage
from tests.e2e.lease_agent import AlwaysBuy, RecordingBroker, RecordingLease, create_e2e_tables


@pytest.fixture(params=SQL_BACKENDS)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async with open_sql_storage(request.param, tmp_path) as opened:
        await create_e2e_tables(opened.engine)
        yield opened


def make_agent(storage: Any, name: str, ttl: float = 30.0) -> TradingAgent:
    settings = Settings()
    lease = RecordingLease(storage.engine, "agent", ttl, holder=name)
    clock = SystemClock()
    return TradingAgent(
        settings,
        AlwaysBuy(settings, None),  # type: ignore[arg-type]
        RecordingBroker(storage.engine, name, lease),
        ApprovalService(settings.approvals, storage.uow_factory, clock, channels=[]),
        storage.uow_factory,
        clock,
        holder=name,
        lease=lease,
    )


async def start(agent: TradingAgent) -> AgentRun:
    run = await agent.acquire()
    agent.progress.run = run  # as the control plane does before the loop starts
    return run


async def orders(storage: Any) -> list[tuple[str, str, int]]:
    async with storage.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT client_order_id, sender, token FROM e2e_orders ORDER BY id")
        )
        return [(r[0], r[1], r[2]) for r in rows]


async def test_a_second_agent_is_refused_while_the_lease_is_held(storage: Any) -> None:
    leader, follower = make_agent(storage, "a"), make_agent(storage, "b")
    await start(leader)
    with pytest.raises(ConflictError, match="held by a"):
        await follower.acquire()
    await leader.lifecycle.finish(leader.progress.run, "test over")  # type: ignore[arg-type]
    assert (await follower.acquire()).holder == "b", "a graceful stop hands the lease over"


async def test_stale_leader_order_is_refused_and_the_new_leader_trades(storage: Any) -> None:
    old, new = make_agent(storage, "a"), make_agent(storage, "b")
    await start(old)
    first = await old.cycle("BTC-USD")
    assert first.phase is CyclePhase.DONE
    async with storage.engine.begin() as conn:  # the store sees a's lease lapse (a partition)
        await conn.execute(text("UPDATE leader_leases SET expires_at = 0"))
    await start(new)

    refused = await old.cycle("BTC-USD")
    assert refused.phase is CyclePhase.FAILED, refused.note
    assert "stale leader" in refused.note and "token 1" in refused.note
    traded = await new.cycle("BTC-USD")
    assert traded.phase is CyclePhase.DONE

    sent = await orders(storage)
    assert [(sender, token) for _, sender, token in sent] == [("a", 1), ("b", 2)]
    assert refused.client_order_id not in {coid for coid, _, _ in sent}


async def test_without_a_lease_the_agent_is_unfenced(storage: Any) -> None:
    agent = make_agent(storage, "solo")
    agent.lease = None
    await start(agent)
    assert (await agent.cycle("BTC-USD")).phase is CyclePhase.DONE
