"""Traces: request -> decision -> each provider's vote -> risk; agent cycle -> ... -> broker."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from dependency_injector import providers
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from ffe_adapters.telemetry.tracing import (
    TracedProvider,
    build_tracer_provider,
    otlp_traces_url,
)
from ffe_core.config import MonitoringSettings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_entrypoints.api.auth import API_KEY_HEADER
from ffe_entrypoints.container import Container, build_container
from tests.api.conftest import API_KEY, Configure, api_settings, serving

QUANT = {"trend", "mean_reversion", "breakout"}


def in_memory() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def one(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, (name, [s.name for s in spans])
    return found[0]


def children(spans: Sequence[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    parent_id = parent.context.span_id
    return [s for s in spans if s.parent is not None and s.parent.span_id == parent_id]


def with_tracer(tracer_provider: TracerProvider) -> Configure:
    def configure(container: Container) -> None:
        container.tracer_provider.override(providers.Object(tracer_provider))

    return configure


async def test_decision_request_trace_has_provider_and_risk_spans(tmp_path: Path) -> None:
    tracer_provider, exporter = in_memory()
    async with serving(api_settings(tmp_path), with_tracer(tracer_provider)) as (client, _):
        response = await client.post("/api/v1/decisions", json={"instrument": "BTC-USD"})
        assert response.status_code == 201
        decision_id = response.json()["id"]
    spans = exporter.get_finished_spans()

    server = next(s for s in spans if s.kind is SpanKind.SERVER)
    assert server.parent is None
    assert server.attributes is not None
    assert server.attributes.get("http.route", server.name).endswith("/api/v1/decisions")

    decision = one(spans, "decision")
    assert decision.parent is not None and decision.parent.span_id == server.context.span_id
    assert decision.attributes is not None
    assert decision.attributes["ffe.decision_id"] == decision_id
    assert decision.attributes["ffe.instrument"] == "BTC-USD"

    below = children(spans, decision)
    votes = [s for s in below if s.name == "provider.vote"]
    assert {s.attributes["ffe.provider"] for s in votes if s.attributes} == QUANT
    assert "risk" in [s.name for s in below]
    assert {s.context.trace_id for s in spans} == {server.context.trace_id}


class AlwaysBuy:
    """A provider with a firm opinion, so the agent has something to send to the broker."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def vote(self, context: DecisionContext) -> ProviderVote:
        return ProviderVote(provider=self.name, action=Action.BUY, confidence=0.9, reasoning="up")


class Broken:
    name = "broken"

    async def vote(self, context: DecisionContext) -> ProviderVote:
        raise RuntimeError("model unavailable")


async def test_agent_cycle_trace_reaches_the_broker(tmp_path: Path) -> None:
    tracer_provider, exporter = in_memory()
    fakes = {"buy_a": AlwaysBuy("buy_a"), "buy_b": AlwaysBuy("buy_b"), "broken": Broken()}

    def configure(container: Container) -> None:
        container.tracer_provider.override(providers.Object(tracer_provider))
        container.decision_providers.override(providers.Object(fakes))

    settings = api_settings(tmp_path, ensemble={"max_disagreement": 1.0})
    async with serving(settings, configure) as (_, container):
        agent = container.agent()
        agent.progress.run = await agent.acquire()
        cycle = await agent.cycle("BTC-USD")
    assert cycle.client_order_id, cycle  # the cycle did reach the broker
    spans = exporter.get_finished_spans()

    root = one(spans, "agent.cycle")
    assert root.parent is None
    decision = one(spans, "decision")
    submit = one(spans, "broker.submit_order")
    assert decision.parent is not None and decision.parent.span_id == root.context.span_id
    assert submit.parent is not None and submit.parent.span_id == root.context.span_id
    assert submit.attributes is not None
    assert submit.attributes["ffe.client_order_id"] == cycle.client_order_id

    below = {
        s.name + ":" + str((s.attributes or {}).get("ffe.provider", ""))
        for s in children(spans, decision)
    }
    assert below == {"provider.vote:buy_a", "provider.vote:buy_b", "provider.vote:broken", "risk:"}
    risk = one(spans, "risk")
    assert risk.attributes is not None and risk.attributes["ffe.risk.approved"] is True
    broken = next(s for s in spans if (s.attributes or {}).get("ffe.provider") == "broken")
    assert broken.status.status_code is StatusCode.ERROR
    assert {s.context.trace_id for s in spans} == {root.context.trace_id}


def test_tracing_is_off_without_monitoring_and_wraps_nothing(tmp_path: Path) -> None:
    container = build_container(api_settings(tmp_path))
    assert container.tracer_provider() is None
    assert not any(isinstance(p, TracedProvider) for p in container.ensemble().providers.values())
    assert "decide" not in vars(container.decision_service())


def test_provider_with_otlp_endpoint_exports_over_http() -> None:
    assert build_tracer_provider(MonitoringSettings()) is None
    plain = build_tracer_provider(MonitoringSettings(enabled=True, service_name="ffe-test"))
    assert plain is not None
    assert plain.resource.attributes["service.name"] == "ffe-test"
    exporting = build_tracer_provider(MonitoringSettings(otlp_endpoint="http://127.0.0.1:4318"))
    assert exporting is not None
    processors = exporting._active_span_processor._span_processors
    exporter = processors[0].span_exporter  # type: ignore[attr-defined]
    assert type(exporter).__name__ == "OTLPSpanExporter"
    assert exporter._endpoint == "http://127.0.0.1:4318/v1/traces"
    exporting.shutdown()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://otel:4318", "http://otel:4318/v1/traces"),
        ("http://otel:4318/", "http://otel:4318/v1/traces"),
        ("https://collector.example/custom/traces", "https://collector.example/custom/traces"),
    ],
)
def test_otlp_url(given: str, expected: str) -> None:
    assert otlp_traces_url(given) == expected


async def test_api_key_never_reaches_traces_or_metrics(tmp_path: Path) -> None:
    tracer_provider, exporter = in_memory()
    settings = api_settings(tmp_path, {"FINANCE_FEEDBACK_API_KEY": API_KEY})
    async with serving(settings, with_tracer(tracer_provider)) as (client, _):
        headers = {API_KEY_HEADER: API_KEY}
        assert (
            await client.post("/api/v1/decisions", json={"instrument": "ETH-USD"}, headers=headers)
        ).status_code == 201
        assert (
            await client.get("/api/v1/status", headers={API_KEY_HEADER: "wrong"})
        ).status_code == 401
        metrics = (await client.get("/metrics")).text
    spans = exporter.get_finished_spans()
    assert len(spans) >= 5
    recorded = repr([(s.name, dict(s.attributes or {}), s.events) for s in spans])
    assert API_KEY not in recorded
    assert "wrong" not in recorded
    assert API_KEY not in metrics
