"""A kill-switch reset racing the agent's save of its risk state is never lost, on the in-memory
store, SQLite and PostgreSQL.

The agent saves its risk state after every pass (its equity moves, so there is something to
write) by reading the stored state, merging and writing. A reset from another process (the CLI,
the API) that commits between that read and that write used to be overwritten by the agent's
older merge: the switch stayed tripped with no trace of the reset. Here the agent's write is held
just before it is sent, the reset is started, and the agent goes on once the reset has either
finished (the race as it was) or is waiting for the state's lock (as it is now).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ffe_adapters.storage.memory import InMemoryStore
from ffe_core.config import RiskSettings
from ffe_core.ports.storage import StateRepository, UnitOfWorkFactory
from ffe_core.services.kill_switch import RISK_STATE_KEY, SharedRiskState
from ffe_core.services.risk import RiskManager, RiskState
from tests.conftest import open_sql_storage
from tests.unit.risk.factories import HOUR, TS, D
from tests.waiting import wait_until

SETTINGS = RiskSettings(max_drawdown=0.2)
BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


class HeldPut:
    """The agent's state repository: its first write waits for ``go`` (``reached`` tells)."""

    def __init__(self, inner: StateRepository, reached: asyncio.Event, go: asyncio.Event) -> None:
        self.inner, self.reached, self.go = inner, reached, go

    async def get(self, key: str) -> dict[str, Any] | None:
        return await self.inner.get(key)

    async def lock(self, key: str) -> None:
        await self.inner.lock(key)

    async def put(self, key: str, value: dict[str, Any]) -> None:
        self.reached.set()
        await self.go.wait()
        await self.inner.put(key, value)


class TellsLock:
    """The resetting process's state repository: ``at_lock`` is set when it asks for the lock."""

    def __init__(self, inner: StateRepository, at_lock: asyncio.Event) -> None:
        self.inner, self.at_lock = inner, at_lock

    async def get(self, key: str) -> dict[str, Any] | None:
        return await self.inner.get(key)

    async def lock(self, key: str) -> None:
        self.at_lock.set()
        await self.inner.lock(key)

    async def put(self, key: str, value: dict[str, Any]) -> None:
        await self.inner.put(key, value)


class Tapped:
    """A unit-of-work factory whose units have their state repository wrapped."""

    def __init__(
        self, factory: UnitOfWorkFactory, wrap: Callable[[StateRepository], StateRepository]
    ) -> None:
        self.factory, self.wrap = factory, wrap

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[Any]:
        async with self.factory() as uow:
            uow.state = self.wrap(uow.state)
            yield uow


@contextlib.asynccontextmanager
async def store_of(kind: str, tmp_path: Path) -> AsyncIterator[UnitOfWorkFactory]:
    if kind == "memory":
        yield InMemoryStore()
        return
    async with open_sql_storage(kind, tmp_path) as storage:
        yield storage.uow_factory


async def stored_state(factory: UnitOfWorkFactory) -> RiskState:
    async with factory() as uow:
        saved = await uow.state.get(RISK_STATE_KEY)
    assert saved is not None
    return RiskState.model_validate(saved)


@pytest.mark.parametrize("kind", BACKENDS)
async def test_a_reset_racing_the_agents_save_is_kept(kind: str, tmp_path: Path) -> None:
    async with store_of(kind, tmp_path) as factory:
        agent = SharedRiskState(RiskManager(SETTINGS), factory)
        agent.update_equity(D("100000"), TS - HOUR)
        assert agent.update_equity(D("70000"), TS), "tripped"
        await agent.save()
        cli = SharedRiskState(RiskManager(SETTINGS), factory)
        await cli.load()
        agent.update_equity(D("71000"), TS + timedelta(minutes=5))  # a pass later: a write

        reached, go, at_lock = asyncio.Event(), asyncio.Event(), asyncio.Event()
        agent.uow_factory = Tapped(factory, lambda s: HeldPut(s, reached, go))
        cli.uow_factory = Tapped(factory, lambda s: TellsLock(s, at_lock))
        saving = asyncio.create_task(agent.save())
        await wait_until(reached.is_set, "the agent's write to be under way")
        resetting = asyncio.create_task(cli.reset("ops", TS + HOUR))
        await wait_until(lambda: resetting.done() or at_lock.is_set(), "the reset to go or wait")
        go.set()
        await saving
        record = await resetting

        assert record is not None and record.by == "ops"
        after = await stored_state(factory)
        assert not after.kill_switch.tripped, "the reset was overwritten by the agent's save"
        assert [r.by for r in after.resets] == ["ops"]
        agent.uow_factory = factory
        assert not (await agent.refresh()).tripped
        assert after.last_equity == D("71000"), "the agent's own figures are kept too"
