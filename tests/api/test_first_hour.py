"""The feedback loop shows within minutes of a fresh start: with the bundled replay, horizons in
bars pass at the replay's pace, so decisions are scored and weights move while one watches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ffe_entrypoints.api.schemas import ProviderView
from tests.api.conftest import api_settings, serving
from tests.waiting import wait_until


async def test_bundled_replay_scores_votes_and_moves_weights_quickly(tmp_path: Path) -> None:
    settings = api_settings(
        tmp_path,
        adapters={"bundled": {"seconds_per_bar": 0.5}},
        agent={"interval_seconds": 0.5},
    )
    assert settings.learning.horizons == ("1bar", "4bars", "24bars")  # the embedded default
    async with serving(settings) as (client, _):
        assert (await client.post("/api/bot/start")).status_code == 200

        async def scored() -> list[dict[str, Any]] | None:
            items = (await client.get("/api/v1/providers")).json()["items"]
            done = [p for p in items if p["scored"] > 0 and p["weight"] != 1.0]
            return done or None

        moved = await wait_until(scored, "a provider with scored votes and a moved weight")
        assert all(ProviderView.model_validate(p).hit_rate is not None for p in moved)
        await client.post("/api/bot/stop")
