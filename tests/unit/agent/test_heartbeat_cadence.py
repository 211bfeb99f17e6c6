"""The run's heartbeat is stored when it grows old (a sixth of the lease) or the run's state
changes, not every pass; a run taken over is still found out at the next stored heartbeat."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ffe_adapters.storage.memory import InMemoryStore
from ffe_core.config import Settings
from ffe_core.domain.agent import AgentRun, AgentState
from ffe_core.domain.errors import ConflictError
from ffe_core.ports.clock import ManualClock
from ffe_core.ports.metrics import NullMetrics
from ffe_core.services.agent_lifecycle import AgentLifecycle, AgentProgress

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def stored_run(store: InMemoryStore) -> AgentRun | None:
    async with store() as uow:
        return await uow.agent.active_run()


async def test_heartbeat_is_stored_when_old_or_changed_and_a_takeover_is_found() -> None:
    store, clock = InMemoryStore(), ManualClock(T0)
    life = AgentLifecycle(
        Settings(), store, clock, NullMetrics(), AgentProgress(), holder="here:1", lease=None
    )
    run = await life.acquire()
    life.begin(run)
    commits = store.commits
    clock.advance(life.heartbeat_every / 2)
    await life.heartbeat()  # fresh: nobody may take the run over yet
    assert store.commits == commits
    life.pause()
    await life.heartbeat()  # the state changed: stored at once
    assert (await stored_run(store)) == life.progress.run
    assert life.progress.run is not None and life.progress.run.state is AgentState.PAUSED
    life.resume()
    clock.advance(life.heartbeat_every)
    await life.heartbeat()  # old: stored
    stored = await stored_run(store)
    assert stored is not None and stored.heartbeat_at == clock.now()
    async with store() as uow:  # another agent takes the run over
        await uow.agent.update_run(stored.model_copy(update={"state": AgentState.STOPPED}))
        await uow.agent.add_run(AgentRun(holder="there:2", started_at=T0, heartbeat_at=T0))
        await uow.commit()
    clock.advance(life.heartbeat_every)
    with pytest.raises(ConflictError):
        await life.heartbeat()
