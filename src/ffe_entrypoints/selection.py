"""Adapters chosen by name: what the settings select, the start-up check that every name is
registered, and :class:`Build`, the one generic way any kind of adapter is built."""

from __future__ import annotations

import logging
from typing import Any

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.registry import Registry
from ffe_core.config import CoreView, Settings
from ffe_core.domain.errors import ConfigError
from ffe_core.ports.clock import Clock

log = logging.getLogger(__name__)


def storage_scheme(url: str) -> str:
    """``postgresql`` for ``postgresql+asyncpg://...``: the storage backend's registered name."""
    return url.split(":", 1)[0].split("+", 1)[0].lower()


def selections(s: Settings) -> list[tuple[str, str, tuple[str, ...]]]:
    """Every adapter ``s`` chooses by name: (config key, registry kind, names)."""
    judge = (s.ensemble.judge_provider,) if s.ensemble.judge_provider else ()
    return [
        ("storage.url", "storage", (storage_scheme(s.storage.url),)),
        ("market_data.cache.backend", "caches", (s.market_data.cache.backend,)),
        ("market_data.sources", "market_data", s.market_data.sources),
        ("trading.broker", "brokers", (s.trading.broker,)),
        ("providers.enabled", "decision_providers", s.providers.enabled),
        ("ensemble.judge_provider", "decision_providers", judge),
        ("notify.notifiers", "notifiers", s.notify.notifiers),
        ("notify.approval_channels", "approval_channels", s.notify.approval_channels),
        ("notify.inbound", "inbound_channels", s.notify.inbound),
        ("agent.lease", "leases", (s.agent.lease,)),
        ("monitoring.metrics", "metrics", (s.monitoring.metrics,)),
        ("monitoring.tracing", "tracers", (s.monitoring.tracing,)),
        ("backtests.compute", "compute", (s.backtests.compute,)),
    ]


def check_selections(registry: Registry, settings: Settings) -> None:
    """Refuse a name no plugin registered: one line naming the key and the registered names."""
    for key, kind, names in selections(settings):
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
