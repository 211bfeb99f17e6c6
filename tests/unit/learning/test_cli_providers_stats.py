"""``ffe providers stats``: the learned weights and per-provider figures, as a table and JSON."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from ffe_core.config import StorageSettings
from ffe_core.domain.performance import ProviderStats
from ffe_entrypoints.cli.main import build_app


def seed(url: str) -> None:
    from ffe_adapters.storage.sql.backend import SqlStorage

    async def main() -> None:
        storage = SqlStorage(StorageSettings(url=url))
        try:
            await storage.migrate()
            async with storage.uow_factory() as uow:
                await uow.provider_stats.save(
                    ProviderStats(
                        provider="trend",
                        weight=1.34,
                        votes=12,
                        scored=10,
                        hits=7,
                        brier_sum=1.9,
                        pnl=0.031,
                        last_reason="hit: BUY 0.70 on BTC-USD +1.20% at 1h; weight 1.26 → 1.34",
                    )
                )
                await uow.provider_stats.save(ProviderStats(provider="breakout", weight=0.8))
                await uow.commit()
        finally:
            await storage.close()

    asyncio.run(main())


def invoke(tmp_path: Path, *args: str, **extra: str) -> str:
    env = {
        "FFE_CONFIG_DIR": str(tmp_path),
        "FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}",
        **extra,
    }
    result = CliRunner().invoke(build_app(), ["providers", "stats", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_stats_json_lists_every_provider_with_derived_rates(tmp_path: Path) -> None:
    seed(f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}")
    data = json.loads(invoke(tmp_path, "--json"))
    rows = {r["provider"]: r for r in data["providers"]}
    assert set(rows) == {"trend", "breakout"}
    assert rows["trend"]["weight"] == 1.34 and rows["trend"]["hit_rate"] == 0.7
    assert abs(rows["trend"]["brier"] - 0.19) < 1e-12
    assert rows["breakout"]["hit_rate"] is None and rows["breakout"]["brier"] is None
    assert rows["trend"]["last_reason"].endswith("weight 1.26 → 1.34")
    # 10 scored votes: early figures, marked provisional; never scored is not provisional
    assert rows["trend"]["provisional"] is True and rows["breakout"]["provisional"] is False


def test_stats_table_shows_weights_and_reasons(tmp_path: Path) -> None:
    seed(f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}")
    out = invoke(tmp_path)
    assert "trend" in out and "1.34" in out and "70.0%" in out and "+3.10%" in out
    assert out.index("trend") < out.index("breakout")  # heaviest first
    assert " 10* " in out and "* provisional: fewer than 30 votes scored" in out


def test_stats_on_a_fresh_database_says_nothing_is_scored(tmp_path: Path) -> None:
    assert "No provider has been scored yet" in invoke(tmp_path)
    assert json.loads(invoke(tmp_path, "--json")) == {"providers": []}


def seed_demoted(url: str) -> None:
    """``llm`` cost 50 USD and its trades made 10: ``costs.demote`` holds it at the floor."""
    from ffe_adapters.storage.sql.backend import SqlStorage
    from ffe_core.domain.decisions import utcnow
    from tests.unit.ensemble.test_demotion import seed as seed_value

    async def main() -> None:
        storage = SqlStorage(StorageSettings(url=url))
        try:
            await storage.migrate()
            await seed_value(storage.uow_factory, llm_cost=50.0, trade_pnl="10", now=utcnow())
        finally:
            await storage.close()

    asyncio.run(main())


DEMOTE = {
    "FFE_COSTS__DEMOTE__ENABLED": "true",
    "FFE_COSTS__DEMOTE__MIN_SCORED": "2",
    "FFE_LEARNING__HORIZONS": '["1h"]',
}


def test_a_demoted_provider_is_flagged_in_json_and_the_table(tmp_path: Path) -> None:
    seed_demoted(f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}")
    rows = {r["provider"]: r for r in json.loads(invoke(tmp_path, "--json", **DEMOTE))["providers"]}
    assert "does not cover its cost 50.00" in rows["llm"]["demoted"]
    assert rows["trend"]["demoted"] is None
    out = invoke(tmp_path, **DEMOTE)
    assert "llm ↓" in out and "↓ llm demoted: trade P&L 10.00" in out
    off = json.loads(invoke(tmp_path, "--json"))["providers"]
    assert off and all(r["demoted"] is None for r in off)
