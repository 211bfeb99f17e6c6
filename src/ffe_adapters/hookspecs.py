"""The plugin contract of ffe: a plugin author's manual.

A plugin is any module or object with functions marked ``@hookimpl``; built-in adapters and
third-party packages are loaded the same way. Third parties declare an entry point in the group
``ffe``::

    [project.entry-points.ffe]
    my_plugin = "my_package.plugin"

Every hook returns ``{name: factory}``. A factory is called later, by the container, with an
:class:`AdapterContext` and returns the live adapter; hooks themselves never open connections.
Names must be unique per kind across all plugins: a duplicate is reported (naming both plugins)
and the first registration is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from ffe_core.config import Settings
from ffe_core.ports.clock import Clock, SystemClock
from ffe_core.ports.market_data import Cache, MarketDataSource
from ffe_core.ports.metrics import Metrics, NullMetrics
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.scrubbing import SecretScrubber

PROJECT_NAME = "ffe"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@dataclass(frozen=True)
class AdapterContext:
    """What a factory receives: validated settings, its own options, and shared services.

    ``options`` is ``settings.adapters[name]`` (an empty dict when absent); an adapter validates
    it with its own pydantic model. Services an adapter does not need may be None.
    ``scrubber`` masks every configured secret: text from an upstream (error bodies, model
    answers) passes through it before it is returned, logged or stored; an adapter that reads a
    key from elsewhere (its SDK's environment variable) adds it with ``scrubber.add``.
    """

    name: str
    settings: Settings
    options: Mapping[str, Any] = field(default_factory=dict)
    clock: Clock = field(default_factory=SystemClock)
    metrics: Metrics = field(default_factory=NullMetrics)
    uow_factory: UnitOfWorkFactory | None = None
    market_data: MarketDataSource | None = None
    cache: Cache | None = None
    scrubber: SecretScrubber = field(default_factory=SecretScrubber)


Factory = Callable[[AdapterContext], Any]
"""Builds one adapter from its context. May be a class or a function."""

Strategy = Callable[..., Any]
"""A backtest signal function: ``(open, high, low, close, volume, **params) -> signals``."""


@hookspec
def ffe_decision_providers() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Decision providers by name (``trend``, ``anthropic`` ...).

    Each factory returns an object satisfying ``ffe_core.ports.providers.DecisionProvider``.
    Enabled by listing the name in ``providers.enabled``.
    """


@hookspec
def ffe_brokers() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Brokers by name (``paper``, ``coinbase``, ``oanda``).

    Each factory returns an ``ffe_core.ports.brokers.Broker``; chosen by ``trading.broker``.
    """


@hookspec
def ffe_market_data_sources() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Market data sources by name (``bundled``, ``synthetic``, ``alphavantage`` ...).

    Each factory returns an ``ffe_core.ports.market_data.MarketDataSource``; the chain used is
    ``market_data.sources``, in order.
    """


@hookspec
def ffe_storage_backends() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Storage backends by URL scheme family (``sql`` handles ``sqlite`` and ``postgresql``).

    Each factory returns an object with ``uow_factory`` (an ``ffe_core.ports.storage``
    ``UnitOfWorkFactory``), ``async migrate()``, ``async ping()``, ``async write_check()``
    (raises unless the database takes a write now; ``/health`` and ``/ready`` rely on it) and
    ``async close()``.
    """


@hookspec
def ffe_caches() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Caches by name (``memory``, ``redis``); each returns an ``ffe_core.ports.market_data.Cache``."""


@hookspec
def ffe_notifiers() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Notifiers by name (``log``, ``telegram``); each returns an ``ffe_core.ports.notify.Notifier``."""


@hookspec
def ffe_approval_channels() -> Mapping[str, Factory]:  # type: ignore[empty-body]
    """Approval channels by name; each returns an ``ffe_core.ports.notify.ApprovalChannel``."""


@hookspec
def ffe_strategies() -> Mapping[str, Strategy]:  # type: ignore[empty-body]
    """Backtest signal strategies by name (``sma_cross`` ...), as plain functions, not factories.

    A strategy takes numpy arrays ``open, high, low, close, volume`` plus keyword parameters and
    returns an int8 array of target positions per bar (1 long, -1 short, 0 flat).
    """


KINDS: dict[str, str] = {
    "ffe_decision_providers": "decision_providers",
    "ffe_brokers": "brokers",
    "ffe_market_data_sources": "market_data",
    "ffe_storage_backends": "storage",
    "ffe_caches": "caches",
    "ffe_notifiers": "notifiers",
    "ffe_approval_channels": "approval_channels",
    "ffe_strategies": "strategies",
}
"""Hook name -> registry kind. Every hookspec above appears here (a test checks it)."""
