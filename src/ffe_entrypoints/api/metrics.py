"""Litestar's Prometheus plugin, with the seed's metric names (ffe_api_requests_total,
ffe_api_latency_seconds) and the endpoint made public."""

from __future__ import annotations

from typing import Any, cast

from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.plugins.prometheus.middleware import PrometheusMiddleware
from prometheus_client import Histogram

from ffe_adapters.telemetry.prometheus import LATENCY_BUCKETS
from ffe_entrypoints.api.auth import PUBLIC_OPT

UNMETERED = ["/metrics", "/schema"]


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


class MetricsController(PrometheusController):
    path = "/metrics"
    opt = {PUBLIC_OPT: True}
    include_in_schema = False

    def __init__(self, owner: Any) -> None:
        super().__init__(owner)
