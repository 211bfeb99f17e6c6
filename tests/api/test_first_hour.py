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


async def test_weight_history_is_one_point_per_scoring_moment(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from ffe_core.domain.decisions import Action, Decision, ProviderVote

    settings = api_settings(tmp_path)
    async with serving(settings) as (client, container):
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        learning = container.learning()
        votes = (
            ProviderVote(provider="trend", action=Action.BUY, confidence=0.8),
            ProviderVote(provider="mean_reversion", action=Action.SELL, confidence=0.6),
        )
        async with container.uow_factory()() as uow:
            for k in range(3):
                await uow.decisions.add(
                    Decision(
                        instrument="BTC-USD",
                        action=Action.BUY,
                        confidence=0.7,
                        reference_price=Decimal(100),
                        votes=votes,
                        created_at=t0 + timedelta(hours=k),
                    )
                )
            await uow.commit()

        async def rising(symbol: str, at: datetime) -> Decimal:
            return Decimal(101)

        await learning.score_due(t0 + timedelta(days=3), rising)
        body = (await client.get("/api/v1/providers")).json()
        history = body["weight_history"]
        assert len(history) == 3  # three decisions scored: three moments, both providers each
        assert all(set(h["weights"]) == {"trend", "mean_reversion"} for h in history)
        trend = [h["weights"]["trend"] for h in history]
        assert trend == sorted(trend) and trend[0] > 1.0  # a hitting provider gains each time
        rows = {p["provider"]: p for p in body["items"]}
        assert rows["trend"]["scored"] == 3 and rows["trend"]["provisional"] is True
