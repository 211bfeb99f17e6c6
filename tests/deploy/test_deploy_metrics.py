"""Every PromQL expression in the dashboards and alert rules names only metrics the app
exports: first against the hand-kept EXPORTED_METRICS, then against a live app's /metrics."""

from __future__ import annotations

from pathlib import Path

import pytest
from deploy_support import (
    EXPORTED_METRICS,
    PROMETHEUS_SYNTHETIC,
    alert_exprs,
    dashboard_exprs,
    dashboards,
    promql_metric_names,
    series_names,
)


def _all_queries() -> list[tuple[str, str]]:
    queries = [(f"alert {name}", expr) for name, expr in alert_exprs()]
    for path, board in dashboards():
        queries += [(f"{path.name}: {title}", expr) for title, expr in dashboard_exprs(board)]
    return queries


def _unknown_metrics(allowed: set[str]) -> list[str]:
    problems = []
    for where, expr in _all_queries():
        names = promql_metric_names(expr)
        assert names, f"{where}: no metric found in {expr!r}"
        problems += [f"{where}: {name}" for name in sorted(names - allowed)]
    return problems


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('up{job="ffe-backend"} == 0', {"up"}),
        (
            "histogram_quantile(0.95, sum by (instance, le) "
            "(rate(ffe_decision_latency_seconds_bucket[5m]))) > 10",
            {"ffe_decision_latency_seconds_bucket"},
        ),
        (
            "(time() - ffe_last_decision_timestamp_seconds > 900) and on (instance) "
            "ffe_agent_running == 1",
            {"ffe_last_decision_timestamp_seconds", "ffe_agent_running"},
        ),
        ("count(x_total == 2) or vector(0)", {"x_total"}),
        ('sum by (p) (rate(a_total{o=~"error|ok"}[$__rate_interval])) * 60 offset 1h', {"a_total"}),
        ("1e3 * foo:bar", {"foo:bar"}),
    ],
)
def test_promql_metric_names(expr: str, expected: set[str]) -> None:
    assert promql_metric_names(expr) == expected


def test_queries_use_only_exported_metrics() -> None:
    allowed = series_names(EXPORTED_METRICS) | PROMETHEUS_SYNTHETIC
    problems = _unknown_metrics(allowed)
    assert not problems, "not exported by the app:\n" + "\n".join(problems)


def test_every_exported_metric_is_shown_somewhere() -> None:
    used: set[str] = set()
    for _, expr in _all_queries():
        used |= promql_metric_names(expr)
    unused = [
        name for name, kind in EXPORTED_METRICS.items() if not (series_names({name: kind}) & used)
    ]
    assert not unused, f"exported but on no dashboard or alert: {unused}"


def _live_series_names(exposition: str) -> dict[str, str]:
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[str, str] = {}
    for family in text_string_to_metric_families(exposition):
        name = f"{family.name}_total" if family.type == "counter" else family.name
        found[name] = family.type
    return found


def test_queries_use_only_metrics_of_the_live_app(tmp_path: Path) -> None:
    try:
        from ffe_entrypoints.api.app import create_app
        from ffe_entrypoints.container import build_container
    except ImportError as exc:
        pytest.skip(
            f"ffe_entrypoints.api.app cannot be imported yet ({exc}); "
            "compared with EXPORTED_METRICS only"
        )
    from litestar.testing import TestClient

    from ffe_entrypoints.settings import load_settings

    settings = load_settings(
        config_dir=tmp_path,
        environ={"FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}"},
    )
    app = create_app(build_container(settings), start_agent=False)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200  # so the API middleware has samples
        response = client.get("/metrics")
    assert response.status_code == 200
    live = _live_series_names(response.text)

    stale = sorted(set(EXPORTED_METRICS) - set(live))
    assert not stale, f"EXPORTED_METRICS lists metrics the app does not export: {stale}"
    wrong_kind = {n: (k, live[n]) for n, k in EXPORTED_METRICS.items() if live.get(n) != k}
    assert not wrong_kind, f"metric types differ (listed, live): {wrong_kind}"
    problems = _unknown_metrics(series_names(live) | PROMETHEUS_SYNTHETIC)
    assert not problems, "not in the live /metrics:\n" + "\n".join(problems)
