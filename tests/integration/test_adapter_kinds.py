"""The kinds added to the registry behave as their hooks document: leases, metrics exporters,
tracers and compute backends, each built by its registered factory from an AdapterContext."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.registry import Registry, load_registry
from ffe_core.config import CoreView, MonitoringSettings
from ffe_core.domain.errors import ConfigError
from ffe_core.ports.compute import ComputeBackend
from ffe_core.ports.metrics import Metrics, NullMetrics
from ffe_core.ports.storage import StorageBackend
from tests.conftest import open_sql_storage


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(entry_points=False)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_hook_ffe_leases(registry: Registry, kind: str, tmp_path: Path) -> None:
    """``storage`` leases PostgreSQL (several processes may share it) and grants one holder at a
    time (rivalry between processes: tests/e2e/test_multi_instance.py); SQLite is one process's, so no lease; ``none`` never leases."""
    async with open_sql_storage(kind, tmp_path) as storage:
        assert isinstance(storage, StorageBackend)
        ctx = AdapterContext(name="storage", storage=storage, core=CoreView(lease_ttl_seconds=5))
        lease = registry.factory("leases", "storage")(ctx)
        assert registry.factory("leases", "none")(ctx) is None
        if kind == "sqlite":
            assert lease is None
            return
        grant = await lease.acquire()
        assert grant is not None and await lease.is_current(grant.token)
        assert grant.expires_at > 0
        await lease.release(grant.token)
        assert not await lease.is_current(grant.token)


def test_hook_ffe_metrics_exporters(registry: Registry) -> None:
    """``prometheus`` counts into the registry ``/metrics`` serves; ``none`` records nothing."""
    sample = {"action": "BUY"}
    before = REGISTRY.get_sample_value("ffe_decisions_total", sample) or 0.0
    metrics = registry.factory("metrics", "prometheus")(AdapterContext(name="prometheus"))
    assert isinstance(metrics, Metrics)
    metrics.decision_made("BUY", 0.2)
    assert REGISTRY.get_sample_value("ffe_decisions_total", sample) == before + 1
    assert isinstance(registry.factory("metrics", "none")(AdapterContext(name="none")), NullMetrics)


def test_hook_ffe_tracers(registry: Registry) -> None:
    """``otlp`` gives a tracer provider when monitoring is on (None when off: nothing wrapped)."""
    build = registry.factory("tracers", "otlp")
    assert build(AdapterContext(name="otlp")) is None
    on = CoreView(monitoring=MonitoringSettings(enabled=True, service_name="ffe-kinds"))
    provider = build(AdapterContext(name="otlp", core=on))
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("test").start_as_current_span("decision"):
        pass
    [span] = exporter.get_finished_spans()
    assert span.name == "decision"
    assert span.resource.attributes["service.name"] == "ffe-kinds"


def test_hook_ffe_compute_backends(registry: Registry) -> None:
    """``local`` lends no executor (the search's own pool); ``dask`` validates its options."""
    local = registry.factory("compute", "local")(AdapterContext(name="local"))
    assert isinstance(local, ComputeBackend)
    with local.executor() as executor:
        assert executor is None
    dask = registry.factory("compute", "dask")(
        AdapterContext(name="dask", options={"address": "tcp://127.0.0.1:8786", "workers": 2})
    )
    assert isinstance(dask, ComputeBackend)
    with pytest.raises(ConfigError, match=r"adapters\.dask\.workers"):
        registry.factory("compute", "dask")(AdapterContext(name="dask", options={"workers": 0}))
