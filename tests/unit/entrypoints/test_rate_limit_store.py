"""The rate-limit store: Redis while it answers quickly, memory while it does not, Redis again
once it recovers; one warning per outage."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from ffe_entrypoints.api.ratelimit import FallbackStore
from ffe_entrypoints.services.health import Degraded, HealthService


class FakeRedis(Store):
    """A store that can be down (raises), slow (hangs) or up; counts the calls it receives."""

    def __init__(self) -> None:
        self.data = MemoryStore()
        self.mode = "up"
        self.calls = 0

    async def _enter(self) -> None:
        self.calls += 1
        if self.mode == "down":
            raise ConnectionError("connection refused")
        if self.mode == "slow":
            await asyncio.sleep(60)

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        await self._enter()
        await self.data.set(key, value, expires_in)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        await self._enter()
        return await self.data.get(key, renew_for)

    async def delete(self, key: str) -> None:
        await self._enter()
        await self.data.delete(key)

    async def delete_all(self) -> None:
        await self._enter()
        await self.data.delete_all()

    async def exists(self, key: str) -> bool:
        await self._enter()
        return await self.data.exists(key)

    async def expires_in(self, key: str) -> int | None:
        await self._enter()
        return await self.data.expires_in(key)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def fallback(redis: FakeRedis, clock: Clock) -> FallbackStore:
    return FallbackStore(redis, timeout=0.05, retry_seconds=10, now=clock)


async def test_values_live_in_redis_while_it_answers() -> None:
    redis, clock = FakeRedis(), Clock()
    store = fallback(redis, clock)
    await store.set("k", b"v", 60)
    assert await redis.data.get("k") == b"v"
    assert await store.get("k") == b"v"
    assert not store.degraded
    await store.check()


async def test_a_dead_redis_falls_back_to_memory_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    redis, clock = FakeRedis(), Clock()
    redis.mode = "down"
    store = fallback(redis, clock)
    with caplog.at_level(logging.WARNING, logger="ffe.api.ratelimit"):
        for _ in range(5):
            await store.set("k", b"v", 60)
            assert await store.get("k") == b"v"  # counted in memory meanwhile
    assert store.degraded
    assert redis.calls == 1  # skipped until the retry interval has passed
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "keeping rate limits in memory" in warnings[0].getMessage()
    with pytest.raises(Degraded, match="ConnectionError"):
        await store.check()


async def test_a_silent_redis_costs_at_most_the_timeout_once() -> None:
    redis, clock = FakeRedis(), Clock()
    redis.mode = "slow"
    store = fallback(redis, clock)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(20):
        await store.get("k")
    assert loop.time() - started < 0.5
    assert redis.calls == 1
    assert store.degraded and "TimeoutError" in (store.last_error or "")


async def test_redis_is_used_again_after_it_recovers() -> None:
    redis, clock = FakeRedis(), Clock()
    redis.mode = "down"
    store = fallback(redis, clock)
    await store.get("k")
    redis.mode = "up"
    clock.t += 5
    await store.set("k", b"memory", 60)  # still within the retry interval
    assert await redis.data.get("k") is None
    clock.t += 6
    await store.set("k", b"redis", 60)
    assert await redis.data.get("k") == b"redis"
    assert not store.degraded
    await store.check()


async def test_the_health_check_probes_and_reports_recovery() -> None:
    redis, clock = FakeRedis(), Clock()
    redis.mode = "down"
    store = fallback(redis, clock)
    await store.get("k")
    health = HealthService({"rate_limit_store": store.check}, lambda: [], "paper")
    report = await health.report()
    assert report["components"]["rate_limit_store"]["status"] == "degraded"
    assert report["status"] == "degraded"
    redis.mode = "up"
    clock.t += 11
    assert (await health.report())["components"]["rate_limit_store"]["status"] == "ok"
    assert not store.degraded


async def test_without_redis_the_store_is_memory_and_healthy() -> None:
    store = FallbackStore(None)
    await store.set("k", b"v", 60)
    assert await store.get("k") == b"v"
    assert not store.degraded
    await store.check()


async def test_a_window_is_a_count_not_a_history() -> None:
    """The limiter keeps a window's count and reset time: the stored value does not grow with
    the requests made (Litestar's history of timestamps did, and every request re-read it), the
    (limit + 1)th request of a window is refused, and the window resets."""
    from litestar import Litestar, get
    from litestar.testing import AsyncTestClient

    from ffe_entrypoints.api.ratelimit import rate_limit_config

    @get("/ping", sync_to_thread=False)
    def ping() -> str:
        return "pong"

    written: list[bytes] = []

    class Recording(MemoryStore):
        async def set(
            self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
        ) -> None:
            written.append(value if isinstance(value, bytes) else value.encode())
            await super().set(key, value, expires_in)

    config = rate_limit_config(50)
    app = Litestar([ping], middleware=[config.middleware], stores={"rate_limit": Recording()})
    async with AsyncTestClient(app) as client:
        for _ in range(50):
            assert (await client.get("/ping")).status_code == 200
        refused = await client.get("/ping")
    assert refused.status_code == 429
    assert refused.headers["ratelimit-remaining"] == "0"
    assert len(written) == 50
    sizes = [len(v) for v in written]
    assert max(sizes) - min(sizes) <= 1  # "count":9 -> "count":50: a digit, not 49 entries
    assert b'"count":50' in written[-1]
