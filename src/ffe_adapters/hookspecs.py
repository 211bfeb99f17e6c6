"""The plugin contract of ffe: a plugin author's manual.

A plugin is any module or object with functions marked ``@hookimpl``; built-in adapters and
third-party packages are loaded the same way. Third parties declare an entry point in the group
``ffe``::

    [project.entry-points.ffe]
    my_plugin = "my_package.plugin"

Every hook returns ``{name: factory}``. A factory is called later, by the container, with an
:class:`AdapterContext` and returns the live adapter; hooks themselves never open connections.
Names must be unique per kind across all plugins: a duplicate is reported (naming both plugins)
and the first registration is kept. Every kind is chosen from the configuration by name (each
hook says by which key); a name no plugin registered is refused at start-up.

Options: an adapter's options live under ``adapters.<name>`` only, read through its own frozen
pydantic model with :meth:`AdapterContext.parse_options`; the few core settings it may read
arrive typed in ``AdapterContext.core``.

Capabilities beyond a port are declared, never probed: runtime-checkable Protocols in
``ffe_core.ports.capabilities`` (``Closable``, ``Pingable``, ``Verifiable``, ``WithCircuit``,
``CachePolicy``, ``InboundChannel``) and ``ffe_core.ports.brokers`` (``Broker.venue``,
``MarketDrivenVenue``, ``QuotedFills``).
Each hook below names the ones ffe looks for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy
from pydantic import BaseModel, ValidationError

from ffe_core.config import CoreView
from ffe_core.domain.errors import ConfigError
from ffe_core.domain.instruments import Instrument
from ffe_core.ports.clock import Clock, SystemClock
from ffe_core.ports.control import ControlPlane
from ffe_core.ports.market_data import Cache, MarketDataSource
from ffe_core.ports.metrics import Metrics, NullMetrics
from ffe_core.ports.storage import StorageBackend, UnitOfWorkFactory
from ffe_core.scrubbing import SecretScrubber

PROJECT_NAME = "ffe"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

if TYPE_CHECKING:
    from ffe_core.backtest.orders import CompiledStrategy
    from ffe_core.backtest.orders import Strategy as OrderStrategy

OptionsT = TypeVar("OptionsT", bound=BaseModel)


@dataclass(frozen=True)
class AdapterContext:
    """What a factory receives: its own options, the core settings it may read, and services.

    ``options`` is the raw ``adapters.<name>`` mapping (empty when absent); the adapter owns a
    frozen pydantic model for it and reads it with :meth:`parse_options`. ``core`` holds the
    few core settings an adapter may read (trading mode, account and costs, instruments, bar
    interval, storage); an adapter never sees the whole ``Settings``. Services an adapter does
    not need may be None. ``scrubber`` masks every configured secret: text from an upstream
    (error bodies, model answers) passes through it before it is returned, logged or stored; an
    adapter that reads a key from elsewhere (its SDK's environment variable) adds it with
    ``scrubber.add``.
    """

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    core: CoreView = field(default_factory=CoreView)
    clock: Clock = field(default_factory=SystemClock)
    metrics: Metrics = field(default_factory=NullMetrics)
    uow_factory: UnitOfWorkFactory | None = None
    market_data: MarketDataSource | None = None
    cache: Cache | None = None
    storage: StorageBackend | None = None
    """The storage backend built for ``storage.url`` (leases are built on it)."""
    control: ControlPlane | None = None
    """The control plane an inbound channel acts through."""
    scrubber: SecretScrubber = field(default_factory=SecretScrubber)

    def parse_options(self, model: type[OptionsT]) -> OptionsT:
        """``options`` validated by the adapter's own model; ConfigError names the bad key."""
        try:
            return model.model_validate(dict(self.options))
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            key = ".".join(str(p) for p in first["loc"])
            reason = first["msg"].removeprefix("Value error, ")
            raise ConfigError(f"adapters.{self.name}.{key}: {reason}") from None

    def instrument(self, symbol: str) -> Instrument | None:
        return self.core.instrument(symbol)


Factory = Callable[[AdapterContext], Any]
"""Builds one adapter from its context. May be a class or a function."""

Strategy = Callable[..., Any]
"""A backtest signal function: ``(open, high, low, close, volume, **params) -> signals``."""


@hookspec
def ffe_decision_providers() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Decision providers by name (``trend``, ``anthropic`` ...).

    Each factory returns an object satisfying ``ffe_core.ports.providers.DecisionProvider``.
    Enabled by listing the name in ``providers.enabled``. Capabilities: ``WithCircuit`` (its
    breaker shows on ``/health``), ``Closable`` (``ffe_core.ports.capabilities``).
    """


@hookspec
def ffe_brokers() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Brokers by name (``paper``, ``coinbase``, ``oanda``).

    Each factory returns an ``ffe_core.ports.brokers.Broker`` (declaring its ``venue``); chosen
    by ``trading.broker``. Capabilities: ``ffe_core.ports.brokers.MarketDrivenVenue`` (a
    simulated venue filling resting orders when told to look at the market) and ``QuotedFills``
    (a venue telling the quote each order filled against, for the parity shadow).
    """


@hookspec
def ffe_market_data_sources() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Market data sources by name (``bundled``, ``synthetic``, ``alphavantage`` ...).

    Each factory returns an ``ffe_core.ports.market_data.MarketDataSource``; the chain used is
    ``market_data.sources``, in order. Capability: ``CachePolicy`` (``cacheable = False``: read
    directly, never through the cache).
    """


@hookspec
def ffe_storage_backends() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Storage backends by URL scheme family: ``storage.url`` = ``postgresql+asyncpg://...``
    chooses ``postgresql`` (the part before ``+``); built-ins ``sqlite`` and ``postgresql``.

    Each factory returns an ``ffe_core.ports.storage.StorageBackend`` (``uow_factory``,
    ``migrate``, ``current_revision``, ``ping``, ``write_check``, ``close``); it reads the URL
    from ``context.core.storage`` and its options from ``adapters.<scheme>``.
    """


@hookspec
def ffe_caches() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Caches by name (``memory``, ``redis``, ``none``), chosen by ``market_data.cache.backend``;
    each returns an ``ffe_core.ports.market_data.Cache``. Capabilities: ``Pingable`` (``/health``
    reports it; a failure degrades), ``Closable``."""


@hookspec
def ffe_notifiers() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Notifiers by name (``log``, ``telegram``), every one in ``notify.notifiers`` is built;
    each returns an ``ffe_core.ports.notify.Notifier`` (``Verifiable``: its credentials are
    checked with its upstream at start-up; ``Closable``)."""


@hookspec
def ffe_approval_channels() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Approval channels by name, every one in ``notify.approval_channels`` is built; each
    returns an ``ffe_core.ports.notify.ApprovalChannel`` (``Verifiable``, ``Closable``)."""


@hookspec
def ffe_inbound_channels() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Inbound channels by name (``telegram``), every one in ``notify.inbound`` is built with
    ``context.control``; each returns an ``ffe_core.ports.capabilities.InboundChannel``
    (``Verifiable``)."""


@hookspec
def ffe_leases() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Leader leases by name (``storage``, ``none``), chosen by ``agent.lease``; each factory gets
    ``context.storage`` and returns an ``ffe_core.ports.lease.LeaderLease`` or None (a single
    process needs no lease)."""


@hookspec
def ffe_metrics_exporters() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Metrics exporters by name (``prometheus``, ``none``), chosen by ``monitoring.metrics``;
    each returns an ``ffe_core.ports.metrics.Metrics``. Its factory gets no metrics itself."""


@hookspec
def ffe_tracers() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Tracers by name (``otlp``), chosen by ``monitoring.tracing``; each returns a
    ``ffe_core.ports.tracing.Tracer``, which wraps services to record spans."""


@hookspec
def ffe_compute_backends() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Compute backends by name (``local``, ``dask``) for parameter searches, chosen by
    ``backtests.compute`` or ``ffe optimize --compute NAME``; each returns an
    ``ffe_core.ports.compute.ComputeBackend``."""


@hookspec
def ffe_strategies() -> Mapping[str, Strategy]:  # type: ignore[empty-body]
    """Backtest signal strategies by name (``sma_cross`` ...), as plain functions, not factories.

    A strategy takes numpy arrays ``open, high, low, close, volume`` plus keyword parameters and
    returns an int8 array of target positions per bar (1 long, -1 short, 0 flat).
    """


@hookspec
def ffe_order_strategies() -> Mapping[str, CompiledStrategy | type[OrderStrategy]]:  # type: ignore[empty-body]
    """Order-level backtest strategies by name (``sma_bracket`` ...): ``CompiledStrategy``
    objects or ``Strategy`` subclasses (``OrderStrategy`` here) from
    ``ffe_core.backtest.orders``, not factories.

    They place orders bar by bar (limit/stop entries, SL/TP, trailing stops, partial closes);
    ``ffe backtest --strategy NAME`` runs them through the compiled order broker.
    """


KINDS: dict[str, str] = {
    "ffe_decision_providers": "decision_providers",
    "ffe_brokers": "brokers",
    "ffe_market_data_sources": "market_data",
    "ffe_storage_backends": "storage",
    "ffe_caches": "caches",
    "ffe_notifiers": "notifiers",
    "ffe_approval_channels": "approval_channels",
    "ffe_inbound_channels": "inbound_channels",
    "ffe_leases": "leases",
    "ffe_metrics_exporters": "metrics",
    "ffe_tracers": "tracers",
    "ffe_compute_backends": "compute",
    "ffe_strategies": "strategies",
    "ffe_order_strategies": "order_strategies",
}
"""Hook name -> registry kind. Every hookspec above appears here (a test checks it)."""
