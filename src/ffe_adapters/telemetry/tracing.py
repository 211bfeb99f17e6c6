"""OpenTelemetry tracing: the tracer provider, and wrappers that put spans on the decision path.

The core never imports OpenTelemetry. The container applies these wrappers around the services it
builds, so a trace reads: HTTP request (or agent cycle) -> ``decision`` -> one ``provider.vote``
per provider -> ``risk``, and ``broker.submit_order`` when the agent trades.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from ffe_core.config import MonitoringSettings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Decision, ProviderVote
from ffe_core.domain.orders import Order
from ffe_core.ports.brokers import Broker
from ffe_core.ports.providers import DecisionProvider, Signal, SyncDecisionProvider

if TYPE_CHECKING:  # the SDK is imported only when tracing is on (build_tracer_provider)
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer

TRACER_NAME = "ffe"
OTLP_TRACES_PATH = "/v1/traces"
P = ParamSpec("P")
R = TypeVar("R")


def otlp_traces_url(endpoint: str) -> str:
    """``http://collector:4318`` -> ``http://collector:4318/v1/traces``; a full path is kept."""
    path = urlsplit(endpoint).path
    return endpoint if path not in ("", "/") else endpoint.rstrip("/") + OTLP_TRACES_PATH


def build_tracer_provider(monitoring: MonitoringSettings) -> TracerProvider | None:
    """A provider when monitoring is on or an OTLP endpoint is set (exporting over OTLP/HTTP
    only when one is); ``None`` when tracing is off, so nothing is wrapped."""
    if not (monitoring.enabled or monitoring.otlp_endpoint):
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": monitoring.service_name}))
    if monitoring.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=otlp_traces_url(monitoring.otlp_endpoint))
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def traced(
    tracer: Tracer,
    name: str,
    fn: Callable[P, Awaitable[R]],
    describe: Callable[[Span, R], None] | None = None,
    attributes: Mapping[str, str] | None = None,
) -> Callable[P, Awaitable[R]]:
    """``fn`` run inside a span named ``name``; ``describe`` adds attributes from the result.

    Exceptions are recorded on the span (status ERROR) and re-raised unchanged.
    """

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with tracer.start_as_current_span(name, attributes=dict(attributes or {})) as span:
            result = await fn(*args, **kwargs)
            if describe is not None:
                describe(span, result)
            return result

    return wrapper


def _describe_vote(span: Span, vote: ProviderVote) -> None:
    span.set_attribute("ffe.action", str(vote.action))
    span.set_attribute("ffe.confidence", vote.confidence)
    span.set_attribute("ffe.abstained", vote.abstained)


def _describe_decision(span: Span, decision: Decision) -> None:
    span.set_attribute("ffe.decision_id", decision.id)
    span.set_attribute("ffe.instrument", decision.instrument)
    span.set_attribute("ffe.action", str(decision.action))
    span.set_attribute("ffe.confidence", decision.confidence)


def _describe_risk(span: Span, decision: Decision) -> None:
    if decision.risk is not None:
        span.set_attribute("ffe.risk.approved", decision.risk.approved)
        span.set_attribute("ffe.risk.reason", decision.risk.reason[:200])


def _describe_cycle(span: Span, cycle: Any) -> None:
    span.set_attribute("ffe.instrument", str(cycle.instrument))
    span.set_attribute("ffe.phase", str(cycle.phase))


def _describe_order(span: Span, order: Order) -> None:
    span.set_attribute("ffe.client_order_id", order.client_order_id)
    span.set_attribute("ffe.instrument", order.instrument)
    span.set_attribute("ffe.side", str(order.side))
    span.set_attribute("ffe.quantity", str(order.quantity))
    span.set_attribute("ffe.order_status", str(order.status))


class TracedProvider:
    """A DecisionProvider whose every vote is a ``provider.vote`` span; other attributes
    (``circuit``, ``close`` ...) pass through to the wrapped provider."""

    def __init__(self, inner: DecisionProvider, tracer: Tracer) -> None:
        self.inner = inner
        self.name = inner.name
        self._tracer = tracer

    async def vote(self, context: DecisionContext) -> ProviderVote:
        attributes = {"ffe.provider": self.name, "ffe.instrument": context.instrument.symbol}
        with self._tracer.start_as_current_span("provider.vote", attributes=attributes) as span:
            vote = await self.inner.vote(context)
            if isinstance(vote, ProviderVote):
                _describe_vote(span, vote)
            return vote

    def __getattr__(self, item: str) -> Any:
        return getattr(self.inner, item)


class TracedSyncProvider(TracedProvider):
    """A :class:`TracedProvider` around a provider that never awaits: the ensemble asks those
    with ``vote_now`` (in place, no task), so that is spanned too, not passed through."""

    inner: SyncDecisionProvider

    def vote_now(self, context: DecisionContext) -> ProviderVote:
        attributes = {"ffe.provider": self.name, "ffe.instrument": context.instrument.symbol}
        with self._tracer.start_as_current_span("provider.vote", attributes=attributes) as span:
            vote = self.inner.vote_now(context)
            if isinstance(vote, ProviderVote):
                _describe_vote(span, vote)
            return vote

    def signal(self, context: DecisionContext) -> Signal:
        return self.inner.signal(context)


def trace_providers(
    providers: Mapping[str, DecisionProvider], tracer_provider: TracerProvider | None
) -> dict[str, DecisionProvider]:
    """Every provider wrapped in a ``TracedProvider`` (unchanged when tracing is off)."""
    if tracer_provider is None:
        return dict(providers)
    tracer = tracer_provider.get_tracer(TRACER_NAME)
    return {
        name: (
            TracedSyncProvider(p, tracer)
            if isinstance(p, SyncDecisionProvider)
            else TracedProvider(p, tracer)
        )
        for name, p in providers.items()
    }


def trace_decisions(service: Any, tracer_provider: TracerProvider | None) -> Any:
    """Spans around ``service.decide`` and its ``risk`` check (a DecisionService), in place."""
    if tracer_provider is None:
        return service
    tracer = tracer_provider.get_tracer(TRACER_NAME)
    service.decide = traced(tracer, "decision", service.decide, _describe_decision)
    if service.risk is not None:
        service.risk = traced(tracer, "risk", service.risk, _describe_risk)
    return service


def trace_broker(broker: Broker, tracer_provider: TracerProvider | None) -> Broker:
    """A span around ``broker.submit_order``, in place (the broker keeps its type)."""
    if tracer_provider is None:
        return broker
    tracer = tracer_provider.get_tracer(TRACER_NAME)
    attributes = {"ffe.broker": broker.name}
    patched: Any = broker  # the method is replaced on the instance
    patched.submit_order = traced(
        tracer, "broker.submit_order", broker.submit_order, _describe_order, attributes
    )
    return broker


def trace_agent(agent: Any, tracer_provider: TracerProvider | None) -> Any:
    """An ``agent.cycle`` root span around each cycle of a TradingAgent, in place."""
    if tracer_provider is None:
        return agent
    tracer = tracer_provider.get_tracer(TRACER_NAME)
    agent.cycle = traced(tracer, "agent.cycle", agent.cycle, _describe_cycle)
    return agent
