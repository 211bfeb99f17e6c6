"""The agent's gauges move while it trades: ffe_agent_running, ffe_portfolio_equity,
ffe_drawdown_ratio and ffe_last_decision_timestamp_seconds (the alerts and the Grafana panels
read them), read from the Prometheus registry and from the API's /metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient
from prometheus_client import CollectorRegistry

from ffe_adapters.telemetry.prometheus import PrometheusMetrics
from ffe_entrypoints.api.app import create_app
from ffe_entrypoints.container import Container
from ffe_entrypoints.lifecycle import shutdown, startup
from tests.unit.agent.test_agent_lifecycle import make, wait_until

GAUGES = (
    "ffe_agent_running",
    "ffe_portfolio_equity",
    "ffe_drawdown_ratio",
    "ffe_last_decision_timestamp_seconds",
)


@pytest.fixture
async def metered(tmp_path: Path) -> AsyncIterator[tuple[Container, CollectorRegistry]]:
    registry = CollectorRegistry()
    container = make(tmp_path)
    container.metrics.override(providers.Object(PrometheusMetrics(registry)))
    await startup(container)
    yield container, registry
    await container.control().stop_agent("test")
    await shutdown(container)


def read(registry: CollectorRegistry) -> dict[str, float]:
    return {name: registry.get_sample_value(name) or 0.0 for name in GAUGES}


async def _cycled(container: Container, n: int) -> bool:
    return bool((await container.control().agent_status()).cycles >= n)


async def test_every_gauge_moves_while_the_agent_trades_and_running_drops_on_stop(
    metered: tuple[Container, CollectorRegistry],
) -> None:
    container, registry = metered
    assert read(registry) == dict.fromkeys(GAUGES, 0.0)
    # The account's peak "was" 120k; paper equity is 100k: a 16.7 % drawdown (kill switch at 20 %).
    container.risk_manager().update_equity(Decimal("120000"), container.clock().now())
    control = container.control()
    await control.start_agent("test")
    await wait_until(lambda: _cycled(container, 2))
    await asyncio.sleep(0.2)  # let the pass finish: equity is marked after the cycles
    now = read(registry)
    assert now["ffe_agent_running"] == 1.0
    assert now["ffe_portfolio_equity"] == pytest.approx(100_000, rel=0.01)
    assert now["ffe_drawdown_ratio"] == pytest.approx(1 - 100_000 / 120_000, abs=0.01)
    assert now["ffe_drawdown_ratio"] == pytest.approx(
        float(container.risk_manager().state.drawdown), abs=0.005
    )
    assert time.time() - now["ffe_last_decision_timestamp_seconds"] < 30
    await control.stop_agent("test")
    assert read(registry)["ffe_agent_running"] == 0.0


async def test_running_drops_when_the_kill_switch_stops_the_agent(
    metered: tuple[Container, CollectorRegistry],
) -> None:
    container, registry = metered
    container.risk_manager().update_equity(Decimal("1000000"), container.clock().now())
    control = container.control()
    await control.start_agent("test")
    await wait_until(lambda: _stopped(container))
    after = read(registry)
    assert after["ffe_agent_running"] == 0.0
    assert after["ffe_drawdown_ratio"] == pytest.approx(0.9, abs=0.01)


async def _stopped(container: Container) -> bool:
    return (await container.control().agent_status()).state.value == "stopped"


def scraped(text: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in GAUGES:
            values[name] = float(value)
    return values


async def test_metrics_endpoint_shows_the_agent_running_then_stopped(tmp_path: Path) -> None:
    container = make(tmp_path)
    async with AsyncTestClient(create_app(container, start_agent=False)) as client:
        assert (await client.post("/api/bot/start")).status_code == 200

        async def cycled() -> Any:
            return (await client.get("/api/bot/status")).json()["cycles"] >= 2

        await wait_until(cycled)
        await asyncio.sleep(0.2)
        running = scraped((await client.get("/metrics")).text)
        assert running["ffe_agent_running"] == 1.0
        assert running["ffe_portfolio_equity"] == pytest.approx(100_000, rel=0.01)
        assert running["ffe_last_decision_timestamp_seconds"] > time.time() - 30
        await client.post("/api/bot/stop")
        assert scraped((await client.get("/metrics")).text)["ffe_agent_running"] == 0.0
