"""The one place that wires adapters to services: a dependency-injector container built from
validated settings, choosing every adapter by name from the plugin registry.

CLI, API and agent runner all ask this container for what they need; tests override providers
(``container.broker.override(providers.Object(fake))``) instead of monkeypatching. What holds a
connection is a ``providers.Resource``; :func:`ffe_entrypoints.assembly.shutdown` closes the ones that were built.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers

from ffe_adapters.registry import load_registry
from ffe_adapters.telemetry.tracing import (
    trace_agent,
    trace_broker,
    trace_decisions,
    trace_providers,
)
from ffe_core.config import Settings
from ffe_core.ports.brokers import Broker
from ffe_core.ports.capabilities import InboundChannel
from ffe_core.ports.clock import Clock, SystemClock
from ffe_core.ports.compute import ComputeBackend
from ffe_core.ports.control import ControlPlane
from ffe_core.ports.lease import LeaderLease
from ffe_core.ports.market_data import Cache
from ffe_core.ports.metrics import Metrics, NullMetrics
from ffe_core.ports.notify import ApprovalChannel, Notifier
from ffe_core.ports.providers import DecisionProvider
from ffe_core.ports.storage import StorageBackend
from ffe_core.services.account_view import AccountView
from ffe_core.services.agent_assembly import assemble_agent
from ffe_core.services.approvals import ApprovalService
from ffe_core.services.control import ControlService
from ffe_core.services.costs import CostLedger
from ffe_core.services.decisions import DecisionService
from ffe_core.services.demotion import weight_source
from ffe_core.services.flight import FlightRecorder
from ffe_core.services.kill_switch import SharedRiskState
from ffe_core.services.learning import LearningService, bar_clock_seconds
from ffe_core.services.notify import FanoutNotifier
from ffe_core.services.parity import ParityService
from ffe_core.services.risk import RiskManager
from ffe_entrypoints.assembly import shutdown
from ffe_entrypoints.logging import shared_scrubber
from ffe_entrypoints.selection import Build
from ffe_entrypoints.services.account_reads import AccountReads
from ffe_entrypoints.services.decision_feed import DecisionFeed
from ffe_entrypoints.services.health import build_health
from ffe_entrypoints.services.live_gate import StoredReportGate
from ffe_entrypoints.services.process_control import AgentProcessControl

if TYPE_CHECKING:
    from ffe_entrypoints.services.backtests import BacktestService


def build_backtest_service(**kwargs: Any) -> BacktestService:
    """The backtest jobs; their worker pool, parameter rules and replay stack load with the
    first backtest asked for, not with the API."""
    from ffe_entrypoints.assembly import Assembly
    from ffe_entrypoints.services.backtests import BacktestService

    return BacktestService(assembly=Assembly(build_container, shutdown), **kwargs)


class Container(containers.DeclarativeContainer):
    """Everything ffe runs on, assembled lazily from ``settings``."""

    settings = providers.Dependency(instance_of=Settings)
    registry = providers.Singleton(load_registry)
    clock: providers.Provider[Clock] = providers.Singleton(SystemClock)
    exporters = providers.Singleton(Build, registry, settings, clock, metrics=NullMetrics())
    metrics: providers.Provider[Metrics] = providers.Singleton(Build.one, exporters, "metrics")
    # None when tracing is off; tests override it with a provider on an in-memory exporter.
    tracer_provider = providers.Singleton(Build.one, exporters, "tracers")
    # Masks every configured secret in upstream text (the process-wide one logging uses too).
    scrubber = providers.Singleton(shared_scrubber, settings)
    build = providers.Singleton(
        Build, registry, settings, clock, metrics=metrics, scrubber=scrubber
    )

    storage: providers.Provider[StorageBackend] = providers.Resource(Build.one, build, "storage")
    uow_factory = storage.provided.uow_factory
    cache: providers.Provider[Cache] = providers.Resource(Build.one, build, "caches")
    market_data = providers.Resource(Build.market_data, build, cache)
    venue = providers.Resource(Build.venue, build, uow_factory, market_data)
    broker: providers.Provider[Broker] = providers.Singleton(trace_broker, venue, tracer_provider)
    # The account read model of the status/positions views; the gate invalidates it on fills.
    account_view = providers.Singleton(
        AccountView, broker, uow_factory, settings.provided.trading.initial_cash
    )
    account_reads = providers.Singleton(AccountReads, settings, account_view, market_data, broker)
    learning = providers.Singleton(
        LearningService,
        uow_factory,
        settings.provided.learning,
        bar_seconds=providers.Callable(
            bar_clock_seconds, market_data, settings.provided.market_data.interval
        ),
    )
    risk_manager = providers.Singleton(
        RiskManager, settings.provided.risk, fee_rate=settings.provided.trading.fee_rate
    )
    # every process on the storage shares the kill switch (ffe_core.services.kill_switch)
    risk_state = providers.Singleton(SharedRiskState, risk_manager, uow_factory)
    notifiers: providers.Provider[list[Notifier]] = providers.Resource(
        Build.each, build, "notifiers", optional=True
    )
    # Every provider call recorded; budgets (costs.budgets) fail closed.
    cost_ledger = providers.Singleton(
        CostLedger,
        settings.provided.costs,
        uow_factory,
        clock,
        notifier=providers.Callable(FanoutNotifier, notifiers),
        scrub=scrubber,
    )
    # the learned ensemble weights (a WeightSource); costs.demote holds poor value at a floor
    weights = providers.Singleton(
        weight_source,
        learning,
        cost_ledger,
        settings.provided.learning.learning_horizon,
        settings.provided.costs.demote,
        clock,
    )
    flight_recorder = providers.Singleton(
        FlightRecorder, settings, uow_factory, clock, scrub=scrubber
    )
    decision_providers: providers.Provider[dict[str, DecisionProvider]] = providers.Resource(
        Build.by_name, build, "decision_providers", cache=cache
    )
    traced_providers = providers.Callable(trace_providers, decision_providers, tracer_provider)
    ensemble = providers.Singleton(
        Build.ensemble, build, decision_providers, traced_providers, weights, cost_ledger
    )
    # The risk check applied to every decision (``ffe_core.services.decisions.RiskCheck``).
    risk_check: providers.Provider[RiskManager] = risk_manager
    lease: providers.Provider[LeaderLease | None] = providers.Resource(
        Build.one, build, "leases", storage=storage
    )
    # The decision list's pages as served; the decision service invalidates them on writes.
    decision_feed = providers.Singleton(DecisionFeed, uow_factory)
    decision_service = providers.Singleton(
        trace_decisions,
        providers.Singleton(
            DecisionService,
            settings=settings,
            ensemble=ensemble,
            market_data=market_data,
            portfolio=broker.provided.get_portfolio,
            uow_factory=uow_factory,
            clock=clock,
            risk=risk_check,
            memory_source=learning.provided.past_decisions,
            scrub=scrubber,
            recorder=flight_recorder,
            stored=decision_feed.provided.invalidate,
            remember=learning.provided.remember,
        ),
        tracer_provider,
    )
    parity = providers.Singleton(ParityService, settings, uow_factory, clock, metrics=metrics)
    approval_channels: providers.Provider[list[ApprovalChannel]] = providers.Resource(
        Build.each, build, "approval_channels", optional=True
    )
    approval_service = providers.Singleton(
        ApprovalService,
        settings=settings.provided.approvals,
        uow_factory=uow_factory,
        clock=clock,
        channels=approval_channels,
    )
    live_gate = providers.Singleton(StoredReportGate, settings)
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
            flight_recorder,
            parity,
            account_view.provided.invalidate,
            live_gate,
        ),
        tracer_provider,
    )
    # the agent on this process's event loop (the CLI, tests, the agent process itself)
    inline_control: providers.Provider[ControlService] = providers.Resource(
        ControlService,
        agent=agent,
        approvals=approval_service,
        broker=broker,
        uow_factory=uow_factory,
    )
    # True in `ffe serve` (agent.own_process): the agent runs in a child process it supervises
    agent_in_child = providers.Object(False)
    control: providers.Provider[ControlPlane] = providers.Selector(
        providers.Callable(lambda child: "child" if child else "inline", agent_in_child),
        inline=inline_control,
        child=providers.Resource(
            AgentProcessControl.unspawned,
            inline_control,
            providers.List(account_view.provided.invalidate, decision_feed.provided.invalidate),
        ),
    )
    inbound: providers.Provider[dict[str, InboundChannel]] = providers.Resource(
        Build.by_name, build, "inbound_channels", control=control
    )
    compute: providers.Provider[ComputeBackend] = providers.Singleton(Build.one, build, "compute")
    backtest_service = providers.Resource(  # its worker pool closes at shutdown
        build_backtest_service,
        settings=settings,
        # read when the first backtest asks: what plugins registered by then
        strategies=providers.Callable(partial, registry.provided.factories, "strategies"),
        provider_names=providers.Callable(partial, registry.provided.names, "decision_providers"),
        order_strategies=providers.Callable(
            partial, registry.provided.factories, "order_strategies"
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


def build_container(settings: Settings, *, agent_in_child: bool = False) -> Container:
    """``agent_in_child``: control reaches an agent in its own process (``ffe serve``)."""
    return Container(settings=settings, agent_in_child=providers.Object(agent_in_child))
