"""Shared knowledge for the deploy tests: where the files are, which metrics the app exports,
and how to pull metric names out of PromQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILES = (
    ROOT / "docker-compose.yml",
    ROOT / "docker-compose.dev.yml",
    DEPLOY / "monitoring" / "docker-compose.yml",
)
DOCKERFILES = (DEPLOY / "Dockerfile", ROOT / "frontend" / "Dockerfile")
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
ALERT_RULES = DEPLOY / "prometheus" / "alerts.yml"
ALERT_RULE_TESTS = Path(__file__).with_name("alerts_test.yml")
GRAFANA_DASHBOARDS = DEPLOY / "grafana" / "dashboards"
GRAFANA_PROVISIONING = DEPLOY / "grafana" / "provisioning"
NGINX_CONF = DEPLOY / "nginx.conf"

# What ffe_adapters/telemetry/prometheus.py and the API middleware export. Kept by hand for now;
# test_deploy_metrics.py checks it against a live app's /metrics once the API exists.
EXPORTED_METRICS: dict[str, str] = {
    "ffe_decisions_total": "counter",
    "ffe_decision_latency_seconds": "histogram",
    "ffe_last_decision_timestamp_seconds": "gauge",
    "ffe_trades_total": "counter",
    "ffe_agent_uptime_seconds": "gauge",
    "ffe_agent_running": "gauge",
    "ffe_agent_cycle_duration_seconds": "histogram",
    "ffe_circuit_breaker_state": "gauge",
    "ffe_provider_calls_total": "counter",
    "ffe_provider_latency_seconds": "histogram",
    "ffe_provider_cost_usd_total": "counter",
    "ffe_portfolio_equity": "gauge",
    "ffe_drawdown_ratio": "gauge",
    "ffe_parity_score": "gauge",
    "ffe_api_requests_total": "counter",
    "ffe_api_latency_seconds": "histogram",
}
# Series Prometheus writes itself for every scrape target.
PROMETHEUS_SYNTHETIC = frozenset(
    {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added"}
)


def series_names(metrics: dict[str, str]) -> set[str]:
    """Every series name a query may use for these metrics (histograms add three suffixes)."""
    names: set[str] = set()
    for name, kind in metrics.items():
        names.add(name)
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def dashboards() -> list[tuple[Path, dict[str, Any]]]:
    return [
        (p, json.loads(p.read_text(encoding="utf-8")))
        for p in sorted(GRAFANA_DASHBOARDS.glob("*.json"))
    ]


def dashboard_exprs(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(panel title, PromQL) for every target, including panels nested in rows."""
    for panel in board.get("panels", []):
        for inner in [panel, *panel.get("panels", [])]:
            for target in inner.get("targets", []):
                if target.get("expr"):
                    yield inner.get("title", "?"), target["expr"]


def alert_exprs() -> Iterator[tuple[str, str]]:
    for group in load_yaml(ALERT_RULES)["groups"]:
        for rule in group["rules"]:
            yield rule.get("alert") or rule.get("record"), rule["expr"]


_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_OFFSET = re.compile(r"\boffset\s+-?\w+")
_GRAFANA_VARS = re.compile(r"\$\{?\w+\}?")
_IDENT = re.compile(r"(?<![\w.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")
_KEYWORDS = frozenset({"and", "or", "unless", "bool", "inf", "nan", "offset", "atan2"})


def promql_metric_names(expr: str) -> set[str]:
    """Names of the series a PromQL expression selects (functions, labels, keywords excluded)."""
    text = _STRINGS.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = _RANGES.sub("", text)
    text = _GROUPING.sub("", text)
    text = _OFFSET.sub("", text)
    text = _GRAFANA_VARS.sub("", text)
    return {
        m.group(1)
        for m in _IDENT.finditer(text)
        if not m.group(2) and m.group(1).lower() not in _KEYWORDS
    }
