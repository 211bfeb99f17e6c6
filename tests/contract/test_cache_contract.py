"""The Cache port's contract, run by every built-in cache and the example plugin's.

What market data, the vote cache and the rate limiter rely on: a miss is None, a value comes back
byte for byte until its TTL passes, ``ttl <= 0`` stores nothing, and a cache whose server is down
or hangs degrades to misses within its timeout — never an error, never a stall per call.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.exceptions import RedisError

from ffe_core.ports.capabilities import Closable, Pingable
from ffe_core.ports.market_data import Cache
from tests.contract.caches import (
    CACHES,
    Built,
    build,
    cache,
    redis_reachable_at,
    redis_up,
    unreachable_redis,
)
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(30)

BINARY = bytes(range(256)) * 4
"""Every byte value: what a cache stores is opaque bytes, not text."""


@pytest.fixture(params=CACHES)
async def on(request: pytest.FixtureRequest) -> AsyncIterator[Built]:
    async with cache(request.param) as built:
        yield built


async def test_declares_the_port_and_can_be_closed(on: Built) -> None:
    assert isinstance(on.cache, Cache)
    assert isinstance(on.cache, Closable)


async def test_a_key_never_set_is_a_miss(on: Built) -> None:
    assert await on.cache.get("contract:never-set") is None


async def test_a_value_comes_back_byte_for_byte_and_keys_are_independent(on: Built) -> None:
    await on.cache.set("contract:a", BINARY, 60)
    await on.cache.set("contract:b", b"second", 60)
    await on.cache.set("contract:b", b"overwritten", 60)
    expected = (BINARY, b"overwritten") if on.remembers else (None, None)
    assert (await on.cache.get("contract:a"), await on.cache.get("contract:b")) == expected


async def test_a_value_expires_after_its_ttl_and_others_stay(on: Built) -> None:
    await on.cache.set("contract:short", b"short", 0.05)
    await on.cache.set("contract:long", b"long", 60)
    on.clock.advance(1)  # a cache on the context's clock; the others see real time pass
    await wait_until(
        lambda: _missing(on.cache, "contract:short"), f"{on.name}: the short key to expire"
    )
    assert await on.cache.get("contract:long") == (b"long" if on.remembers else None)


async def test_a_ttl_of_zero_stores_nothing_and_drops_the_key(on: Built) -> None:
    await on.cache.set("contract:k", b"old", 60)
    await on.cache.set("contract:k", b"new", 0)
    await on.cache.set("contract:never", b"v", -1)
    assert await on.cache.get("contract:k") is None
    assert await on.cache.get("contract:never") is None


async def _missing(c: Cache, key: str) -> bool:
    return await c.get(key) is None


# --- redis: degrades when its server is down or hangs ----------------------------------------

TIMEOUT = 0.2


@pytest.mark.parametrize("kind", ["down", "hangs"])
async def test_redis_degrades_to_misses_within_its_timeout_warning_once(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    with unreachable_redis(kind) as url:
        options = {"url": url, "socket_timeout_seconds": TIMEOUT, "retry_interval_seconds": 0}
        redis = build("redis", options).cache
        with caplog.at_level(logging.WARNING, logger="ffe_adapters.cache.redis"):
            for _ in range(2):
                started = time.perf_counter()
                await redis.set("k", b"v", 10)
                assert await redis.get("k") is None
                assert time.perf_counter() - started < 10 * TIMEOUT  # bounded, not stalled
        await redis.close()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "continuing without cache" in warnings[0].getMessage()


@pytest.mark.parametrize("kind", ["down", "hangs"])
async def test_redis_skips_calls_after_a_failure_and_health_sees_it(kind: str) -> None:
    with unreachable_redis(kind) as url:
        options = {"url": url, "socket_timeout_seconds": TIMEOUT, "retry_interval_seconds": 60}
        redis = build("redis", options).cache
        assert await redis.get("k") is None  # the one call that waits for the timeout
        started = time.perf_counter()
        for _ in range(20):
            assert await redis.get("k") is None
            await redis.set("k", b"v", 10)
        assert time.perf_counter() - started < TIMEOUT  # skipped: no call waits any more
        assert isinstance(redis, Pingable)
        with pytest.raises((RedisError, OSError, TimeoutError)):  # /health reports it
            await redis.ping()
        await redis.close()


@pytest.mark.redis
async def test_redis_is_used_again_once_it_comes_back() -> None:
    if not redis_up():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    with unreachable_redis("down") as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        options = {
            "url": url,
            "key_prefix": f"ffe-contract:{uuid.uuid4()}:",
            "socket_timeout_seconds": TIMEOUT,
            "retry_interval_seconds": 0,
        }
        redis = build("redis", options).cache
        assert await redis.get("k") is None and redis.degraded is False  # interval 0: retry at once
        async with redis_reachable_at(port):

            async def stored() -> bool:
                await redis.set("k", b"back", 10)
                return await redis.get("k") == b"back"

            await wait_until(stored, "the cache to use Redis again")
            await redis.set("k", b"", 0)
        await redis.close()
