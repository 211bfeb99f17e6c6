"""``ffe decisions explain|replay`` and ``ffe costs`` on a stored decision, and the same through
the API (``/api/v1/decisions/{id}/trail|replay``, ``/api/v1/costs``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ffe_entrypoints.cli.main import build_app, run
from tests.api.conftest import api_settings, serving


def invoke(tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {
        "FFE_CONFIG_DIR": str(tmp_path),
        "FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}",
        "FFE_COSTS__BUDGETS": '{"daily_usd": 5, "providers": {"anthropic": {"monthly_usd": 20}}}',
    }
    result = CliRunner().invoke(build_app(), list(args), env=env)
    return result.exit_code, result.output


def test_explain_and_replay_a_stored_decision(tmp_path: Path) -> None:
    code, out = invoke(tmp_path, "decide", "BTC-USD", "--json")
    assert code == 0, out
    decision_id = json.loads(out)["id"]

    code, out = invoke(tmp_path, "decisions", "explain", decision_id)
    assert code == 0, out
    assert f"Decision {decision_id} on BTC-USD" in out
    assert "Input: 200 bars of BTC-USD" in out
    assert "- trend (model rules" in out and "Risk " in out
    assert "Execution gate: the decision never reached it." in out  # `ffe decide` only decides

    code, out = invoke(tmp_path, "decisions", "explain", decision_id, "--json")
    trail = json.loads(out)
    assert trail["decision"]["id"] == decision_id
    assert trail["record"]["snapshot_hash"] and len(trail["snapshot"]["bars"]) == 200

    code, out = invoke(tmp_path, "decisions", "replay", decision_id)
    assert code == 0, out
    assert "Identical to the recorded decision" in out
    code, out = invoke(tmp_path, "decisions", "replay", decision_id, "--json")
    assert code == 0 and json.loads(out)["identical"] is True


def test_unknown_decision_is_one_line_and_a_not_found_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FFE_STORAGE__URL", f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}")
    with pytest.raises(SystemExit) as exited:
        run(["--config-dir", str(tmp_path), "decisions", "replay", "nope"])
    assert exited.value.code == 2  # bad input: an id that names nothing
    assert capsys.readouterr().err == "error: unknown decision 'nope'\n"


def test_costs_show_spend_against_the_configured_budgets(tmp_path: Path) -> None:
    assert invoke(tmp_path, "decide", "BTC-USD")[0] == 0
    code, out = invoke(tmp_path, "costs", "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["total"]["daily_budget_usd"] == 5.0 and report["total"]["exhausted"] is False
    lines = {line["scope"]: line for line in report["providers"]}
    assert lines["anthropic"]["monthly_budget_usd"] == 20.0  # budgeted, not called
    assert lines["trend"]["calls_today"] == 1 and lines["trend"]["spent_today_usd"] == 0.0
    code, out = invoke(tmp_path, "costs")
    assert code == 0 and "total" in out and "$5.0000" in out


async def test_the_api_serves_trail_replay_costs_and_value(tmp_path: Path) -> None:
    settings = api_settings(tmp_path)
    async with serving(settings) as (client, _container):
        made = await client.post("/api/v1/decisions/", json={"instrument": "BTC-USD"})
        assert made.status_code == 201, made.text
        decision_id = made.json()["id"]

        trail = await client.get(f"/api/v1/decisions/{decision_id}/trail")
        assert trail.status_code == 200, trail.text
        assert trail.json()["record"]["decision_id"] == decision_id
        replay = await client.get(f"/api/v1/decisions/{decision_id}/replay")
        assert replay.status_code == 200 and replay.json()["identical"] is True

        missing = await client.get("/api/v1/decisions/nope/replay")
        assert missing.status_code == 404 and "unknown decision" in missing.json()["detail"]

        costs = await client.get("/api/v1/costs")
        assert costs.status_code == 200
        assert {p["scope"] for p in costs.json()["providers"]} >= {"trend", "breakout"}
        value = await client.get("/api/v1/costs/value", params={"window_days": 7})
        assert value.status_code == 200
        assert {v["window_days"] for v in value.json()} == {7}
        bad = await client.get("/api/v1/costs/value", params={"window_days": 0})
        assert bad.status_code == 400
