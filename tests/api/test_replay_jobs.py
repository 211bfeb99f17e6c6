"""Replay jobs (``kind: "replay"``): checked at submission, run in the bounded worker pool, and
answering with the keys of ``ffe replay --json``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from typer.testing import CliRunner

from ffe_entrypoints.cli.main import build_app
from tests.api.conftest import api_settings, serving
from tests.api.test_backtest_jobs import FINISHED, Client, submit, wait_for
from tests.e2e.test_cli_replay import write_bars

pytestmark = pytest.mark.asyncio(loop_scope="module")

OFFLINE = ["trend", "mean_reversion", "breakout"]
REPLAY = {"kind": "replay", "instrument": "BTC-USD", "bars": 400, "providers": OFFLINE}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    directory = tmp_path_factory.mktemp("replay_jobs")
    settings = api_settings(
        directory,
        backtests={"workers": 1},
        api={"rate_limit_per_minute": 1_000_000},
        live_gate={"report_path": str(directory / "gate" / "report.json")},
    )
    async with serving(settings) as (client, container):
        yield client
        await container.backtest_service().close()


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"instruments": ["BTC-USD", "NOPE-USD"]}, "instruments[1]"),
        ({"instruments": ["BTC-USD", "BTC-USD"]}, "instruments"),
        ({"providers": ["trend", "oracle"]}, "providers[1]"),
        ({"providers": []}, "providers"),
        ({"aggregation": "majority"}, "aggregation"),
        ({"start": "yesterday"}, "start"),
        ({"end": "2020-13-45"}, "end"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "end"),
        ({"weighting": "heavy"}, "weighting"),
        ({"approvals": "maybe"}, "approvals"),
        ({"max_cost": -1}, "max_cost"),
        ({"walk_forward": True, "bars": 100}, "bars: a walk-forward report needs at least 107"),
        ({"walk_forward": True, "providers": ["trend"]}, "walk_forward: the live gate"),
        ({"walk_forward": True, "aggregation": "unanimity"}, "walk_forward: the live gate"),
        ({"walk_forward": True, "kind": "walk_forward"}, "walk_forward: only a replay job"),
        ({"walk_forward": True, "kind": "backtest"}, "walk_forward: only a replay job"),
    ],
)
async def test_bad_replay_parameters_are_400_naming_each(
    client: Client, change: dict[str, Any], named: str
) -> None:
    before = len((await client.get("/api/v1/backtests")).json()["items"])
    response = await client.post("/api/v1/backtests", json=REPLAY | change)
    assert response.status_code == 400, response.text
    assert named in response.text, response.text
    assert len((await client.get("/api/v1/backtests")).json()["items"]) == before


def cli_replay_keys(tmp_path: Path) -> tuple[set[str], set[str]]:
    """The top-level and per-instrument attribution keys of ``ffe replay --json``."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.yaml").write_text(
        f'storage:\n  url: "sqlite+aiosqlite:///{tmp_path / "cli.db"}"\n'
    )
    data = write_bars(tmp_path / "btc.csv", 300)
    result = CliRunner().invoke(
        build_app(),
        [
            *("--config-dir", str(config), "replay", "--data", str(data)),
            *("--instrument", "BTC-USD", "--providers", ",".join(OFFLINE), "--json"),
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    return set(out), set(out["attribution"]["BTC-USD"])


async def test_a_replay_job_answers_with_the_cli_keys_and_attribution(
    client: Client, tmp_path: Path
) -> None:
    job = await submit(client, REPLAY)
    assert job["kind"] == "replay" and job["status"] in {"queued", "running"}
    job = await wait_for(client, job["id"], lambda j: j["status"] in FINISHED)
    assert job["status"] == "done", job["error"]
    result = job["result"]
    top, per_instrument = await asyncio.to_thread(cli_replay_keys, tmp_path)  # asyncio.run
    assert set(result) == top
    table = result["attribution"]["BTC-USD"]
    assert set(table) == per_instrument
    assert set(table["providers"]) == set(OFFLINE)
    assert result["decisions"]["total"] == 400
    assert result["providers"] == OFFLINE and result["contaminated"] is False
    curves = table["equity"]
    assert len(curves["ts"]) == len(curves["ensemble"]) == len(curves["buy_and_hold"]) > 10
    assert {len(c) for c in curves["providers"].values()} == {len(curves["ts"])}
    assert curves["ensemble"][-1] == pytest.approx(result["final_equity"], rel=1e-9)


async def test_a_running_replay_reports_progress_and_can_be_cancelled(client: Client) -> None:
    job = await submit(client, REPLAY | {"bars": 5000})
    await wait_for(client, job["id"], lambda j: j["status"] == "running" and j["progress"] > 0)
    response = await client.delete(f"/api/v1/backtests/{job['id']}")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    follow_up = await submit(client, REPLAY)
    done = await wait_for(client, follow_up["id"], lambda j: j["status"] in FINISHED)
    assert done["status"] == "done", done
    stopped = (await client.get(f"/api/v1/backtests/{job['id']}")).json()
    assert stopped["status"] == "cancelled" and stopped["result"] is None


async def test_a_replay_job_on_two_instruments_shares_one_account(client: Client) -> None:
    body = REPLAY | {"instruments": ["BTC-USD", "ETH-USD"], "bars": 300, "approvals": "skip"}
    job = await submit(client, body)
    job = await wait_for(client, job["id"], lambda j: j["status"] in FINISHED)
    assert job["status"] == "done", job["error"]
    result = job["result"]
    assert result["instruments"] == ["BTC-USD", "ETH-USD"]
    assert set(result["attribution"]) == {"BTC-USD", "ETH-USD"}
    assert result["decisions"]["total"] == 600
    assert result["approvals"] == "skip"


async def test_a_walk_forward_replay_job_stores_the_live_gates_report(client: Client) -> None:
    body = REPLAY | {"instruments": ["BTC-USD", "ETH-USD"], "bars": 300, "walk_forward": True}
    job = await submit(client, body)
    job = await wait_for(client, job["id"], lambda j: j["status"] in FINISHED)
    assert job["status"] == "done", job["error"]
    gate = job["result"]["live_gate"]
    assert gate["instruments"] == ["BTC-USD", "ETH-USD"] and gate["contaminated"] is False
    assert gate["candidates"] == ["ensemble", *OFFLINE]
    assert 0 <= gate["pbo"] <= 1 and isinstance(gate["passed"], bool)
    view = (await client.get("/api/v1/live-gate")).json()
    assert view["report"]["created_at"] == gate["created_at"]
    assert view["report"]["instruments"] == ["BTC-USD", "ETH-USD"]
    plain = await submit(client, REPLAY)
    plain = await wait_for(client, plain["id"], lambda j: j["status"] in FINISHED)
    assert "live_gate" not in plain["result"]  # only a walk-forward job stores a report
