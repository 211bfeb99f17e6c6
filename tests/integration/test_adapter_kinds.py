"""Every hook's adapters behave as the hook documents, each built by its registered factory from
an AdapterContext (``test_plugin_hooks_have_tests`` asks for one ``test_hook_<hook>`` per hook
that builds through the registry; the inbound channel's is in tests/adapters/telegram)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.registry import Registry, load_registry
from ffe_adapters.storage.memory import InMemoryUnitOfWorkFactory
from ffe_core.backtest.orders import CompiledStrategy
from ffe_core.config import CoreView, MonitoringSettings, Settings
from ffe_core.domain.approvals import Approval
from ffe_core.domain.decisions import Action
from ffe_core.domain.errors import ConfigError
from ffe_core.domain.orders import Order, OrderStatus, Side
from ffe_core.ports.brokers import Broker, VenueKind
from ffe_core.ports.clock import ManualClock
from ffe_core.ports.compute import ComputeBackend
from ffe_core.ports.market_data import Cache, MarketDataSource
from ffe_core.ports.metrics import Metrics, NullMetrics
from ffe_core.ports.notify import ApprovalChannel, EventKind, Notification, Notifier
from ffe_core.ports.providers import DecisionProvider
from ffe_core.ports.storage import StorageBackend
from tests.adapters.llm.llm_fakes import make_context
from tests.conftest import open_sql_storage

NOW = datetime(2026, 12, 7, 14, 0, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(entry_points=False)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_hook_ffe_leases(registry: Registry, kind: str, tmp_path: Path) -> None:
    """``storage`` leases PostgreSQL (several processes may share it) and grants one holder at a
    time (rivalry between processes: tests/e2e/test_multi_instance.py); SQLite is one process's, so no lease; ``none`` never leases."""
    async with open_sql_storage(kind, tmp_path) as storage:
        assert isinstance(storage, StorageBackend)
        ctx = AdapterContext(name="storage", storage=storage, core=CoreView(lease_ttl_seconds=5))
        lease = registry.factory("leases", "storage")(ctx)
        assert registry.factory("leases", "none")(ctx) is None
        if kind == "sqlite":
            assert lease is None
            return
        grant = await lease.acquire()
        assert grant is not None and await lease.is_current(grant.token)
        assert grant.expires_at > 0
        await lease.release(grant.token)
        assert not await lease.is_current(grant.token)


def test_hook_ffe_metrics_exporters(registry: Registry) -> None:
    """``prometheus`` counts into the registry ``/metrics`` serves; ``none`` records nothing."""
    sample = {"action": "BUY"}
    before = REGISTRY.get_sample_value("ffe_decisions_total", sample) or 0.0
    metrics = registry.factory("metrics", "prometheus")(AdapterContext(name="prometheus"))
    assert isinstance(metrics, Metrics)
    metrics.decision_made("BUY", 0.2)
    assert REGISTRY.get_sample_value("ffe_decisions_total", sample) == before + 1
    assert isinstance(registry.factory("metrics", "none")(AdapterContext(name="none")), NullMetrics)


def test_hook_ffe_tracers(registry: Registry) -> None:
    """``otlp`` gives a tracer provider when monitoring is on (None when off: nothing wrapped)."""
    build = registry.factory("tracers", "otlp")
    assert build(AdapterContext(name="otlp")) is None
    on = CoreView(monitoring=MonitoringSettings(enabled=True, service_name="ffe-kinds"))
    provider = build(AdapterContext(name="otlp", core=on))
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("test").start_as_current_span("decision"):
        pass
    [span] = exporter.get_finished_spans()
    assert span.name == "decision"
    assert span.resource.attributes["service.name"] == "ffe-kinds"


def test_hook_ffe_compute_backends(registry: Registry) -> None:
    """``local`` lends no executor (the search's own pool); ``dask`` validates its options."""
    local = registry.factory("compute", "local")(AdapterContext(name="local"))
    assert isinstance(local, ComputeBackend)
    with local.executor() as executor:
        assert executor is None
    dask = registry.factory("compute", "dask")(
        AdapterContext(name="dask", options={"address": "tcp://127.0.0.1:8786", "workers": 2})
    )
    assert isinstance(dask, ComputeBackend)
    with pytest.raises(ConfigError, match=r"adapters\.dask\.workers"):
        registry.factory("compute", "dask")(AdapterContext(name="dask", options={"workers": 0}))


async def test_hook_ffe_storage_backends(registry: Registry, tmp_path: Path) -> None:
    """``sqlite`` (the scheme family of ``storage.url``) migrates, takes a write and keeps what
    a unit of work committed."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}"
    core = CoreView.of(Settings.model_validate({"storage": {"url": url}}))
    storage = registry.factory("storage", "sqlite")(AdapterContext(name="sqlite", core=core))
    assert isinstance(storage, StorageBackend)
    try:
        await storage.migrate()
        assert await storage.current_revision() is not None
        await storage.write_check()
        async with storage.uow_factory() as uow:
            await uow.state.put("hook", {"kept": "yes"})
            await uow.commit()
        async with storage.uow_factory() as uow:
            assert await uow.state.get("hook") == {"kept": "yes"}
    finally:
        await storage.close()


async def test_hook_ffe_caches(registry: Registry) -> None:
    """``memory`` keeps bytes until their TTL; ``none`` keeps nothing."""
    clock = ManualClock(NOW)
    memory = registry.factory("caches", "memory")(AdapterContext(name="memory", clock=clock))
    none = registry.factory("caches", "none")(AdapterContext(name="none", clock=clock))
    for cache in (memory, none):
        assert isinstance(cache, Cache)
        await cache.set("k", b"v", 60)
    assert await memory.get("k") == b"v"
    assert await none.get("k") is None


async def test_hook_ffe_notifiers(registry: Registry, caplog: pytest.LogCaptureFixture) -> None:
    """``log`` writes every notification to the ``ffe.notify`` logger."""
    notifier = registry.factory("notifiers", "log")(AdapterContext(name="log"))
    assert isinstance(notifier, Notifier)
    with caplog.at_level(logging.INFO, logger="ffe.notify"):
        await notifier.notify(Notification(kind=EventKind.AGENT, title="hook says hi"))
    assert any("hook says hi" in r.getMessage() for r in caplog.records)


async def test_hook_ffe_approval_channels(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    """``log`` shows a pending approval (and leaves it pending for a person to answer)."""
    channel = registry.factory("approval_channels", "log")(AdapterContext(name="log"))
    assert isinstance(channel, ApprovalChannel)
    approval = Approval(
        id="appr-hook",
        decision_id="d1",
        instrument="BTC-USD",
        summary="BUY 0.01 BTC-USD",
        created_at=NOW,
        expires_at=NOW.replace(minute=5),
    )
    with caplog.at_level(logging.INFO, logger="ffe.notify"):
        shown = await channel.request_approval(approval)
    assert shown.id == "appr-hook" and shown.status == approval.status
    assert any("appr-hook" in r.getMessage() for r in caplog.records)


async def test_hook_ffe_market_data_sources(registry: Registry) -> None:
    """``bundled`` and ``synthetic`` answer closed, ascending bars within the limit."""
    clock = ManualClock(NOW)
    core = CoreView.of(Settings())
    instrument = core.instrument("BTC-USD")
    assert instrument is not None
    for name in ("bundled", "synthetic"):
        source = registry.factory("market_data", name)(AdapterContext(name=name, clock=clock))
        assert isinstance(source, MarketDataSource)
        bars = await source.get_bars(instrument, "1h", limit=30)
        assert 0 < len(bars) <= 30
        assert [b.ts for b in bars] == sorted(b.ts for b in bars)
        assert bars[-1].ts <= NOW


async def test_hook_ffe_brokers(registry: Registry) -> None:
    """``paper`` (a simulated venue) fills a market order on its market data at once."""
    clock = ManualClock(NOW)
    source = registry.factory("market_data", "bundled")(AdapterContext(name="bundled", clock=clock))
    ctx = AdapterContext(
        name="paper",
        core=CoreView.of(Settings()),
        clock=clock,
        uow_factory=InMemoryUnitOfWorkFactory(),
        market_data=source,
        options={"market_fill": "quote"},
    )
    broker = registry.factory("brokers", "paper")(ctx)
    assert isinstance(broker, Broker) and broker.venue is VenueKind.SIMULATED
    order = Order(
        client_order_id="hook-1", instrument="BTC-USD", side=Side.BUY, quantity=Decimal("0.01")
    )
    placed = await broker.submit_order(order)
    assert placed.status is OrderStatus.FILLED
    assert [f.client_order_id for f in await broker.list_fills()] == ["hook-1"]


async def test_hook_ffe_decision_providers(registry: Registry) -> None:
    """``trend`` votes BUY when prices compound 1% a bar, with its own name and a reason."""
    provider = registry.factory("decision_providers", "trend")(AdapterContext(name="trend"))
    assert isinstance(provider, DecisionProvider)
    context = make_context(n=120)
    rising = tuple(
        bar.model_copy(update={"open": p, "high": p * 1.002, "low": p * 0.998, "close": p})
        for i, bar in enumerate(context.bars)
        for p in [100 * 1.01**i]
    )
    vote = await provider.vote(context.model_copy(update={"bars": rising}))
    assert vote.provider == "trend" and not vote.abstained
    assert vote.action is Action.BUY and vote.reasoning


def test_hook_ffe_strategies(registry: Registry) -> None:
    """``sma_cross`` maps price arrays to one int8 target position per bar: long once the fast
    average crosses above the slow one (a fall, then a rise)."""
    strategy = registry.factory("strategies", "sma_cross")
    close = np.r_[np.linspace(200.0, 100.0, 60), np.linspace(100.0, 200.0, 60)]
    signals = strategy(close, close, close, close, np.ones(120))
    assert signals.dtype == np.int8 and len(signals) == 120
    assert set(np.unique(signals)) <= {-1, 0, 1} and signals[-1] == 1


def test_hook_ffe_order_strategies(registry: Registry) -> None:
    """``sma_bracket`` is a compiled order-level strategy with its parameters' defaults."""
    strategy = registry.factory("order_strategies", "sma_bracket")
    assert isinstance(strategy, CompiledStrategy)
    assert strategy.defaults
