"""A byte cache on the context's clock (``adapters.ttl_dict``): entries expire by clock time."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from ffe_core.ports.clock import Clock


class TtlDictOptions(BaseModel):
    """``adapters.ttl_dict.*``"""

    model_config = ConfigDict(frozen=True, extra="forbid")
    max_entries: int = Field(default=1000, ge=1)


class TtlDictCache:
    """``ffe_core.ports.market_data.Cache`` in a dict; counts hits and misses so a test (or a
    curious operator) can see it at work. Full: the oldest entry goes first."""

    def __init__(self, options: TtlDictOptions, clock: Clock) -> None:
        self._max = options.max_entries
        self._clock = clock
        self._entries: dict[str, tuple[datetime, bytes]] = {}
        self.hits = 0
        self.misses = 0

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock.now():
            self._entries.pop(key, None)
            self.misses += 1
            return None
        self.hits += 1
        return entry[1]

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        self._entries.pop(key, None)
        if ttl_seconds > 0:
            self._entries[key] = (self._clock.now() + timedelta(seconds=ttl_seconds), value)
        while len(self._entries) > self._max:
            del self._entries[next(iter(self._entries))]

    async def close(self) -> None:
        self._entries.clear()
