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
from ffe_core.ports.clock import Clock

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
    """The one generic way every kind of adapter is built: by name, through the registry,
    with its own ``adapters.<name>`` options and the shared services."""

    def __init__(self, registry: Registry, settings: Settings, clock: Clock, **shared: Any):
        self.registry, self.settings, self.clock, self.shared = registry, settings, clock, shared

    def one(self, kind: str, name: str, **services: Any) -> Any:
        options = self.settings.adapters.get(name, {})
        core = CoreView.of(self.settings)
        ctx = AdapterContext(name, options, core, self.clock, **{**self.shared, **services})
        return self.registry.factory(kind, name)(ctx)

    def each(self, kind: str, names: tuple[str, ...], *, optional: bool = False) -> list[Any]:
        """One adapter per name; with ``optional`` a misconfigured one is skipped (logged)."""
        built = []
        for name in names:
            try:
                built.append(self.one(kind, name))
            except ConfigError as exc:
                if not optional:
                    raise
                log.warning("%s %s disabled: %s", name, kind, exc)
        return built
