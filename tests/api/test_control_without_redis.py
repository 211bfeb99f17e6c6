"""Control outlives optional parts: with Redis dead or silent, the API still answers at once,
the rate limits fall back to memory (one warning, a degraded health component) and the agent
can be stopped and paused; with Redis up, Redis is the rate-limit store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import AsyncTestClient

from ffe_core.config import Settings
from ffe_core.domain.agent import AgentState
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_entrypoints.api.ratelimit import HEALTH_COMPONENT, SHARED_STORE
from ffe_entrypoints.container import Container
from tests.api.conftest import api_settings, client_from, serving
from tests.api.test_security import PUBLIC_PATHS, concrete, endpoints
from tests.conftest import REDIS_URL, require_redis
from tests.waiting import wait_until

Client = AsyncTestClient[Litestar]
CONTROL_BUDGET = 1.0  # seconds for stop / pause / start
ROUTE_BUDGET = 1.0  # seconds for any protected route
DECISION_BUDGET = 1.5  # a real decision: the cache's own 0.5 s Redis timeout once, then the work


class AlwaysBuy:
    """A deterministic provider, so that every cycle wants to trade."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def vote(self, context: DecisionContext) -> ProviderVote:
        return ProviderVote(
            provider=self.name, action=Action.BUY, confidence=0.9, reasoning="test: always buy"
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def silent_redis() -> AsyncIterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections, reads, and never answers."""
    writers: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        with contextlib.suppress(Exception):
            while await reader.read(65536):
                pass

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        for writer in writers:
            writer.close()
        server.close()


def redis_settings(tmp_path: Path, url: str, **overrides: Any) -> Settings:
    return api_settings(
        tmp_path,
        market_data={"cache": {"backend": "redis"}},
        agent={"instruments": ["BTC-USD"], "interval_seconds": 0.05},
        adapters={"paper": {"market_fill": "quote"}, "redis": {"url": url}},
        **overrides,
    )


def buyers(container: Container) -> None:
    container.decision_providers.override(
        providers.Object({"a": AlwaysBuy("a"), "b": AlwaysBuy("b")})
    )


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def recording(name: str) -> Iterator[Records]:
    """Records of logger ``name`` (attached after the lifespan configured logging)."""
    handler = Records()
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


async def timed(client: Client, method: str, path: str, **kwargs: Any) -> tuple[Any, float]:
    started = time.monotonic()
    response = await client.request(method, path, **kwargs)
    return response, time.monotonic() - started


async def order_count(container: Container) -> int:
    async with container.uow_factory()() as uow:
        return len(await uow.orders.list())


async def wait_for_orders(container: Container, more_than: int, seconds: float = 15.0) -> int:
    deadline = time.monotonic() + seconds
    while (count := await order_count(container)) <= more_than:
        assert time.monotonic() < deadline, "the agent placed no order"
        await asyncio.sleep(0.05)
    return count


async def idle(container: Container) -> bool:
    """Paused with no cycle under way (a cycle under way at the pause finishes an order being
    sent; no new cycle starts while paused)."""
    status = await container.control().agent_status()
    return status.state is AgentState.PAUSED and status.current_phase in (None, "done", "failed")


async def assert_no_new_orders(container: Container, seconds: float = 0.6) -> None:
    before = await order_count(container)
    await asyncio.sleep(seconds)
    assert await order_count(container) == before, "an order was placed after the agent stopped"


# (a) Redis configured where nothing listens -------------------------------------------------


async def test_stop_and_pause_answer_at_once_when_redis_is_dead(tmp_path: Path) -> None:
    settings = redis_settings(tmp_path, f"redis://127.0.0.1:{free_port()}/0")
    async with serving(settings, buyers) as (client, container):
        with recording("ffe.api.ratelimit") as log:
            started, elapsed = await timed(client, "POST", "/api/bot/start")
            assert started.status_code == 200, started.text
            assert elapsed < CONTROL_BUDGET
            traded = await wait_for_orders(container, 0)

            stopped, elapsed = await timed(client, "POST", "/api/bot/stop")
            assert stopped.status_code == 200, stopped.text
            assert stopped.json()["state"] == "stopped"
            assert elapsed < CONTROL_BUDGET
            assert await order_count(container) >= traded
            await assert_no_new_orders(container)

            assert (await client.post("/api/bot/start")).status_code == 200
            paused, elapsed = await timed(client, "POST", "/api/bot/pause")
            assert paused.status_code == 200, paused.text
            assert paused.json()["state"] == "paused"
            assert elapsed < CONTROL_BUDGET
            await wait_until(lambda: idle(container), "the cycle under way at the pause ended")
            await assert_no_new_orders(container)
            resumed, elapsed = await timed(client, "POST", "/api/bot/resume")
            assert resumed.status_code == 200 and elapsed < CONTROL_BUDGET
            reset, elapsed = await timed(client, "POST", "/api/bot/kill-switch/reset")
            assert reset.status_code == 200 and elapsed < CONTROL_BUDGET
            stopped, elapsed = await timed(client, "POST", "/api/bot/stop")
            assert stopped.status_code == 200 and elapsed < CONTROL_BUDGET

            # the routes that do use the shared store fall back to memory, limits still apply
            listed = await client.get("/api/v1/orders")
            assert listed.status_code == 200
            assert "ratelimit-remaining" in listed.headers
            for _ in range(3):
                assert (await client.get("/api/v1/instruments")).status_code == 200
        warnings = [r for r in log.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert "keeping rate limits in memory" in warnings[0].getMessage()

        health = (await client.get("/health")).json()
        component = health["components"][HEALTH_COMPONENT]
        assert component["status"] == "degraded"
        assert "in memory" in component["detail"]
        assert health["status"] != "ok"


async def test_rate_limits_still_apply_while_redis_is_dead(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    async with serving(redis_settings(tmp_path, url, api={"rate_limit_per_minute": 2})) as (
        client,
        _,
    ):
        codes = [(await client.get("/api/v1/instruments")).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        stops = [(await client.post("/api/bot/stop")).status_code for _ in range(3)]
        assert stops == [200, 200, 429]  # control budgets are kept in memory, and kept


# (b) a Redis that accepts connections and never answers -------------------------------------


async def test_every_protected_route_answers_promptly_when_redis_is_silent(
    tmp_path: Path,
) -> None:
    async with silent_redis() as port:
        settings = redis_settings(tmp_path, f"redis://127.0.0.1:{port}/0")
        async with serving(settings, buyers) as (client, container):
            slow: list[tuple[str, str, float]] = []
            checked = 0
            for method, template in endpoints(client.app):
                if template in PUBLIC_PATHS:
                    continue
                response, elapsed = await timed(client, method, concrete(template))
                assert response.status_code < 500, (method, template, response.text)
                checked += 1
                if elapsed > ROUTE_BUDGET:
                    slow.append((method, template, round(elapsed, 3)))
            assert checked >= 20
            decision, elapsed = await timed(
                client, "POST", "/api/v1/decisions", json={"instrument": "BTC-USD"}
            )
            assert decision.status_code == 201, decision.text
            if elapsed > DECISION_BUDGET:
                slow.append(("POST", "/api/v1/decisions (a real decision)", round(elapsed, 3)))
            assert not slow, slow

            assert (await client.post("/api/bot/start")).status_code == 200
            await wait_for_orders(container, 0)
            stopped, elapsed = await timed(client, "POST", "/api/bot/stop")
            assert stopped.status_code == 200 and elapsed < CONTROL_BUDGET
            await assert_no_new_orders(container)
            health = (await client.get("/health")).json()
            assert health["components"][HEALTH_COMPONENT]["status"] == "degraded"
            assert "TimeoutError" in health["components"][HEALTH_COMPONENT]["detail"]


# (c) a real Redis ---------------------------------------------------------------------------


@pytest.mark.redis
async def test_a_live_redis_is_the_rate_limit_store(tmp_path: Path) -> None:
    require_redis()
    from redis.asyncio import Redis

    host = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    settings = redis_settings(tmp_path, REDIS_URL, api={"rate_limit_per_minute": 3})
    redis = Redis.from_url(REDIS_URL)
    try:
        async with (
            serving(settings) as (app_client, container),
            client_from(app_client.app, host) as client,
        ):
            codes = [(await client.get("/api/v1/instruments")).status_code for _ in range(4)]
            assert codes == [200, 200, 200, 429]
            assert (await client.post("/api/bot/stop")).status_code == 200
            keys = [k.decode() async for k in redis.scan_iter(match=f"ffe_rate_limit*{host}*")]
            assert keys, "no rate-limit key in Redis"
            assert all("/api/v1/instruments" in k for k in keys), keys  # control ones stay local
            health = (await client.get("/health")).json()
            assert health["components"][HEALTH_COMPONENT] == {"status": "ok", "detail": None}
            # requests ran on this loop, the lifespan runs on the test client's portal: close
            # the live connections here
            await app_client.app.stores.get(SHARED_STORE).aclose()
            await container.cache().close()
    finally:
        stale = [k async for k in redis.scan_iter(match=f"ffe_rate_limit*{host}*")]
        if stale:
            await redis.delete(*stale)
        await redis.aclose()


async def test_without_redis_health_has_no_rate_limit_component(client: Client) -> None:
    assert HEALTH_COMPONENT not in (await client.get("/health")).json()["components"]
