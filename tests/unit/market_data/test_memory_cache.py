from __future__ import annotations

from ffe_adapters.cache.memory import MemoryCache


async def test_entries_expire_and_oldest_is_evicted():
    now = [0.0]
    cache = MemoryCache(max_entries=2, now=lambda: now[0])
    await cache.set("a", b"1", 10)
    await cache.set("b", b"2", 1)
    await cache.get("a")  # a is now most recently used
    await cache.set("c", b"3", 10)
    assert await cache.get("b") is None
    assert await cache.get("a") == b"1"
    now[0] = 11
    assert await cache.get("a") is None
    assert len(cache) == 1


async def test_get_now_reads_as_get() -> None:
    now = [0.0]
    cache = MemoryCache(max_entries=2, now=lambda: now[0])
    await cache.set("a", b"1", 10)
    await cache.set("b", b"2", 10)
    assert cache.get_now("a") == b"1"  # a is now most recently used
    await cache.set("c", b"3", 10)
    assert cache.get_now("b") is None
    now[0] = 11
    assert cache.get_now("a") is None
    assert len(cache) == 1
