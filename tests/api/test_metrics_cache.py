"""The /metrics exposition is reused while fresh and re-rendered when ffe's metrics change."""

from __future__ import annotations

from ffe_adapters.telemetry.prometheus import PrometheusMetrics
from ffe_entrypoints.api.metrics import ExpositionCache


def test_an_unchanged_registry_is_served_from_the_cache() -> None:
    cache = ExpositionCache(ttl=3600)
    first = cache.body()
    assert cache.body() is first


def test_a_change_to_ffe_metrics_renders_afresh() -> None:
    cache = ExpositionCache(ttl=3600)
    metrics = PrometheusMetrics.default()
    metrics.agent_running(True)
    assert b"ffe_agent_running 1.0" in cache.body()
    metrics.agent_running(False)
    assert b"ffe_agent_running 0.0" in cache.body()


def test_an_expired_exposition_is_rendered_again() -> None:
    cache = ExpositionCache(ttl=0)
    first = cache.body()
    assert cache.body() is not first
