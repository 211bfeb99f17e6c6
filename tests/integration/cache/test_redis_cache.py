from __future__ import annotations

import logging
import socket
import time
import uuid

import pytest
from tests.waiting import wait_until

from ffe_adapters.cache.redis import RedisCache

pytestmark = pytest.mark.redis


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.3):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def cache():
    if not _redis_up():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    redis_cache = RedisCache("redis://127.0.0.1:6379/0", key_prefix=f"ffe-test:{uuid.uuid4()}:")
    yield redis_cache
    keys = [k async for k in redis_cache.client.scan_iter(match=redis_cache.key_prefix + "*")]
    if keys:
        await redis_cache.client.delete(*keys)
    await redis_cache.close()


async def test_round_trip_and_ttl_per_key(cache: RedisCache):
    started = time.monotonic()
    await cache.set("short", b"a", ttl_seconds=0.3)
    await cache.set("long", b"b", ttl_seconds=60)
    # Read "short" back only while Redis says it is alive (pttl > 0), so a loaded machine taking
    # longer than 0.3 s between the calls cannot fail the round trip.
    async with cache.client.pipeline(transaction=True) as tx:
        short_ttl_ms, short = (
            await tx.pttl(cache.key_prefix + "short").get(cache.key_prefix + "short").execute()
        )
    assert 0 < short_ttl_ms <= 300 and short == b"a"
    assert await cache.get("long") == b"b"
    ttl_ms = await cache.client.pttl(cache.key_prefix + "long")
    since_ms = (time.monotonic() - started) * 1000  # however long the calls took here
    assert 60_000 - since_ms - 1 <= ttl_ms <= 60_000
    await wait_until(lambda: _gone(cache, "short"), "the short key to expire")
    assert await cache.get("long") == b"b"
    assert await cache.get("never-set") is None


async def _gone(cache: RedisCache, key: str) -> bool:
    return await cache.get(key) is None


async def test_dead_redis_degrades_to_misses_with_one_warning(caplog: pytest.LogCaptureFixture):
    dead = RedisCache(f"redis://127.0.0.1:{_free_port()}/0", retry_interval_seconds=0)
    with caplog.at_level(logging.WARNING, logger="ffe_adapters.cache.redis"):
        await dead.set("k", b"v", ttl_seconds=10)
        assert await dead.get("k") is None
        assert await dead.get("k") is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "continuing without cache" in warnings[0].getMessage()
    await dead.close()


async def test_after_a_failure_calls_are_skipped_until_retry_interval():
    dead = RedisCache(f"redis://127.0.0.1:{_free_port()}/0", retry_interval_seconds=60)
    assert await dead.get("k") is None
    assert dead.degraded
    await dead.close()
