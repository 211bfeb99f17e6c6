"""Adapters chosen by name: what the settings select, the start-up check that every name is
registered, and :class:`Build`, the one generic way any kind of adapter is built."""

from __future__ import annotations

import logging
from collections.abc import Container
from typing import Any, NamedTuple

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.registry import Registry
from ffe_core.config import CoreView, Settings
from ffe_core.domain.errors import ConfigError
from ffe_core.ports.brokers import Broker
from ffe_core.ports.clock import Clock
from ffe_core.ports.market_data import Cache, MarketDataSource
from ffe_core.ports.providers import DecisionProvider, WeightSource
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.services.costs import CostLedger
from ffe_core.services.ensemble import Ensemble
from ffe_core.services.execution import admit_venue
from ffe_core.services.market_data import MarketDataService

log = logging.getLogger(__name__)


def storage_scheme(url: str) -> str:
    """``postgresql`` for ``postgresql+asyncpg://...``: the storage backend's registered name."""
    return url.split(":", 1)[0].split("+", 1)[0].lower()


class Selection(NamedTuple):
    key: str
    """The configuration key that names the adapters."""
    kind: str
    """The registry kind they are looked up in."""
    names: tuple[str, ...]
    provider: str
    """The container provider built from them (a test may override it with its own object)."""


def selections(s: Settings) -> list[Selection]:
    """Every adapter ``s`` chooses by name."""
    judge = (s.ensemble.judge_provider,) if s.ensemble.judge_provider else ()
    n = s.notify
    return [
        Selection("storage.url", "storage", (storage_scheme(s.storage.url),), "storage"),
        Selection("market_data.cache.backend", "caches", (s.market_data.cache.backend,), "cache"),
        Selection("market_data.sources", "market_data", s.market_data.sources, "market_data"),
        Selection("trading.broker", "brokers", (s.trading.broker,), "broker"),
        Selection("providers.enabled", "decision_providers", s.providers.enabled, "decision_providers"),
        Selection("ensemble.judge_provider", "decision_providers", judge, "ensemble"),
        Selection("notify.notifiers", "notifiers", n.notifiers, "notifiers"),
        Selection("notify.approval_channels", "approval_channels", n.approval_channels, "approval_channels"),
        Selection("notify.inbound", "inbound_channels", n.inbound, "inbound"),
        Selection("agent.lease", "leases", (s.agent.lease,), "lease"),
        Selection("monitoring.metrics", "metrics", (s.monitoring.metrics,), "metrics"),
        Selection("monitoring.tracing", "tracers", (s.monitoring.tracing,), "tracer_provider"),
        Selection("backtests.compute", "compute", (s.backtests.compute,), "compute"),
    ]  # fmt: skip


def check_selections(
    registry: Registry, settings: Settings, overridden: Container[str] = ()
) -> None:
    """Refuse a name no plugin registered: one line naming the key and the registered names.
    Selections whose container provider is ``overridden`` are not built, so not checked."""
    for key, kind, names, provider in selections(settings):
        if provider in overridden:
            continue
        for name in names:
            if name not in registry.names(kind):
                known = ", ".join(registry.names(kind)) or "none"
                raise ConfigError(f"{key}: no {kind} adapter named {name!r} (registered: {known})")


class Build:
    """The one generic way every kind of adapter is built: by the name the settings select,
    through the registry, with its own ``adapters.<name>`` options and the shared services."""

    def __init__(self, registry: Registry, settings: Settings, clock: Clock, **shared: Any):
        self.registry, self.settings, self.clock, self.shared = registry, settings, clock, shared

    def names(self, kind: str) -> tuple[str, ...]:
        """The names ``settings`` selects for ``kind`` (its first selection)."""
        return next(sel.names for sel in selections(self.settings) if sel.kind == kind)

    def named(self, kind: str, name: str, **services: Any) -> Any:
        options = self.settings.adapters.get(name, {})
        core = CoreView.of(self.settings)
        ctx = AdapterContext(name, options, core, self.clock, **{**self.shared, **services})
        return self.registry.factory(kind, name)(ctx)

    def one(self, kind: str, **services: Any) -> Any:
        """The one adapter of ``kind`` the settings select (storage, cache, broker, lease...)."""
        return self.named(kind, self.names(kind)[0], **services)

    def by_name(self, kind: str, **services: Any) -> dict[str, Any]:
        return {name: self.named(kind, name, **services) for name in self.names(kind)}

    def each(self, kind: str, *, optional: bool = False) -> list[Any]:
        """Every selected adapter of ``kind``; with ``optional`` a misconfigured one is skipped
        with a warning (a broken notifier never stops trading)."""
        built = []
        for name in self.names(kind):
            try:
                built.append(self.named(kind, name))
            except ConfigError as exc:
                if not optional:
                    raise
                log.warning("%s %s disabled: %s", name, kind, exc)
        return built

    def market_data(self, cache: Cache | None) -> MarketDataService:
        """The chain of ``market_data.sources`` behind the cache."""
        md = self.settings.market_data
        sources = [self.named("market_data", name) for name in md.sources]
        return MarketDataService(
            sources,
            cache,
            quote_ttl_seconds=md.cache.quote_ttl_seconds,
            bar_ttl_seconds=md.cache.bar_ttl_seconds,
            clock=self.clock,
        )

    def venue(self, uow_factory: UnitOfWorkFactory, market_data: MarketDataSource) -> Broker:
        """The broker of ``trading.broker``, refused before anyone holds it when its declared
        venue may not trade under these settings."""
        broker = self.one("brokers", uow_factory=uow_factory, market_data=market_data)
        return admit_venue(self.settings, broker)

    def ensemble(
        self,
        enabled: dict[str, DecisionProvider],
        traced: dict[str, DecisionProvider],
        weights: WeightSource,
        costs: CostLedger | None = None,
    ) -> Ensemble:
        s, judge_name = self.settings, self.settings.ensemble.judge_provider
        judge: DecisionProvider | None = None
        if judge_name:
            judge = enabled.get(judge_name) or self.named("decision_providers", judge_name)
        return Ensemble(
            traced,
            s.ensemble,
            provider_timeout=s.providers.timeout_seconds,
            weights=weights,
            judge=judge,
            metrics=self.shared["metrics"],
            costs=costs,
        )
