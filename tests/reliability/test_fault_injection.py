"""Faults at every port, injected with fakes and wrappers on the ports (no patching).

The agent must keep running, or stop with a clear reason; never send an order twice, and never
send one on stale data.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers

from ffe_core.domain.agent import AgentState, CyclePhase
from ffe_core.domain.decisions import Action
from ffe_core.domain.errors import MarketDataError
from ffe_core.domain.orders import OrderStatus
from ffe_core.services.agent import TradingAgent
from ffe_core.services.market_data import MarketDataService
from ffe_entrypoints.container import Container, build_container
from ffe_entrypoints.lifecycle import shutdown, startup
from ffe_entrypoints.settings import load_settings
from tests.conftest import PG_PORT, drop_schema, postgres_settings, require_postgres
from tests.reliability.fakes import FakeSource, FaultyBroker, Voter, proxy_to
from tests.waiting import wait_until

BUYERS = {"a": Voter("a"), "b": Voter("b")}


def settings_for(tmp_path: Path, env: Mapping[str, str] | None = None, **overrides: Any) -> Any:
    base = {
        "FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}",
        "FFE_AGENT__INSTRUMENTS": '["BTC-USD"]',
        "FFE_PROVIDERS__TIMEOUT_SECONDS": "0.3",
        "FFE_ENSEMBLE__QUORUM": "2",
    }
    return load_settings(tmp_path, environ={**base, **(env or {})}, overrides=overrides)


async def agent_with(
    settings: Any, source: FakeSource, voters: Mapping[str, Any], wrap_broker: bool = True
) -> tuple[Container, TradingAgent, FaultyBroker | None]:
    container = build_container(settings)
    container.market_data.override(providers.Object(MarketDataService([source])))
    container.decision_providers.override(providers.Object(dict(voters)))
    faulty = None
    if wrap_broker:
        faulty = FaultyBroker(container.broker())
        container.broker.override(providers.Object(faulty))
    await startup(container)
    return container, container.agent(), faulty


@pytest.fixture
async def cleanup() -> AsyncIterator[list[Container]]:
    made: list[Container] = []
    yield made
    for c in made:
        await shutdown(c)


async def orders_of(container: Container) -> list[Any]:
    """Entry orders that reached the paper venue (its protective stop-loss/take-profit exits
    left out): the venue's own book, not ffe's ledger, which records an order before sending."""
    from ffe_adapters.brokers.paper.execution import is_bracket

    async with container.uow_factory()() as uow:
        return [o for o in await uow.venue_orders.list() if not is_bracket(o.client_order_id)]


# providers --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["5xx", "slow", "garbage"])
async def test_failing_providers_still_yield_a_decision_or_a_hold_with_reason(
    tmp_path: Path, cleanup: list[Container], mode: str
) -> None:
    voters = {"a": Voter("a"), "bad": Voter("bad", mode=mode)}
    c, agent, _ = await agent_with(settings_for(tmp_path), FakeSource(), voters)
    cleanup.append(c)
    await agent.run(cycles=1, interval=0)
    decision = agent.progress.last_decisions[0]
    bad = next(v for v in decision.votes if v.provider == "bad")
    assert bad.abstained and bad.abstain_reason
    assert decision.action is Action.HOLD and "bad abstained" in decision.reasoning
    assert await orders_of(c) == []


# market data -------------------------------------------------------------------------------


async def test_no_order_on_stale_data(tmp_path: Path, cleanup: list[Container]) -> None:
    settings = settings_for(tmp_path, {"FFE_MARKET_DATA__MAX_STALENESS_SECONDS": "7200"})
    c, agent, broker = await agent_with(settings, FakeSource(lag=timedelta(hours=6)), BUYERS)
    cleanup.append(c)
    await agent.run(cycles=2, interval=0)
    async with c.uow_factory()() as uow:
        journal = await uow.agent.list_cycles()
    assert {cy.phase for cy in journal} == {CyclePhase.FAILED}
    assert all("stale market data for BTC-USD" in cy.note for cy in journal)
    assert broker is not None and broker.submits == 0


async def test_fresh_data_with_gaps_still_trades(tmp_path: Path, cleanup: list[Container]) -> None:
    settings = settings_for(tmp_path, {"FFE_MARKET_DATA__MAX_STALENESS_SECONDS": "7200"})
    c, agent, broker = await agent_with(settings, FakeSource(gaps=True), BUYERS)
    cleanup.append(c)
    await agent.run(cycles=1, interval=0)
    assert broker is not None and broker.submits == 1
    report = c.market_data().reports[("BTC-USD", "1h")]
    assert report.gaps and "gap(s)" in report.issues()[0]


async def test_rate_limited_source_fails_the_cycle_and_the_agent_goes_on(
    tmp_path: Path, cleanup: list[Container]
) -> None:
    source = FakeSource()
    source.fail = MarketDataError("fake: HTTP 429 Too Many Requests (retry after 30s)")
    c, agent, broker = await agent_with(settings_for(tmp_path), source, BUYERS)
    cleanup.append(c)
    run = await agent.run(cycles=3, interval=0)
    assert agent.progress.cycles == 3 and run is not None
    assert "429" in (agent.progress.last_error or "")
    assert broker is not None and broker.submits == 0


# broker ----------------------------------------------------------------------------------


async def test_broker_reject_fails_the_cycle_with_its_reason(
    tmp_path: Path, cleanup: list[Container]
) -> None:
    c, agent, broker = await agent_with(settings_for(tmp_path), FakeSource(), BUYERS)
    cleanup.append(c)
    assert broker is not None
    broker.fault = "reject"
    await agent.run(cycles=2, interval=0)
    assert "venue rejected: market closed" in (agent.progress.last_error or "")
    assert agent.progress.cycles == 2


@pytest.mark.parametrize("fault", ["timeout_after_accept", "disconnect"])
async def test_broker_failure_stops_safely_and_a_restart_never_duplicates(
    tmp_path: Path, cleanup: list[Container], fault: str
) -> None:
    settings = settings_for(tmp_path)
    c, agent, broker = await agent_with(settings, FakeSource(), BUYERS)
    cleanup.append(c)
    assert broker is not None
    broker.fault = fault
    with pytest.raises((TimeoutError, ConnectionError)):
        await agent.run(cycles=1, interval=0)
    async with c.uow_factory()() as uow:
        runs = await uow.agent.list_cycles()
    assert agent.progress.last_error and type(fault) is str
    before = await orders_of(c)
    assert len(before) == (1 if fault == "timeout_after_accept" else 0)

    c2, agent2, _ = await agent_with(settings, FakeSource(), BUYERS)  # the restart
    cleanup.append(c2)
    recovered = await agent2.recover()
    assert runs and recovered, "the interrupted cycle is closed out on restart"
    note = recovered[0].note
    assert ("broker has order" in note) == (fault == "timeout_after_accept"), note
    await agent2.run(cycles=2, interval=0)
    after = await orders_of(c2)
    ids = [o.client_order_id for o in after]
    assert len(ids) == len(set(ids)) and set(o.client_order_id for o in before) <= set(ids)


async def test_a_stop_while_an_order_is_sent_lets_the_send_finish_and_records_it(
    tmp_path: Path, cleanup: list[Container]
) -> None:
    """A stop is prompt while the agent decides, never while it sends: an order under way is
    neither cut off nor left unrecorded (the stop waits for it)."""
    c, agent, broker = await agent_with(settings_for(tmp_path), FakeSource(), BUYERS)
    cleanup.append(c)
    assert broker is not None
    broker.fault = "held"
    control = c.control()
    await control.start_agent("test")
    await wait_until(broker.sending.is_set, "an order being sent")
    stopping = asyncio.create_task(control.stop_agent("test"))
    await wait_until(lambda: agent.lifecycle.stopping, "the stop to be asked")
    assert not stopping.done(), "the stop waits for the order under way"
    broker.go.set()
    status = await stopping
    assert status.state is AgentState.STOPPED
    (sent,) = await orders_of(c)
    async with c.uow_factory()() as uow:
        (recorded,) = await uow.orders.list()
        (cycle,) = await uow.agent.list_cycles()
    assert recorded.client_order_id == sent.client_order_id
    assert recorded.status not in (OrderStatus.NEW, OrderStatus.SUBMITTED), "the answer recorded"
    assert cycle.phase is CyclePhase.DONE and broker.submits == 1


async def test_partially_filled_order_blocks_a_second_order(
    tmp_path: Path, cleanup: list[Container]
) -> None:
    c, agent, broker = await agent_with(settings_for(tmp_path), FakeSource(), BUYERS)
    cleanup.append(c)
    assert broker is not None
    broker.fault = "partial"
    await agent.run(cycles=3, interval=0)
    assert broker.submits == 1
    async with c.uow_factory()() as uow:
        notes = [cy.note for cy in await uow.agent.list_cycles()]
    assert any("still working" in n for n in notes), notes


# cache and storage -------------------------------------------------------------------------


async def test_redis_away_is_not_an_error(tmp_path: Path, cleanup: list[Container]) -> None:
    settings = settings_for(
        tmp_path,
        {
            "FFE_MARKET_DATA__CACHE__BACKEND": "redis",
            "FFE_ADAPTERS__REDIS__URL": "redis://127.0.0.1:1/0",
        },
    )
    container = build_container(settings)
    cleanup.append(container)
    source = FakeSource()
    container.market_data.override(providers.Object(MarketDataService([source], container.cache())))
    container.decision_providers.override(providers.Object(dict(BUYERS)))
    await startup(container)
    await container.agent().run(cycles=2, interval=0)
    assert container.agent().progress.last_error is None
    assert source.calls >= 2  # every read went to the source
    assert len(await orders_of(container)) >= 1


@pytest.mark.postgres
async def test_postgres_going_away_stops_the_agent_and_it_recovers(tmp_path: Path) -> None:
    require_postgres()
    pg = postgres_settings()
    assert pg.schema_name
    try:
        async with proxy_to(PG_PORT) as proxy:
            url = pg.url.replace(f":{PG_PORT}/", f":{proxy.port}/")
            env = {"FFE_STORAGE__URL": url, "FFE_STORAGE__SCHEMA_NAME": pg.schema_name}
            settings = settings_for(tmp_path, env)
            c, agent, _ = await agent_with(settings, FakeSource(), BUYERS, wrap_broker=False)
            try:
                await agent.run(cycles=1, interval=0)
                await proxy.cut()
                with pytest.raises(Exception) as failure:
                    await agent.run(cycles=1, interval=0)
                assert (
                    "connect" in str(failure.value).lower()
                    or "closed" in str(failure.value).lower()
                ), failure.value
                health = await c.health_service().report()
                assert health["status"] == "down"
                await proxy.start()  # the database is back, on the same address
                await c.storage().engine.dispose()
                await agent.run(cycles=1, interval=0)
                assert (await c.health_service().report())["components"]["storage"][
                    "status"
                ] == "ok"
            finally:
                await shutdown(c)
    finally:
        await drop_schema(pg.schema_name)
