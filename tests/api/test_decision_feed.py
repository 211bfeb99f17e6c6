"""The decision list's pages are kept between writes: a decision this process stores shows on
the next read (API or agent), one stored by another process within ``max_age``."""

from __future__ import annotations

from pathlib import Path

from dependency_injector import providers

from ffe_entrypoints.container import Container
from ffe_entrypoints.services.decision_feed import DecisionFeed
from tests.api.conftest import api_settings, serving
from tests.api.test_decisions_stored_json import handmade, store
from tests.unit.agent.test_agent_lifecycle import AlwaysBuy

CLOCK = [0.0]


def configure(container: Container) -> None:
    container.decision_providers.override(
        providers.Object({"a": AlwaysBuy("a"), "b": AlwaysBuy("b")})
    )
    container.decision_feed.override(
        providers.Singleton(DecisionFeed, container.uow_factory, now=lambda: CLOCK[0])
    )


async def ids(client: object) -> list[str]:
    answer = await client.get("/api/v1/decisions")  # type: ignore[attr-defined]
    assert answer.status_code == 200, answer.text
    return [d["id"] for d in answer.json()["items"]]


async def test_decisions_made_here_show_at_once(tmp_path: Path) -> None:
    async with serving(api_settings(tmp_path), configure) as (client, container):
        assert await ids(client) == []
        made = (await client.post("/api/v1/decisions", json={"instrument": "BTC-USD"})).json()
        assert await ids(client) == [made["id"]]  # the clock did not move: invalidated
        agent = container.agent()
        agent.progress.run = await agent.acquire()
        cycle = await agent.cycle("ETH-USD")  # the agent stores its decision with its journal
        assert (await ids(client))[0] == cycle.decision_id


async def test_decisions_stored_by_another_process_show_within_max_age(tmp_path: Path) -> None:
    async with serving(api_settings(tmp_path), configure) as (client, container):
        assert await ids(client) == []
        elsewhere = handmade(0)
        await store(container, elsewhere)  # as another process would: no invalidation
        assert await ids(client) == []
        CLOCK[0] += 1.5
        assert await ids(client) == [elsewhere.id]
