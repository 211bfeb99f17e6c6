"""Prometheus config and alert rules: promtool accepts them, the alert unit tests in
alerts_test.yml pass, and the scrape intervals are the agreed ones."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from deploy_support import ALERT_RULE_TESTS, ALERT_RULES, PROMETHEUS_CONFIG, load_yaml

REQUIRED_ALERTS = {
    "FfeBackendDown",
    "FfeAgentDown",
    "FfeCircuitBreakerOpen",
    "FfeDecisionLatencyHigh",
    "FfeDrawdownNearKillSwitch",
    "FfeNoRecentDecisions",
}


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (apt-get install -y prometheus provides it)")
    return subprocess.run([promtool, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_promtool_check_config() -> None:
    result = _promtool("check", "config", PROMETHEUS_CONFIG.name, cwd=PROMETHEUS_CONFIG.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_check_rules() -> None:
    result = _promtool("check", "rules", ALERT_RULES.name, cwd=ALERT_RULES.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_alerts_fire_when_they_should_and_only_then() -> None:
    result = _promtool("test", "rules", ALERT_RULE_TESTS.name, cwd=ALERT_RULE_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_required_alert_exists_and_is_unit_tested() -> None:
    alerts = {
        rule["alert"] for group in load_yaml(ALERT_RULES)["groups"] for rule in group["rules"]
    }
    assert alerts >= REQUIRED_ALERTS
    tested = {
        case["alertname"]
        for test in load_yaml(ALERT_RULE_TESTS)["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert alerts <= tested, f"alerts without a firing test: {sorted(alerts - tested)}"


def test_scrape_intervals_and_rule_files() -> None:
    config = load_yaml(PROMETHEUS_CONFIG)
    assert config["global"]["scrape_interval"] == "15s"
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    backend = jobs["ffe-backend"]
    assert backend["scrape_interval"] == "5s"
    assert backend.get("metrics_path", "/metrics") == "/metrics"
    assert backend["static_configs"][0]["targets"] == ["backend:8000"]
    for name, job in jobs.items():
        if name != "ffe-backend":
            assert "scrape_interval" not in job, f"{name} should use the 15 s default"
    assert config["rule_files"] == [ALERT_RULES.name]
