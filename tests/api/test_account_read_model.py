"""Status and positions come from the account read model, which the execution gate
invalidates when it records a fill: a trade shows on the next read, with no per-request replay."""

from __future__ import annotations

from pathlib import Path

from dependency_injector import providers

from ffe_core.services.account_view import AccountView
from ffe_entrypoints.container import Container
from tests.api.conftest import api_settings, serving
from tests.unit.agent.test_agent_lifecycle import AlwaysBuy


async def test_a_fill_shows_on_the_next_read_without_waiting_for_the_snapshot_to_age(
    tmp_path: Path,
) -> None:
    def configure(container: Container) -> None:
        container.decision_providers.override(
            providers.Object({"a": AlwaysBuy("a"), "b": AlwaysBuy("b")})
        )
        container.account_view.override(  # only an invalidation can refresh it
            providers.Singleton(
                AccountView,
                container.broker,
                container.uow_factory,
                container.settings.provided.trading.initial_cash,
                max_age=3600.0,
            )
        )

    async with serving(api_settings(tmp_path), configure) as (client, container):
        before = (await client.get("/api/v1/status")).json()
        assert before["equity_curve"][:-1] == []
        assert (await client.get("/api/v1/positions")).json()["items"] == []
        agent = container.agent()
        agent.progress.run = await agent.acquire()
        cycle = await agent.cycle("BTC-USD")
        assert cycle.client_order_id, str(cycle.model_dump())
        fills = (await client.get("/api/v1/fills")).json()["items"]
        after = (await client.get("/api/v1/status")).json()
        positions = (await client.get("/api/v1/positions")).json()["items"]
    assert fills
    assert [p["ts"] for p in after["equity_curve"][:-1]] == [f["ts"] for f in fills]
    assert [p["instrument"] for p in positions] == ["BTC-USD"]
