"""Litestar's Prometheus plugin, with the seed's metric names (ffe_api_requests_total,
ffe_api_latency_seconds), the endpoint made public and its exposition cached briefly."""

from __future__ import annotations

import os
import time
from typing import Any, cast

import anyio
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.plugins.prometheus.middleware import PrometheusMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Histogram, generate_latest

from ffe_adapters.telemetry.prometheus import CHANGES, LATENCY_BUCKETS
from ffe_core.ports.control import AgentMetricsSource
from ffe_entrypoints.api.auth import PUBLIC_OPT
from ffe_entrypoints.services.metrics_merge import merge_expositions

UNMETERED = ["/metrics", "/schema"]
EXPOSITION_TTL_SECONDS = 1.0
"""The longest a scrape may be served from the cache; ffe's own metrics (agent, circuits,
decisions, portfolio) invalidate it as soon as they change, so only the API's request counters
can lag, by at most this long."""


class FfePrometheusMiddleware(PrometheusMiddleware):
    """Names the request-duration histogram ``<prefix>_latency_seconds``, as the seed lists it."""

    def request_time(self, labels: dict[str, str | int | float]) -> Histogram:
        name = f"{self._config.prefix}_latency_seconds"
        metrics = PrometheusMiddleware._metrics
        if name not in metrics:
            metrics[name] = Histogram(
                name=name,
                documentation="API request latency, in seconds",
                labelnames=[*labels.keys()],
                buckets=LATENCY_BUCKETS,
            )
        return cast(Histogram, metrics[name])


def prometheus_config() -> PrometheusConfig:
    return PrometheusConfig(
        app_name="ffe",
        prefix="ffe_api",
        group_path=True,
        exclude=UNMETERED,
        middleware_class=FfePrometheusMiddleware,
    )


class ExpositionCache:
    """The last rendered exposition, reused while fresh: younger than ``ttl`` seconds and
    rendered after ffe's metrics last changed. Rendering the registry costs milliseconds."""

    def __init__(self, ttl: float = EXPOSITION_TTL_SECONDS) -> None:
        self.ttl = ttl
        self._body = b""
        self._rendered_at = float("-inf")
        self._changes = -1
        self._merging = anyio.Lock()

    def body(self) -> bytes:
        now = time.monotonic()
        if now - self._rendered_at >= self.ttl or self._changes != CHANGES.count:
            self._changes = CHANGES.count
            self._body = generate_latest(REGISTRY)
            self._rendered_at = now
        return self._body

    async def merged_body(self, agent: AgentMetricsSource) -> bytes:
        """This process's exposition merged with the agent process's, reused for ``ttl``
        seconds (the agent's changes are not seen here: they may lag by that long)."""
        async with self._merging:  # one render for concurrent scrapes
            if time.monotonic() - self._rendered_at < self.ttl:
                return self._body
            families = await agent.agent_metrics()
            self._body = await anyio.to_thread.run_sync(  # rendering takes milliseconds
                lambda: merge_expositions(REGISTRY.collect(), families)
            )
            self._rendered_at = time.monotonic()
            self._changes = -1  # body() renders afresh
            return self._body


class MetricsController(PrometheusController):
    path = "/metrics"
    opt = {PUBLIC_OPT: True}
    include_in_schema = False

    def __init__(self, owner: Any) -> None:
        super().__init__(owner)
        self._exposition = ExpositionCache()

    @get()
    async def get(
        self, agent_metrics: NamedDependency[AgentMetricsSource | None]
    ) -> Response[bytes]:
        if "prometheus_multiproc_dir" in os.environ or "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            response: Response[bytes] = await PrometheusController.get.fn(self)
            return response  # the plugin aggregates the worker processes
        headers = {"Content-Type": CONTENT_TYPE_LATEST}
        if agent_metrics is not None:  # the agent counts in its own process
            body = await self._exposition.merged_body(agent_metrics)
        else:
            body = self._exposition.body()
        return Response(body, status_code=200, headers=headers)
