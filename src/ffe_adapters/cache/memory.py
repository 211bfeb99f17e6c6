"""An in-process byte cache with per-key TTL and a bounded size (least recently used goes first)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class MemoryCache:
    """``InProcessCache`` kept in a dict; ``now`` is injectable so tests need not sleep."""

    def __init__(
        self, max_entries: int = 10_000, *, now: Callable[[], float] = time.monotonic
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._now = now
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def get(self, key: str) -> bytes | None:
        return self.get_now(key)

    def get_now(self, key: str) -> bytes | None:
        """:meth:`get` without awaiting."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._now():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            self._entries.pop(key, None)
            return
        self._entries[key] = (self._now() + ttl_seconds, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    async def close(self) -> None:
        self._entries.clear()


class NullCache:
    """``InProcessCache`` that remembers nothing (``market_data.cache.backend: none``)."""

    async def get(self, key: str) -> bytes | None:
        return None

    def get_now(self, key: str) -> bytes | None:
        return None

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        return None

    async def close(self) -> None:
        return None
