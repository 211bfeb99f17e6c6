"""The compose files: valid YAML, every referenced file exists, the services, profiles,
networks, volumes and health-gated start order that the deployment relies on."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from deploy_support import COMPOSE_FILES, ROOT, load_yaml

SECRET_NAME = re.compile(r"API_KEY|PASSWORD|TOKEN|SECRET|DSN")
# One-shot helpers that exit after doing their job: no healthcheck expected.
ONE_SHOT = frozenset({"jaeger-volume-init"})


def _compose(path: Path) -> dict[str, Any]:
    data = load_yaml(path)
    assert isinstance(data, dict), f"{path.name}: top level must be a mapping"
    return data


def _services(path: Path) -> dict[str, dict[str, Any]]:
    return _compose(path)["services"]


def _bind_sources(service: dict[str, Any]) -> list[str]:
    sources = []
    for volume in service.get("volumes", []):
        source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
        if source.startswith((".", "/")):
            sources.append(source)
    return sources


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_compose_file_parses_with_services(path: Path) -> None:
    assert path.is_file()
    assert _compose(path)["services"]


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_compose_references_only_files_in_the_repo(path: Path) -> None:
    base = path.parent
    missing = []
    for name, service in _services(path).items():
        build = service.get("build")
        if build is not None:
            context = base / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = (
                "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            )
            if not context.is_dir():
                missing.append(f"{name}: build context {context}")
            if not (context / dockerfile).is_file():
                missing.append(f"{name}: dockerfile {context / dockerfile}")
        for source in _bind_sources(service):
            assert not source.startswith("/"), f"{name}: absolute host path {source}"
            if not (base / source).exists():
                missing.append(f"{name}: bind mount {source}")
        for env_file in service.get("env_file", []) or []:
            spec = env_file if isinstance(env_file, dict) else {"path": env_file}
            if spec.get("required", True) and not (base / spec["path"]).exists():
                missing.append(f"{name}: env_file {spec['path']}")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_long_running_service_has_a_healthcheck(path: Path) -> None:
    unchecked = [
        name
        for name, service in _services(path).items()
        if name not in ONE_SHOT and not (service.get("healthcheck") or {}).get("test")
    ]
    assert not unchecked


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_start_order_waits_for_health(path: Path) -> None:
    services = _services(path)
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions, not a list"
        for dependency, rule in depends.items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            expected = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert rule.get("condition") == expected, f"{name} -> {dependency}"


def test_production_stack_services_network_and_volumes() -> None:
    compose = _compose(ROOT / "docker-compose.yml")
    services = compose["services"]
    assert {"backend", "frontend", "prometheus", "grafana", "redis"} <= services.keys()
    assert services["redis"].get("profiles") == ["full"]
    for name in ("backend", "frontend", "prometheus", "grafana"):
        assert not services[name].get("profiles"), f"{name} must start without a profile"
        assert list(services[name]["networks"]) == ["ffe-network"]
    network = compose["networks"]["ffe-network"]
    assert network["ipam"]["config"][0]["subnet"] == "172.28.0.0/16"
    # the backend believes X-Forwarded-For from the dashboard's nginx only, at a fixed address
    nginx_ip = services["frontend"]["networks"]["ffe-network"]["ipv4_address"]
    assert json.loads(services["backend"]["environment"]["FFE_API__TRUSTED_PROXIES"]) == [nginx_ip]
    assert set(compose["volumes"]) == {
        "ffe-data",
        "ffe-logs",
        "prometheus-data",
        "grafana-data",
        "redis-data",
    }
    backend_volumes = services["backend"]["volumes"]
    assert "ffe-data:/app/data" in backend_volumes
    assert "ffe-logs:/app/logs" in backend_volumes
    assert services["frontend"]["depends_on"]["backend"]["condition"] == "service_healthy"
    assert services["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"


def test_backend_builds_from_deploy_dockerfile_and_frontend_from_its_own() -> None:
    services = _services(ROOT / "docker-compose.yml")
    assert services["backend"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["frontend"]["build"]["dockerfile"] == "frontend/Dockerfile"


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_prometheus_keeps_thirty_days(path: Path) -> None:
    prometheus = _services(path).get("prometheus")
    assert prometheus is not None
    assert "--storage.tsdb.retention.time=30d" in prometheus["command"]


def test_dev_stack_reloads_source_and_serves_vite() -> None:
    services = _services(ROOT / "docker-compose.dev.yml")
    backend, frontend = services["backend"], services["frontend"]
    assert backend["build"]["target"] == "development"
    assert "./src:/app/src:ro" in backend["volumes"]
    assert "./frontend:/app" in frontend["volumes"]
    assert any(port.endswith(":5173") for port in frontend["ports"])
    assert "npm run dev" in " ".join(frontend["command"])
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"]
    assert not backend.get("profiles")
    assert not frontend.get("profiles")


def test_monitoring_stack_runs_jaeger_with_otlp() -> None:
    compose = _compose(ROOT / "deploy" / "monitoring" / "docker-compose.yml")
    services = compose["services"]
    assert {"prometheus", "grafana", "jaeger"} <= services.keys()
    jaeger = services["jaeger"]
    assert jaeger["image"].startswith("jaegertracing/all-in-one:")
    assert jaeger["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"
    assert any(port.endswith(":4318") for port in jaeger["ports"])
    assert compose["networks"]["default"] == {"name": "ffe-network", "external": True}


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_secret_values_in_compose(path: Path) -> None:
    for name, service in _services(path).items():
        environment = service.get("environment") or {}
        assert isinstance(environment, dict), f"{name}: use the mapping form"
        for key, value in environment.items():
            if SECRET_NAME.search(key):
                assert value is None or str(value).startswith("${"), f"{name}.{key} is literal"


def test_env_example_has_placeholders_only() -> None:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    values = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    for key, value in values.items():
        if SECRET_NAME.search(key):
            assert value in ("", "change-me"), key


def test_env_example_covers_required_compose_variables() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+):\?", text))
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    defined = set(re.findall(r"^(\w+)=", example, re.MULTILINE))
    assert required
    assert required <= defined


def _docker_compose_v2() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
    return [docker, "compose"] if probe.returncode == 0 else None


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_docker_compose_config_accepts_file(path: Path) -> None:
    command = _docker_compose_v2()
    if command is None:
        pytest.skip("the docker compose v2 plugin is not installed; schema check not run")
    result = subprocess.run(
        [
            *command,
            "--env-file",
            str(ROOT / ".env.example"),
            "-f",
            str(path),
            "--profile",
            "full",
            "--profile",
            "monitoring",
            "config",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=path.parent,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
