"""The agent alerts against the gauges the app really exports: a scripted session
(agent_alerts_test.yml) and series recorded from a running agent, both through
`promtool test rules` — AgentDown silent while the agent runs and firing once it stopped, the
drawdown alert firing past its threshold."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from dependency_injector import providers
from deploy_support import ALERT_RULES
from prometheus_client import CollectorRegistry
from tests.unit.agent.test_agent_lifecycle import make

from ffe_adapters.telemetry.prometheus import PrometheusMetrics
from ffe_core.domain.agent import AgentCycle
from ffe_entrypoints.lifecycle import shutdown, startup

AGENT_ALERT_TESTS = Path(__file__).with_name("agent_alerts_test.yml")
LABELS = '{job="ffe-backend", instance="backend:8000"}'


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (apt-get install -y prometheus provides it)")
    return subprocess.run([promtool, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_scripted_session_alerts() -> None:
    result = _promtool("test", "rules", AGENT_ALERT_TESTS.name, cwd=AGENT_ALERT_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr


async def _record(tmp_path: Path, cycles: int) -> tuple[list[float], list[float]]:
    """ffe_agent_running and ffe_drawdown_ratio as a scrape sees them after each cycle of a
    real agent (SQLite, deterministic providers), then once after it stopped."""
    registry = CollectorRegistry()
    container = make(tmp_path)
    container.metrics.override(providers.Object(PrometheusMetrics(registry)))
    await startup(container)
    running: list[float] = []
    drawdown: list[float] = []

    def scrape(_: AgentCycle | None = None) -> None:
        running.append(registry.get_sample_value("ffe_agent_running") or 0.0)
        drawdown.append(registry.get_sample_value("ffe_drawdown_ratio") or 0.0)

    try:
        # The account's peak "was" 120k; paper equity is 100k: 16.7 % down (kill switch at 20 %).
        container.risk_manager().update_equity(Decimal("120000"), container.clock().now())
        await container.agent().run(cycles=cycles, interval=0, on_cycle=scrape)
        scrape()
    finally:
        await shutdown(container)
    return running, drawdown


def _values(samples: list[float]) -> str:
    return " ".join(f"{v:g}" for v in samples)


async def test_alerts_on_series_recorded_from_a_running_agent(tmp_path: Path) -> None:
    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed (apt-get install -y prometheus provides it)")
    cycles = 8
    running, drawdown = await _record(tmp_path, cycles)
    assert running == [1.0] * cycles + [0.0]
    assert 0.16 < drawdown[0] < 0.2
    stopped_for = 12  # minutes of scrapes after the stop: the gauge holds its last value
    running += [running[-1]] * stopped_for
    drawdown += [drawdown[-1]] * stopped_for
    tests = {
        "rule_files": [str(ALERT_RULES)],
        "evaluation_interval": "15s",
        "tests": [
            {
                "name": "recorded from the agent",
                "interval": "1m",  # one scrape per cycle
                "input_series": [
                    {"series": f"ffe_agent_running{LABELS}", "values": _values(running)},
                    {"series": f"ffe_drawdown_ratio{LABELS}", "values": _values(drawdown)},
                ],
                "alert_rule_test": [
                    {"eval_time": f"{cycles - 1}m", "alertname": "FfeAgentDown", "exp_alerts": []},
                    {
                        "eval_time": f"{cycles + 6}m",
                        "alertname": "FfeAgentDown",
                        "exp_alerts": [_expected("FfeAgentDown", "warning")],
                    },
                    {
                        "eval_time": "2m",
                        "alertname": "FfeDrawdownNearKillSwitch",
                        "exp_alerts": [
                            _expected("FfeDrawdownNearKillSwitch", "critical", drawdown[2])
                        ],
                    },
                ],
            }
        ],
    }
    path = tmp_path / "recorded_test.yml"
    path.write_text(yaml.safe_dump(tests, sort_keys=False), encoding="utf-8")
    result = _promtool("test", "rules", path.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def _expected(alert: str, severity: str, value: float = 0.0) -> dict[str, object]:
    """The alert as it fires on backend:8000 with ``value`` (the rule's own annotations)."""
    rule = next(
        r
        for group in yaml.safe_load(ALERT_RULES.read_text(encoding="utf-8"))["groups"]
        for r in group["rules"]
        if r.get("alert") == alert
    )
    annotations = dict(rule["annotations"])
    annotations["summary"] = (
        annotations["summary"]
        .replace("{{ $labels.instance }}", "backend:8000")
        .replace("{{ $value | humanizePercentage }}", f"{value * 100:.4g}%")
    )
    return {
        "exp_labels": {"severity": severity, "job": "ffe-backend", "instance": "backend:8000"},
        "exp_annotations": annotations,
    }
