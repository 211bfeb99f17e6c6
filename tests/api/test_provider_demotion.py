"""``GET /api/v1/providers`` flags a provider ``costs.demote`` holds at its weight floor, with
the reason; with the rule off nobody is flagged."""

from __future__ import annotations

from pathlib import Path

from ffe_core.domain.decisions import utcnow
from tests.api.conftest import api_settings, serving
from tests.unit.ensemble.test_demotion import seed

DEMOTE = {
    "FFE_COSTS__DEMOTE__ENABLED": "true",
    "FFE_COSTS__DEMOTE__MIN_SCORED": "2",
    "FFE_LEARNING__HORIZONS": '["1h"]',
}


async def test_a_demoted_provider_is_flagged_with_its_reason(tmp_path: Path) -> None:
    async with serving(api_settings(tmp_path, DEMOTE)) as (client, container):
        await seed(container.uow_factory(), llm_cost=50.0, trade_pnl="10", now=utcnow())
        body = (await client.get("/api/v1/providers")).json()
    rows = {p["provider"]: p for p in body["items"]}
    assert "does not cover its cost 50.00" in rows["llm"]["demoted"]
    assert {name for name, row in rows.items() if row["demoted"]} == {"llm"}


async def test_with_the_rule_off_nobody_is_flagged(tmp_path: Path) -> None:
    env = {**DEMOTE, "FFE_COSTS__DEMOTE__ENABLED": "false"}
    async with serving(api_settings(tmp_path, env)) as (client, container):
        await seed(container.uow_factory(), llm_cost=50.0, trade_pnl="10", now=utcnow())
        body = (await client.get("/api/v1/providers")).json()
    assert body["items"] and all(p["demoted"] is None for p in body["items"])
