"""One agent, one run, whatever the callers do: concurrent starts share one run (or are refused),
a stop leaves no run `running`, no lease keeper outlives its run, and the kill switch is read from
storage (a reset made by another process counts)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from sqlalchemy import text

from ffe_core.domain.agent import AgentRun, AgentState
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.domain.errors import ConflictError
from ffe_core.ports.control import AgentStatus
from ffe_core.ports.lease import LocalLeaderLease
from ffe_core.services.agent import TradingAgent
from ffe_core.services.kill_switch import RISK_STATE_KEY, SharedRiskState
from ffe_core.services.risk import RiskManager
from ffe_entrypoints.container import Container, build_container
from ffe_entrypoints.lifecycle import shutdown, startup
from ffe_entrypoints.settings import load_settings


class Holds:
    name = "holds"

    async def vote(self, context: DecisionContext) -> ProviderVote:
        return ProviderVote(provider=self.name, action=Action.HOLD, confidence=0.5, reasoning="t")


def make(tmp_path: Path) -> Container:
    settings = load_settings(
        tmp_path,
        environ={
            "FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}",
            "FFE_AGENT__INSTRUMENTS": '["BTC-USD"]',
            "FFE_AGENT__INTERVAL_SECONDS": "0.05",
        },
    )
    container = build_container(settings)
    container.decision_providers.override(providers.Object({"holds": Holds()}))
    return container


@pytest.fixture
async def container(tmp_path: Path) -> AsyncIterator[Container]:
    c = make(tmp_path)
    await startup(c)
    yield c
    await shutdown(c)


async def wait_until(check: Any, seconds: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def run_states(c: Container) -> list[str]:
    async with c.storage().engine.connect() as conn:
        rows = await conn.execute(text("SELECT state FROM agent_runs ORDER BY started_at"))
        return [r[0] for r in rows]


async def start(control: Any) -> AgentStatus | ConflictError:
    try:
        status: AgentStatus = await control.start_agent("test")
        return status
    except ConflictError as exc:
        return exc


async def test_concurrent_starts_share_one_run_and_a_stop_closes_it(container: Container) -> None:
    control = container.control()
    outcomes = await asyncio.gather(*(start(control) for _ in range(20)))

    started = [o for o in outcomes if isinstance(o, AgentStatus)]
    assert started, outcomes
    run = control.agent.progress.run
    assert run is not None and {s.run_id for s in started} == {run.id}
    assert all("already" in str(o) for o in outcomes if isinstance(o, ConflictError))
    assert await run_states(container) == ["running"]

    await wait_until(lambda: _cycles_at_least(control, 2))
    await control.stop_agent("test")
    assert await run_states(container) == ["stopped"]

    again = await control.start_agent("test")
    assert again.run_id != started[0].run_id
    await wait_until(lambda: _cycles_at_least(control, 3))
    assert (await control.agent_status()).state is AgentState.RUNNING
    await control.stop_agent("test")
    assert await run_states(container) == ["stopped", "stopped"]


async def _cycles_at_least(control: Any, n: int) -> bool:
    status = await control.agent_status()
    assert status.state is not AgentState.STOPPED, f"the agent stopped itself: {status}"
    return bool(status.cycles >= n)


async def test_a_stop_during_a_start_leaves_nothing_running(container: Container) -> None:
    control = container.control()
    starting = asyncio.create_task(control.start_agent("test"))
    await asyncio.sleep(0)  # the start is under way
    stopped = await control.stop_agent("test")
    await starting
    assert stopped.state is AgentState.STOPPED
    assert not control.running
    assert await run_states(container) == ["stopped"]


async def test_an_agent_refuses_a_second_acquire_until_its_run_finishes(
    container: Container,
) -> None:
    agent: TradingAgent = container.agent()
    outcomes: tuple[AgentRun | BaseException, ...] = await asyncio.gather(
        agent.acquire(), agent.acquire(), return_exceptions=True
    )
    first, second = outcomes
    assert isinstance(first, AgentRun)
    assert isinstance(second, ConflictError) and "already starting" in str(second)
    with pytest.raises(ConflictError, match=f"already running \\(run {first.id}\\)"):
        await agent.acquire()
    await agent.lifecycle.finish(first, "test over")
    assert isinstance(await agent.acquire(), AgentRun)


async def test_runs_left_running_are_all_closed_by_the_next_run(container: Container) -> None:
    now = container.clock().now()
    async with container.uow_factory()() as uow:
        for _ in range(3):  # e.g. the orphans of the old start race
            await uow.agent.add_run(AgentRun(holder="gone:1", started_at=now, heartbeat_at=now))
        await uow.commit()
    agent = container.agent()
    agent.lease = LocalLeaderLease("agent", 30)  # a lease holder takes over what was left
    run = await agent.acquire()
    await agent.lifecycle.finish(run, "test over")
    assert await run_states(container) == ["stopped"] * 4


async def test_one_lease_keeper_per_run_and_none_after_it(container: Container) -> None:
    agent = container.agent()
    board: dict[str, Any] = {}
    agent.lease = LocalLeaderLease("agent", 0.3, holder=agent.holder, board=board)
    control = container.control()
    await asyncio.gather(*(start(control) for _ in range(10)))
    assert len(_keepers()) == 1
    await control.stop_agent("test")
    assert _keepers() == []
    await control.start_agent("test")
    await wait_until(lambda: _cycles_at_least(control, 3))
    await asyncio.sleep(0.5)  # past the old token's renewals: nothing stops the new run
    assert (await control.agent_status()).state is AgentState.RUNNING
    await control.stop_agent("test")
    assert _keepers() == []


def _keepers() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("lease-") and not t.done()]


async def test_a_reset_stored_by_another_process_reaches_the_control_plane(
    container: Container,
) -> None:
    risk = container.risk_manager()
    control = container.control()
    risk.update_equity(Decimal("1000000"), container.clock().now())  # the drawdown is exceeded
    await control.start_agent("test")
    await wait_until(lambda: _stopped(control))
    assert (await control.agent_status()).kill_switch.tripped
    with pytest.raises(ConflictError, match="reset it first"):
        await control.start_agent("test")

    other = SharedRiskState(RiskManager(risk.settings), container.uow_factory(), RISK_STATE_KEY)
    await other.load()  # another process (the CLI) on the same storage
    assert await other.reset("cli:ops", container.clock().now()) is not None

    status = await control.agent_status()
    assert not status.kill_switch.tripped
    assert status.kill_switch.reset_by == "cli:ops"
    assert (await control.start_agent("test")).state is AgentState.RUNNING
    await control.stop_agent("test")


async def _stopped(control: Any) -> bool:
    return bool((await control.agent_status()).state is AgentState.STOPPED)


async def test_a_second_run_starts_its_progress_afresh_for_every_collaborator(
    container: Container,
) -> None:
    """The run's progress is one object the lifecycle, the cycle and the order desk share: a new
    run resets it in place, so its cycles count (and are journaled) from zero again."""
    agent = container.agent()
    first = await agent.run(cycles=2, interval=0)
    agent.progress.last_error = "left over from the first run"
    second = await agent.run(cycles=1, interval=0)
    assert agent.progress.cycles == 1 and agent.progress.last_error is None
    assert agent.progress.run is not None and agent.progress.run.id == second.id
    async with container.uow_factory()() as uow:
        cycles = await uow.agent.list_cycles()
    seqs = {run.id: sorted(c.seq for c in cycles if c.run_id == run.id) for run in (first, second)}
    assert seqs == {first.id: [0, 1], second.id: [0]}
