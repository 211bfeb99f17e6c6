"""Registers the ``prometheus`` and ``none`` metrics exporters and the ``otlp`` tracer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_core.ports.metrics import Metrics, NullMetrics

if TYPE_CHECKING:  # each exporter's library is imported when it is built
    from opentelemetry.sdk.trace import TracerProvider


def build_prometheus(ctx: AdapterContext) -> Metrics:
    """ffe's counters in the process-wide Prometheus registry (the API's ``/metrics``)."""
    from ffe_adapters.telemetry.prometheus import PrometheusMetrics

    return PrometheusMetrics.default()


def build_null_metrics(ctx: AdapterContext) -> Metrics:
    return NullMetrics()


def build_otlp(ctx: AdapterContext) -> TracerProvider | None:
    """Spans exported over OTLP/HTTP to ``monitoring.otlp_endpoint``; None when tracing is off."""
    from ffe_adapters.telemetry.tracing import build_tracer_provider

    return build_tracer_provider(ctx.core.monitoring)


@hookimpl
def ffe_metrics_exporters() -> Mapping[str, Factory]:
    return {"prometheus": build_prometheus, "none": build_null_metrics}


@hookimpl
def ffe_tracers() -> Mapping[str, Factory]:
    return {"otlp": build_otlp}
