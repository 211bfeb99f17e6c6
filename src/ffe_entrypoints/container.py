"""The one place that wires adapters to services: a dependency-injector container built from
validated settings, choosing every adapter by name from the plugin registry.

CLI, API and agent runner all ask this container for what they need; tests override providers
(``container.broker.override(providers.Object(fake))``) instead of monkeypatching. What holds a
connection is a ``providers.Resource``; :func:`shutdown` closes the ones that were built.
"""

from __future__ import annotations

from collections.abc import Mapping

from dependency_injector import containers, providers

from ffe_adapters.registry import load_registry
from ffe_adapters.telemetry.tracing import (
    trace_agent,
    trace_broker,
    trace_decisions,
    trace_providers,
)
from ffe_core.config import Settings
from ffe_core.ports.capabilities import Closable
from ffe_core.ports.clock import Clock, SystemClock
from ffe_core.ports.metrics import NullMetrics
from ffe_core.ports.providers import DecisionProvider, WeightSource
from ffe_core.services.agent_assembly import assemble_agent
from ffe_core.services.approvals import ApprovalService
from ffe_core.services.control import ControlService
from ffe_core.services.decisions import DecisionService
from ffe_core.services.ensemble import Ensemble
from ffe_core.services.execution import admit_venue
from ffe_core.services.kill_switch import SharedRiskState
from ffe_core.services.learning import LearningService
from ffe_core.services.market_data import MarketDataService
from ffe_core.services.risk import RiskManager
from ffe_entrypoints.logging import shared_scrubber
from ffe_entrypoints.selection import Build, check_selections, storage_scheme
from ffe_entrypoints.services.backtests import BacktestService
from ffe_entrypoints.services.health import build_health


def _ensemble(
    build: Build,
    enabled: dict[str, DecisionProvider],
    traced: dict[str, DecisionProvider],
    weights: WeightSource,
) -> Ensemble:
    s, judge_name = build.settings, build.settings.ensemble.judge_provider
    judge: DecisionProvider | None = None
    if judge_name:
        judge = enabled.get(judge_name) or build.one("decision_providers", judge_name)
    return Ensemble(
        traced,
        s.ensemble,
        provider_timeout=s.providers.timeout_seconds,
        weights=weights,
        judge=judge,
        metrics=build.shared["metrics"],
    )


class Container(containers.DeclarativeContainer):
    """Everything ffe runs on, assembled lazily from ``settings``."""

    settings = providers.Dependency(instance_of=Settings)
    registry = providers.Singleton(load_registry)
    clock: providers.Provider[Clock] = providers.Singleton(SystemClock)
    exporters = providers.Singleton(Build, registry, settings, clock, metrics=NullMetrics())
    metrics = providers.Singleton(
        lambda b: b.one("metrics", b.settings.monitoring.metrics), exporters
    )
    # None when tracing is off; tests override it with a provider on an in-memory exporter.
    tracer_provider = providers.Singleton(
        lambda b: b.one("tracers", b.settings.monitoring.tracing), exporters
    )
    # Masks every configured secret in upstream text (the process-wide one logging uses too).
    scrubber = providers.Singleton(shared_scrubber, settings)
    build = providers.Singleton(
        Build, registry, settings, clock, metrics=metrics, scrubber=scrubber
    )

    storage = providers.Resource(
        lambda b: b.one("storage", storage_scheme(b.settings.storage.url)), build
    )
    uow_factory = providers.Callable(lambda storage: storage.uow_factory, storage)
    cache = providers.Resource(
        lambda b: b.one("caches", b.settings.market_data.cache.backend), build
    )
    market_data = providers.Resource(
        lambda b, cache: MarketDataService(
            [b.one("market_data", n) for n in b.settings.market_data.sources],
            cache,
            quote_ttl_seconds=b.settings.market_data.cache.quote_ttl_seconds,
            bar_ttl_seconds=b.settings.market_data.cache.bar_ttl_seconds,
            clock=b.clock,
        ),
        build,
        cache,
    )
    venue = providers.Resource(
        lambda b, uow_factory, market_data: admit_venue(
            b.settings,
            b.one(
                "brokers",
                b.settings.trading.broker,
                uow_factory=uow_factory,
                market_data=market_data,
            ),
        ),
        build,
        uow_factory,
        market_data,
    )
    broker = providers.Singleton(trace_broker, venue, tracer_provider)
    learning = providers.Singleton(
        LearningService, uow_factory, providers.Callable(lambda s: s.learning, settings)
    )
    weights = learning  # the learned ensemble weights (a WeightSource)
    risk_manager = providers.Singleton(
        RiskManager,
        providers.Callable(lambda s: s.risk, settings),
        fee_rate=providers.Callable(
            lambda s: s.trading.commission + s.trading.slippage + s.trading.spread / 2, settings
        ),
    )
    # every process on the storage shares the kill switch (ffe_core.services.kill_switch)
    risk_state = providers.Singleton(SharedRiskState, risk_manager, uow_factory)
    decision_providers = providers.Resource(
        lambda b, cache: {
            n: b.one("decision_providers", n, cache=cache) for n in b.settings.providers.enabled
        },
        build,
        cache,
    )
    ensemble = providers.Singleton(
        _ensemble,
        build,
        decision_providers,
        providers.Callable(trace_providers, decision_providers, tracer_provider),
        weights,
    )
    # The risk check applied to every decision (``ffe_core.services.decisions.RiskCheck``).
    risk_check: providers.Provider[RiskManager] = risk_manager
    lease = providers.Resource(
        lambda b, storage: b.one("leases", b.settings.agent.lease, storage=storage), build, storage
    )
    decision_service = providers.Singleton(
        trace_decisions,
        providers.Singleton(
            DecisionService,
            settings=settings,
            ensemble=ensemble,
            market_data=market_data,
            portfolio=providers.Callable(lambda broker: broker.get_portfolio, broker),
            uow_factory=uow_factory,
            clock=clock,
            risk=risk_check,
            memory_source=providers.Callable(lambda learning: learning.past_decisions, learning),
            scrub=scrubber,
        ),
        tracer_provider,
    )
    notifiers = providers.Resource(
        lambda b: b.each("notifiers", b.settings.notify.notifiers, optional=True), build
    )
    approval_channels = providers.Resource(
        lambda b: b.each("approval_channels", b.settings.notify.approval_channels, optional=True),
        build,
    )
    approval_service = providers.Singleton(
        ApprovalService,
        settings=providers.Callable(lambda s: s.approvals, settings),
        uow_factory=uow_factory,
        clock=clock,
        channels=approval_channels,
    )
    agent = providers.Singleton(
        trace_agent,
        providers.Singleton(
            assemble_agent,
            settings,
            decision_service,
            broker,
            approval_service,
            uow_factory,
            clock,
            notifiers,
            metrics,
            market_data,
            risk_state,
            learning,
            lease,
        ),
        tracer_provider,
    )
    control = providers.Resource(
        ControlService,
        agent=agent,
        approvals=approval_service,
        broker=broker,
        uow_factory=uow_factory,
    )
    inbound = providers.Resource(
        lambda b, control: {
            n: b.one("inbound_channels", n, control=control) for n in b.settings.notify.inbound
        },
        build,
        control,
    )
    compute = providers.Singleton(lambda b: b.one("compute", b.settings.backtests.compute), build)
    backtest_service = providers.Resource(  # its worker pool closes at shutdown
        BacktestService,
        settings=settings,
        strategies=providers.Callable(
            lambda r: lambda: {n: r.factory("strategies", n) for n in r.names("strategies")},
            registry,
        ),
    )
    health_service = providers.Singleton(
        build_health,
        settings,
        storage,
        broker.provider,
        market_data.provider,
        decision_providers.provider,
        cache.provider,
        control.provider,
    )


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)


async def startup(container: Container) -> None:
    """Refuse unknown adapter names, migrate storage, restore the shared risk state."""
    overridden = {name for name, p in container.providers.items() if p.overridden}
    check_selections(container.registry(), container.settings(), overridden)
    await container.storage().migrate()
    await container.risk_state().load()


async def _close(built: object) -> None:
    items = (
        built.values()
        if isinstance(built, Mapping)
        else built
        if isinstance(built, list)
        else [built]
    )
    for item in reversed(list(items)):
        if isinstance(item, Closable):
            await item.close()


async def shutdown(container: Container) -> None:
    """Close every resource built, each before the resources it was built from."""
    built: list[providers.Resource[object]] = [
        r for r in container.traverse(types=[providers.Resource]) if r.initialized
    ]
    while built:
        used = {id(dep) for r in built for dep in providers.traverse(r)}
        for resource in [r for r in built if id(r) not in used] or built[:1]:
            built.remove(resource)
            await _close(resource())
            resource.shutdown()
