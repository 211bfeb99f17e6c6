"""Grafana provisioning: one Prometheus data source, a file provider pointing where compose
mounts the dashboards, and dashboards that load, have unique uids and use that data source."""

from __future__ import annotations

from deploy_support import (
    COMPOSE_FILES,
    GRAFANA_PROVISIONING,
    dashboard_exprs,
    dashboards,
    load_yaml,
)

REQUIRED_DASHBOARDS = {
    "ffe-trading-overview",
    "ffe-decisions-providers",
    "ffe-api-latency",
    "ffe-agent-health",
}


def _datasource() -> dict:
    sources = load_yaml(GRAFANA_PROVISIONING / "datasources" / "prometheus.yml")["datasources"]
    assert len(sources) == 1
    return sources[0]


def test_datasource_points_at_prometheus_service() -> None:
    source = _datasource()
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    assert source["isDefault"] is True


def test_dashboard_provider_path_is_where_compose_mounts_the_json() -> None:
    providers = load_yaml(GRAFANA_PROVISIONING / "dashboards" / "ffe.yml")["providers"]
    path = providers[0]["options"]["path"]
    for compose_file in COMPOSE_FILES:
        services = load_yaml(compose_file)["services"]
        grafana = services.get("grafana")
        assert grafana is not None, compose_file
        assert any(
            v.endswith(f":{path}:ro") and "grafana/dashboards" in v for v in grafana["volumes"]
        ), compose_file


def test_dashboards_load_with_unique_uids_and_titles() -> None:
    boards = dashboards()
    uids = [board["uid"] for _, board in boards]
    titles = [board["title"] for _, board in boards]
    assert len(uids) == len(set(uids)), uids
    assert len(titles) == len(set(titles)), titles
    assert set(uids) >= REQUIRED_DASHBOARDS
    for path, board in boards:
        assert board.get("id") is None, f"{path.name}: provisioned dashboards carry no id"
        assert len(board["uid"]) <= 40, path.name


def test_panels_have_unique_ids_and_use_the_provisioned_datasource() -> None:
    uid = _datasource()["uid"]
    for path, board in dashboards():
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)), path.name
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == uid, f"{path.name}: {panel['title']}"
            for target in panel.get("targets", []):
                assert target["datasource"]["uid"] == uid
        assert list(dashboard_exprs(board)), f"{path.name} has no queries"
