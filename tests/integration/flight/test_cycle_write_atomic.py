"""Through the container on SQLite: an agent cycle stores its decision, the decision's flight
record, the ledger rows of its free provider calls and the journal entry naming it in one
transaction, so a crash in the middle of that write leaves none of them; rows of calls that may
have cost money are written before anything else can fail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers

from ffe_core.domain.agent import CyclePhase
from ffe_core.domain.decisions import Action
from ffe_core.ports.storage import DecisionQuery
from ffe_entrypoints.container import Container
from ffe_entrypoints.lifecycle import shutdown, startup
from tests.integration.flight.test_agent_budget_and_flight import make
from tests.unit.ensemble.test_budgets import Free, Priced


class Crash(Exception):
    """The process dying mid-transaction (not an FfeError: nothing catches it)."""


class CrashingFlight:
    """A flight repository whose ``add`` dies: the decision's transaction is under way."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def add(self, *args: Any) -> None:
        raise Crash("killed while writing the flight record")


class Spy:
    """Wraps the storage's units of work: records the repository writes each one committed,
    and, when ``armed``, crashes any that writes a flight record."""

    def __init__(self, factory: Any) -> None:
        self.factory = factory
        self.armed = False
        self.committed: list[set[str]] = []
        self.open = 0  # units of work open now

    def __call__(self) -> Any:
        spy, inner = self, self.factory()

        class Unit:
            async def __aenter__(self) -> Any:
                spy.open += 1
                uow = await inner.__aenter__()
                self.writes: set[str] = set()
                for repo, method in (
                    ("decisions", "add"),
                    ("flight", "add"),
                    ("provider_calls", "add_all"),
                    ("agent", "update_cycle"),
                ):
                    self._watch(uow, repo, method)
                if spy.armed:
                    uow.flight = CrashingFlight(uow.flight)
                original = uow.commit

                async def commit() -> None:
                    await original()
                    if self.writes:
                        spy.committed.append(self.writes)

                uow.commit = commit
                return uow

            def _watch(self, uow: Any, repo: str, method: str) -> None:
                target = getattr(uow, repo)
                call = getattr(target, method)

                async def watched(*args: Any, **kwargs: Any) -> Any:
                    self.writes.add(f"{repo}.{method}")
                    return await call(*args, **kwargs)

                setattr(target, method, watched)

            async def __aexit__(self, *exc: Any) -> None:
                spy.open -= 1
                await inner.__aexit__(*exc)

        return Unit()


@pytest.fixture
async def agent(tmp_path: Path) -> AsyncIterator[tuple[Container, Spy, Priced]]:
    c = make(tmp_path)
    llm = Priced("llm", cost=0.1)
    c.decision_providers.override(
        providers.Object({"trend": Free("trend", Action.BUY, 0.7), "hold": Free("hold")})
    )
    spy = Spy(c.storage().uow_factory)
    c.uow_factory.override(providers.Object(spy))
    await startup(c)
    yield c, spy, llm
    await shutdown(c)


async def stored(c: Container) -> tuple[list[Any], list[Any], list[Any]]:
    async with c.storage().uow_factory() as uow:
        cycles = await uow.agent.list_cycles()
        decisions = [await uow.decisions.get(x.decision_id) for x in cycles if x.decision_id]
        calls = await uow.provider_calls.list(limit=100)
    return cycles, decisions, calls


async def test_a_cycle_writes_its_decision_and_all_that_belongs_with_it_in_one_commit(
    agent: tuple[Container, Spy, Priced],
) -> None:
    c, spy, _ = agent
    await c.agent().run(cycles=1, interval=0)
    cycles, decisions, calls = await stored(c)
    assert [x.phase for x in cycles] == [CyclePhase.DONE] and decisions[0] is not None
    with_decision = [w for w in spy.committed if "decisions.add" in w]
    assert with_decision == [
        {"decisions.add", "flight.add", "provider_calls.add_all", "agent.update_cycle"}
    ]
    assert sorted(x.provider for x in calls) == ["hold", "trend"]
    async with c.storage().uow_factory() as uow:
        assert await uow.flight.get(decisions[0].id) is not None


async def test_a_crash_in_the_decisions_transaction_leaves_no_half_written_record(
    agent: tuple[Container, Spy, Priced],
) -> None:
    c, spy, _ = agent
    spy.armed = True
    with pytest.raises(Crash):
        await c.agent().run(cycles=1, interval=0)
    cycles, _, calls = await stored(c)
    # the cycle's journal entry is first stored with its decision (the agent observes once per
    # pass and deciding touches neither venue nor ledger): nothing of the cycle stands
    assert cycles == []
    assert calls == []
    async with c.storage().uow_factory() as uow:
        assert (await uow.decisions.list(DecisionQuery()))[0] == []
    async with c.storage().uow_factory() as uow:
        assert await uow.decisions.list_stored(DecisionQuery(limit=100)) == ([], None)


async def test_calls_that_may_have_cost_money_are_written_before_the_decision(
    agent: tuple[Container, Spy, Priced],
) -> None:
    c, spy, llm = agent
    c.decision_providers.override(providers.Object({"llm": llm, "hold": Free("hold")}))
    c.ensemble.reset()
    c.decision_service.reset()
    c.agent.reset()
    spy.armed = True
    with pytest.raises(Crash):
        await c.agent().run(cycles=1, interval=0)
    _, decisions, calls = await stored(c)
    assert decisions == []
    assert llm.calls == 1 and sorted(x.provider for x in calls) == ["hold", "llm"]
    assert sum(x.cost_usd for x in calls) == pytest.approx(0.1)


async def test_the_flight_record_is_built_before_the_cycles_transaction_opens(
    agent: tuple[Container, Spy, Priced],
) -> None:
    """The snapshot's JSON and hashes are the record's work: done with no transaction open,
    the write itself holds SQLite's write lock for less time."""
    c, spy, _ = agent
    recorder = c.flight_recorder()
    build, open_while_building = recorder.build, []

    def building(*args: Any) -> Any:
        open_while_building.append(spy.open)
        return build(*args)

    recorder.build = building  # type: ignore[method-assign]
    await c.agent().run(cycles=2, interval=0)
    assert open_while_building == [0, 0]
    _, decisions, _ = await stored(c)
    async with c.storage().uow_factory() as uow:
        assert all([await uow.flight.get(d.id) for d in decisions])
