"""The one place that wires adapters to services: a dependency-injector container built from
validated settings, choosing every adapter by name from the plugin registry.

CLI, API and agent runner all ask this container for what they need; tests override providers
(``container.broker.override(providers.Object(fake))``) instead of monkeypatching.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

from dependency_injector import containers, providers

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.registry import Registry, load_registry
from ffe_adapters.telemetry.prometheus import PrometheusMetrics
from ffe_adapters.telemetry.tracing import (
    build_tracer_provider,
    trace_agent,
    trace_broker,
    trace_decisions,
    trace_providers,
)
from ffe_core.config import Settings
from ffe_core.domain.errors import ConfigError
from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.brokers import Broker
from ffe_core.ports.clock import Clock, SystemClock
from ffe_core.ports.control import ControlPlane
from ffe_core.ports.lease import LeaderLease
from ffe_core.ports.metrics import Metrics
from ffe_core.ports.notify import Notifier
from ffe_core.ports.providers import DecisionProvider, WeightSource
from ffe_core.scrubbing import SecretScrubber
from ffe_core.services.agent import TradingAgent
from ffe_core.services.approvals import ApprovalService
from ffe_core.services.circuit import CircuitBreaker
from ffe_core.services.control import ControlService
from ffe_core.services.costs import CostLedger
from ffe_core.services.decisions import DecisionService
from ffe_core.services.ensemble import Ensemble
from ffe_core.services.execution import ExecutionGate, venue_refusal
from ffe_core.services.flight import FlightRecorder
from ffe_core.services.kill_switch import SharedRiskState
from ffe_core.services.learning import LearningService, bar_close_lookup
from ffe_core.services.market_data import MarketDataService, mark_prices
from ffe_core.services.notify import FanoutNotifier
from ffe_core.services.risk import RiskManager, RiskState
from ffe_entrypoints.logging import shared_scrubber
from ffe_entrypoints.services.backtests import BacktestService
from ffe_entrypoints.services.health import Check, Degraded, HealthService, agent_health

log = logging.getLogger(__name__)


def adapter_context(
    name: str,
    settings: Settings,
    clock: Clock,
    metrics: Metrics,
    **services: Any,
) -> AdapterContext:
    """The context a factory gets: its own options from ``settings.adapters[name]`` and services."""
    return AdapterContext(
        name=name,
        settings=settings,
        options=settings.adapters.get(name, {}),
        clock=clock,
        metrics=metrics,
        **services,
    )


def build_adapter(registry: Registry, kind: str, name: str, ctx: AdapterContext) -> Any:
    """Look ``name`` up among the registered ``kind`` factories and build it."""
    return registry.factory(kind, name)(ctx)


class Resources:
    """Adapters with an async ``close()``, closed in reverse order of creation on shutdown."""

    def __init__(self) -> None:
        self._items: list[Any] = []

    def track(self, item: Any) -> Any:
        if item is not None and hasattr(item, "close"):
            self._items.append(item)
        return item

    async def aclose(self) -> None:
        while self._items:
            await self._items.pop().close()


def _storage(
    registry: Registry, settings: Settings, clock: Clock, metrics: Metrics, res: Resources
) -> Any:
    ctx = adapter_context("sql", settings, clock, metrics)
    return res.track(build_adapter(registry, "storage", "sql", ctx))


def _cache(
    registry: Registry, settings: Settings, clock: Clock, metrics: Metrics, res: Resources
) -> Any:
    backend = settings.market_data.cache.backend
    if backend == "none":
        return None
    ctx = adapter_context(backend, settings, clock, metrics)
    return res.track(build_adapter(registry, "caches", backend, ctx))


def _market_data(
    registry: Registry,
    settings: Settings,
    clock: Clock,
    metrics: Metrics,
    cache: Any,
    res: Resources,
) -> MarketDataService:
    sources = [
        build_adapter(
            registry, "market_data", name, adapter_context(name, settings, clock, metrics)
        )
        for name in settings.market_data.sources
    ]
    cfg = settings.market_data.cache
    return res.track(  # type: ignore[no-any-return]
        MarketDataService(
            sources,
            cache,
            quote_ttl_seconds=cfg.quote_ttl_seconds,
            bar_ttl_seconds=cfg.bar_ttl_seconds,
            clock=clock,
        )
    )


def _broker(
    registry: Registry,
    settings: Settings,
    clock: Clock,
    metrics: Metrics,
    uow_factory: Any,
    market_data: MarketDataService,
    res: Resources,
) -> Broker:
    name = settings.trading.broker
    ctx = adapter_context(
        name, settings, clock, metrics, uow_factory=uow_factory, market_data=market_data
    )
    broker = build_adapter(registry, "brokers", name, ctx)
    refusal = venue_refusal(settings, broker)  # before anyone can send an order through it
    if refusal is None:
        return res.track(broker)  # type: ignore[no-any-return]
    # Refused before anyone holds it (nothing was sent): release its client, then refuse.
    closing = broker.close() if hasattr(broker, "close") else None
    if closing is not None:
        try:
            asyncio.get_running_loop().create_task(closing)
        except RuntimeError:  # no event loop running: a synchronous caller
            asyncio.run(closing)
    raise ConfigError(refusal)


def _decision_providers(
    registry: Registry,
    settings: Settings,
    clock: Clock,
    metrics: Metrics,
    cache: Any,
    res: Resources,
    scrubber: SecretScrubber,
) -> dict[str, DecisionProvider]:
    built: dict[str, DecisionProvider] = {}
    for name in settings.providers.enabled:
        ctx = adapter_context(name, settings, clock, metrics, cache=cache, scrubber=scrubber)
        built[name] = res.track(build_adapter(registry, "decision_providers", name, ctx))
    return built


def _ensemble(
    settings: Settings,
    decision_providers: dict[str, DecisionProvider],
    registry: Registry,
    clock: Clock,
    metrics: Metrics,
    cache: Any,
    weights: WeightSource,
    scrubber: SecretScrubber,
    costs: CostLedger | None = None,
) -> Ensemble:
    judge_name = settings.ensemble.judge_provider
    judge = None
    if judge_name:
        judge = decision_providers.get(judge_name) or build_adapter(
            registry,
            "decision_providers",
            judge_name,
            adapter_context(judge_name, settings, clock, metrics, cache=cache, scrubber=scrubber),
        )
    return Ensemble(
        decision_providers,
        settings.ensemble,
        provider_timeout=settings.providers.timeout_seconds,
        weights=weights,
        judge=judge,
        metrics=metrics,
        costs=costs,
    )


def _channels(
    kind: str,
    registry: Registry,
    settings: Settings,
    clock: Clock,
    metrics: Metrics,
    res: Resources,
) -> list[Any]:
    """The log channel always; Telegram too when enabled (a Telegram config error falls back)."""
    built = [build_adapter(registry, kind, "log", adapter_context("log", settings, clock, metrics))]
    if settings.telegram.enabled:
        try:
            ctx = adapter_context("telegram", settings, clock, metrics)
            built.append(res.track(build_adapter(registry, kind, "telegram", ctx)))
        except ConfigError as exc:
            log.warning("telegram %s disabled: %s", kind, exc)
    return built


RISK_STATE_KEY = "risk_manager"


def _lease(settings: Settings, storage: Any) -> LeaderLease | None:
    """A leader lease when several processes can share the storage (PostgreSQL)."""
    if getattr(storage, "dialect", None) != "postgresql":
        return None
    from ffe_adapters.storage.sql.lease import SqlLeaderLease

    return SqlLeaderLease(storage.engine, "agent", settings.agent.lease_ttl_seconds)


def _agent(
    settings: Settings,
    decision_service: DecisionService,
    broker: Broker,
    approval_service: ApprovalService,
    uow_factory: Any,
    clock: Clock,
    notifiers: list[Notifier],
    metrics: Metrics,
    market_data: MarketDataService,
    risk_manager: RiskManager,
    learning: LearningService,
    lease: LeaderLease | None,
    recorder: FlightRecorder | None = None,
) -> TradingAgent:
    async def prices(portfolio: Portfolio) -> dict[str, Decimal]:
        return await mark_prices(
            portfolio, settings.instrument, market_data, at_cost_when_unpriced=False
        )

    lookup = bar_close_lookup(market_data, settings.instrument, settings.market_data.interval)

    async def score_outcomes() -> None:
        await learning.score_due(clock.now(), lookup)

    # every process on the storage shares the kill switch: a reset from the CLI reaches the
    # server, and no stale view overwrites a trip (ffe_core.services.kill_switch)
    risk_state = SharedRiskState(risk_manager, uow_factory, RISK_STATE_KEY)

    notifier = FanoutNotifier(notifiers)
    gate = ExecutionGate(
        settings,
        broker,
        uow_factory,
        clock,
        decision_service,
        risk=risk_manager,
        kill_switch=risk_manager.kill_switch,
        notifier=notifier,
        metrics=metrics,
        recorder=recorder,
    )
    return TradingAgent(
        settings,
        decision_service,
        broker,
        approval_service,
        uow_factory,
        clock,
        notifier=notifier,
        metrics=metrics,
        prices=prices,
        equity_watch=risk_state,
        after_pass=[score_outcomes, risk_state.save],
        lease=lease,
        gate=gate,
        on_stored=decision_service.record_stored,
    )


async def startup(container: Container) -> None:
    """Migrate storage and restore the risk manager's state (peak equity, kill switch)."""
    await container.storage().migrate()
    async with container.uow_factory()() as uow:
        saved = await uow.state.get(RISK_STATE_KEY)
    if saved is not None:
        container.risk_manager().state = RiskState.model_validate(saved)


class TelegramRuntime:
    """The webhook handler and, in polling mode, the poller; inert when Telegram is off."""

    def __init__(self, settings: Settings, channels: list[Any], control: Any, clock: Clock) -> None:
        self.webhook: Any = None
        self._poller: Any = None
        self._bot: Any = None
        self._config: Any = None
        channel = next((c for c in channels if getattr(c, "name", "") == "telegram"), None)
        if channel is None:
            return
        from ffe_adapters.notify.telegram.config import TelegramConfig
        from ffe_adapters.notify.telegram.polling import TelegramPoller
        from ffe_adapters.notify.telegram.webhook import TelegramWebhook

        self._bot = channel.bot
        self._config = TelegramConfig.from_settings(
            settings.telegram, settings.adapters.get("telegram", {})
        )
        if settings.telegram.mode == "polling":
            self._poller = TelegramPoller.create(self._bot, control, self._config, clock)
        else:
            self.webhook = TelegramWebhook.create(self._bot, control, self._config, clock)

    async def start(self) -> None:
        if self._poller is not None:
            await self._poller.start()
        elif self.webhook is not None and self._config.webhook_url:
            from ffe_adapters.notify.telegram.bot import register_webhook

            await register_webhook(self._bot, self._config)

    async def close(self) -> None:
        if self._poller is not None:
            await self._poller.stop()


def circuit_breakers(decision_providers: dict[str, DecisionProvider]) -> list[CircuitBreaker]:
    """Every circuit breaker the providers expose (attribute ``circuit``)."""
    found = (getattr(p, "circuit", None) for p in decision_providers.values())
    return [c for c in found if isinstance(c, CircuitBreaker)]


def _health(
    settings: Settings,
    storage: Any,
    broker: providers.Provider[Broker],
    market_data: providers.Provider[MarketDataService],
    decision_providers: providers.Provider[dict[str, DecisionProvider]],
    cache: providers.Provider[Any],
    control: providers.Provider[ControlPlane],
) -> HealthService:
    """Each check exercises what it reports: storage takes a (rolled-back) write, the broker
    serves the account, market data a quote, Redis answers PING, the agent says how it runs."""

    async def broker_ok() -> None:
        await broker().get_portfolio()

    async def market_data_ok() -> None:
        symbol = settings.agent.instruments[0]
        instrument = settings.instrument(symbol)
        assert instrument is not None
        await market_data().get_quote(instrument)

    async def cache_ok() -> None:
        try:
            await cache().ping()
        except Exception as exc:  # the cache degrades to misses: slower, still trading
            raise Degraded(
                f"redis unreachable, market data is read uncached ({type(exc).__name__}: {exc})"
            ) from exc

    async def agent_ok() -> str:
        return agent_health(await control().agent_status())

    checks: dict[str, Check] = {
        "storage": storage.write_check,
        "broker": broker_ok,
        "market_data": market_data_ok,
        "agent": agent_ok,
    }
    if settings.market_data.cache.backend == "redis":
        checks["cache"] = cache_ok
    return HealthService(
        checks=checks,
        breakers=lambda: circuit_breakers(decision_providers()),
        mode=settings.trading.mode.value,
    )


class Container(containers.DeclarativeContainer):
    """Everything ffe runs on, assembled lazily from ``settings``."""

    settings = providers.Dependency(instance_of=Settings)
    registry = providers.Singleton(load_registry)
    clock: providers.Provider[Clock] = providers.Singleton(SystemClock)
    metrics = providers.Singleton(PrometheusMetrics.default)
    resources = providers.Singleton(Resources)
    # Masks every configured secret in upstream text (the process-wide one logging uses too).
    scrubber = providers.Singleton(shared_scrubber, settings)
    # None when tracing is off; tests override it with a provider on an in-memory exporter.
    tracer_provider = providers.Singleton(lambda s: build_tracer_provider(s.monitoring), settings)

    storage = providers.Singleton(_storage, registry, settings, clock, metrics, resources)
    uow_factory = providers.Callable(lambda storage: storage.uow_factory, storage)
    cache = providers.Singleton(_cache, registry, settings, clock, metrics, resources)
    market_data = providers.Singleton(
        _market_data, registry, settings, clock, metrics, cache, resources
    )
    broker = providers.Singleton(
        trace_broker,
        providers.Singleton(
            _broker, registry, settings, clock, metrics, uow_factory, market_data, resources
        ),
        tracer_provider,
    )
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
    notifiers = providers.Singleton(
        _channels, "notifiers", registry, settings, clock, metrics, resources
    )
    # Every provider call recorded; budgets (costs.budgets) fail closed.
    cost_ledger = providers.Singleton(
        CostLedger,
        providers.Callable(lambda s: s.costs, settings),
        uow_factory,
        clock,
        notifier=providers.Callable(FanoutNotifier, notifiers),
        scrub=scrubber,
    )
    flight_recorder = providers.Singleton(
        FlightRecorder, settings, uow_factory, clock, scrub=scrubber
    )
    decision_providers = providers.Singleton(
        _decision_providers, registry, settings, clock, metrics, cache, resources, scrubber
    )
    ensemble = providers.Singleton(
        _ensemble,
        settings,
        providers.Callable(trace_providers, decision_providers, tracer_provider),
        registry,
        clock,
        metrics,
        cache,
        weights,
        scrubber,
        cost_ledger,
    )
    # The risk check applied to every decision (``ffe_core.services.decisions.RiskCheck``).
    risk_check: providers.Provider[Any] = risk_manager
    lease = providers.Singleton(_lease, settings, storage)
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
            recorder=flight_recorder,
        ),
        tracer_provider,
    )
    approval_channels = providers.Singleton(
        _channels, "approval_channels", registry, settings, clock, metrics, resources
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
            _agent,
            settings,
            decision_service,
            broker,
            approval_service,
            uow_factory,
            clock,
            notifiers,
            metrics,
            market_data,
            risk_manager,
            learning,
            lease,
            flight_recorder,
        ),
        tracer_provider,
    )
    control = providers.Singleton(
        lambda res, **kw: res.track(ControlService(**kw)),
        resources,
        agent=agent,
        approvals=approval_service,
        broker=broker,
        uow_factory=uow_factory,
    )
    telegram = providers.Singleton(
        lambda res, *a: res.track(TelegramRuntime(*a)),
        resources,
        settings,
        approval_channels,
        control,
        clock,
    )
    backtest_service = providers.Singleton(
        lambda res, **kw: res.track(BacktestService(**kw)),  # its worker pool closes at shutdown
        resources,
        settings=settings,
        strategies=providers.Callable(
            lambda registry: (
                lambda: {
                    name: registry.factory("strategies", name)
                    for name in registry.names("strategies")
                }
            ),
            registry,
        ),
    )
    health_service = providers.Singleton(
        _health,
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


async def shutdown(container: Container) -> None:
    """Close every resource the container opened."""
    await container.resources().aclose()
