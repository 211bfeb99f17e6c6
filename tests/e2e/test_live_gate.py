"""The gate before live: ``ffe replay --walk-forward`` stores a report; ``trading.mode: live``
starts only with a passing one no older than ``live_gate.max_age_days``."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ffe_core.backtest.live_gate import failures, stack_fingerprint
from ffe_core.config import Settings
from ffe_core.ports.live_gate import LiveGateRefused
from ffe_entrypoints.cli.main import build_app, run
from ffe_entrypoints.services.live_gate import check_live_start, live_gate_state, load_report
from ffe_entrypoints.settings import load_settings
from tests.e2e.test_cli_replay import write_bars

LOOSE = (
    "  max_pbo: 1\n  min_deflated_sharpe: 0\n  min_oos_return_pct: -100\n  max_drawdown_pct: 100\n"
)


def config(tmp_path: Path, *, live: bool, gate: str = "") -> Path:
    directory = tmp_path / ("live" if live else "paper")
    directory.mkdir(exist_ok=True)
    trading = "trading:\n  mode: live\n  confirm_live: true\n" if live else ""
    (directory / "config.yaml").write_text(
        f'storage:\n  url: "sqlite+aiosqlite:///{tmp_path / "ffe.db"}"\n'
        "providers:\n  enabled: [trend, mean_reversion, breakout]\n"
        f"{trading}"
        f"live_gate:\n  report_path: {tmp_path / 'gate' / 'report.json'}\n{gate}"
    )
    return directory


def settings_of(directory: Path) -> Settings:
    return load_settings(directory, environ={})


def walk_forward(tmp_path: Path, gate: str = "", *more: str) -> dict:
    data = write_bars(tmp_path / "btc.csv", 600)
    result = CliRunner().invoke(
        build_app(),
        [
            *("--config-dir", str(config(tmp_path, live=False, gate=gate)), "replay"),
            *("--data", str(data), "--instrument", "BTC-USD", "--walk-forward", "--json"),
            *more,
        ],
    )
    assert result.exit_code == 0, result.output
    out: dict = json.loads(result.stdout)
    return out


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--port", "1"],
        ["serve", "--agent", "--port", "1"],
        ["agent", "run", "--cycles", "1"],
    ],
)
def test_live_start_is_refused_without_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        run(["--config-dir", str(config(tmp_path, live=True)), *argv])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2
    assert len(err.splitlines()) == 1
    assert "live gate" in err and "no walk-forward report" in err


def test_walk_forward_stores_a_report_and_live_starts_with_it(tmp_path: Path) -> None:
    out = walk_forward(tmp_path, LOOSE)
    gate = out["live_gate"]
    assert set(gate) >= {"pbo", "deflated_sharpe", "oos_return_pct", "max_drawdown_pct"}
    assert 0 <= gate["pbo"] <= 1 and 0 <= gate["deflated_sharpe"] <= 1
    assert gate["candidates"] == ["ensemble", "trend", "mean_reversion", "breakout"]
    assert gate["passed"] is True and gate["failures"] == []
    live = settings_of(config(tmp_path, live=True, gate=LOOSE))
    report = load_report(live)
    assert report is not None and report["stack"] == stack_fingerprint(live)
    check_live_start(live)  # accepted: no error
    assert live_gate_state(live) == "passed"


def test_a_stale_report_is_refused(tmp_path: Path) -> None:
    walk_forward(tmp_path, LOOSE)
    live = settings_of(config(tmp_path, live=True, gate=LOOSE + "  max_age_days: 7\n"))
    later = datetime.now(UTC) + timedelta(days=8)
    with pytest.raises(LiveGateRefused, match=r"report is 8 days old \(live_gate.max_age_days 7\)"):
        check_live_start(live, now=later)
    check_live_start(live, now=datetime.now(UTC) + timedelta(days=6))


def test_failing_criteria_are_named(tmp_path: Path) -> None:
    walk_forward(tmp_path, LOOSE)
    strict = "  min_deflated_sharpe: 1\n  min_oos_return_pct: 1000\n  max_drawdown_pct: 0.001\n"
    live = settings_of(config(tmp_path, live=True, gate=strict))
    reasons = failures(load_report(live), live, datetime.now(UTC))
    named = " ".join(reasons)
    assert "out-of-sample return" in named and "(needs > 1000%)" in named
    assert "max drawdown" in named and "deflated Sharpe" in named
    with pytest.raises(LiveGateRefused, match="live trading refused by the live gate"):
        check_live_start(live)


def test_a_changed_stack_needs_a_new_report(tmp_path: Path) -> None:
    walk_forward(tmp_path, LOOSE)
    directory = config(tmp_path, live=True, gate=LOOSE)
    text = (directory / "config.yaml").read_text().replace(", breakout]", "]")
    (directory / "config.yaml").write_text(text)
    with pytest.raises(LiveGateRefused, match="another stack"):
        check_live_start(settings_of(directory))


def test_a_disabled_gate_starts_live_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    live = settings_of(config(tmp_path, live=True, gate="  enabled: false\n"))
    with caplog.at_level(logging.WARNING, logger="ffe.live_gate"):
        check_live_start(live)
    assert "live_gate.enabled: false" in caplog.text
    assert live_gate_state(live) == "disabled"


async def test_the_api_shows_the_gate_and_its_report(tmp_path: Path) -> None:
    from tests.api.conftest import serving

    await asyncio.to_thread(walk_forward, tmp_path, LOOSE)  # the CLI runs its own loop
    disabled = settings_of(config(tmp_path, live=True, gate=LOOSE + "  enabled: false\n"))
    async with serving(disabled) as (client, _):
        view = (await client.get("/api/v1/live-gate")).json()
    assert view["state"] == "disabled" and view["enabled"] is False
    assert view["report"]["candidates"][0] == "ensemble" and view["failures"] == []
    paper = settings_of(config(tmp_path, live=False, gate="  max_pbo: 0\n"))
    async with serving(paper) as (client, _):
        view = (await client.get("/api/v1/live-gate")).json()
    assert view["state"] == "off"
    assert view["failures"] and view["failures"][0].startswith("pbo")


@pytest.mark.parametrize(
    "body",
    [
        '{"created_at": "yesterday", "pbo": 0.1}',
        '{"created_at": "2026-01-01T00:00:00", "pbo": "low"}',
        "not json",
    ],
)
def test_an_unreadable_report_refuses_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str
) -> None:
    directory = config(tmp_path, live=True, gate=LOOSE)
    path = Path(settings_of(directory).live_gate.report_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    with pytest.raises(SystemExit) as exit_:
        run(["--config-dir", str(directory), "serve", "--port", "1"])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and len(err.splitlines()) == 1
    assert "live trading refused by the live gate" in err


def test_walk_forward_over_several_files_judges_the_account(tmp_path: Path) -> None:
    eth = write_bars(tmp_path / "eth.csv", 500, start="2026-01-04", seed=8)
    out = walk_forward(tmp_path, LOOSE, "--data", str(eth), "--instrument", "ETH-USD")
    gate = out["live_gate"]
    assert gate["instruments"] == ["BTC-USD", "ETH-USD"]
    assert gate["candidates"] == ["ensemble", "trend", "mean_reversion", "breakout"]
    # the account's figures, not the first instrument's: its drawdown is the replay's
    assert gate["max_drawdown_pct"] == pytest.approx(abs(out["Max. Drawdown [%]"]), abs=1e-6)
    # every bar of the account's timeline (600 hourly bars; ETH's start 3 days in) is decided
    assert gate["bars"] == 600
    assert gate["passed"] is True, gate["failures"]
    live = settings_of(config(tmp_path, live=True, gate=LOOSE))
    check_live_start(live)
    assert load_report(live) == {
        k: gate[k] for k in gate if k not in ("path", "passed", "failures")
    }


def test_walk_forward_of_another_stack_is_refused_before_the_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_bars(tmp_path / "btc.csv", 200)
    directory = config(tmp_path, live=False, gate=LOOSE)
    argv = ["--config-dir", str(directory), "replay", "--data", str(data), "--walk-forward"]
    with pytest.raises(SystemExit) as exit_:
        run([*argv, "--providers", "trend"])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and len(err.splitlines()) == 1
    assert "report is of the configured stack" in err
    assert load_report(settings_of(directory)) is None


@pytest.mark.parametrize(
    ("contaminated", "says"),
    [(True, "report is contaminated"), (None, "does not record look-ahead")],
)
def test_a_contaminated_report_never_passes(
    tmp_path: Path, contaminated: bool | None, says: str
) -> None:
    walk_forward(tmp_path, LOOSE)
    live = settings_of(config(tmp_path, live=True, gate=LOOSE))
    report = load_report(live)
    assert report is not None and report["contaminated"] is False
    assert failures(report, live, datetime.now(UTC)) == []
    if contaminated is None:
        del report["contaminated"]
    else:
        report["contaminated"] = contaminated
    assert [r for r in failures(report, live, datetime.now(UTC)) if says in r]
