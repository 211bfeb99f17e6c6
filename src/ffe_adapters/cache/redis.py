"""A Redis-backed ``Cache`` (redis.asyncio) that degrades to a miss, never to an error.

When Redis cannot be reached, the first failure is logged once as a warning, the cache answers
misses and drops writes, and it tries Redis again only after ``retry_interval_seconds`` so a dead
server does not add a connect timeout to every call. Recovery is logged at info level.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from redis import asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_FAILURES = (RedisError, OSError, asyncio.TimeoutError)


class RedisCache:
    """``Cache`` on Redis; every key gets ``key_prefix`` and a millisecond TTL."""

    def __init__(
        self,
        url: str,
        *,
        key_prefix: str = "ffe:",
        socket_timeout_seconds: float = 0.5,
        retry_interval_seconds: float = 30.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key_prefix = key_prefix
        self.retry_interval_seconds = retry_interval_seconds
        self._now = now
        self._down_until: float | None = None
        self._warned = False
        self.client = aioredis.from_url(
            url,
            socket_timeout=socket_timeout_seconds,
            socket_connect_timeout=socket_timeout_seconds,
            retry_on_timeout=False,
        )

    @property
    def degraded(self) -> bool:
        """True while Redis is considered down and calls are skipped."""
        return self._down_until is not None and self._now() < self._down_until

    def _failed(self, exc: BaseException) -> None:
        self._down_until = self._now() + self.retry_interval_seconds
        if not self._warned:
            self._warned = True
            logger.warning(
                "redis cache unavailable (%s: %s); continuing without cache, retrying every %ss",
                type(exc).__name__,
                exc,
                self.retry_interval_seconds,
            )

    def _succeeded(self) -> None:
        if self._down_until is not None:
            logger.info("redis cache reachable again")
        self._down_until = None
        self._warned = False

    async def get(self, key: str) -> bytes | None:
        if self.degraded:
            return None
        try:
            value = await self.client.get(self.key_prefix + key)
        except _FAILURES as exc:
            self._failed(exc)
            return None
        self._succeeded()
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        if self.degraded:
            return
        try:
            if ttl_seconds <= 0:  # stores nothing (a 1 ms entry could still be read back)
                await self.client.delete(self.key_prefix + key)
            else:
                await self.client.set(
                    self.key_prefix + key, value, px=max(1, int(ttl_seconds * 1000))
                )
        except _FAILURES as exc:
            self._failed(exc)
            return
        self._succeeded()

    async def ping(self, timeout_seconds: float = 0.2) -> None:
        """Raise unless Redis answers PING within ``timeout_seconds`` (health checks). Asks even
        while calls are being skipped, and a success ends that early."""
        try:
            await asyncio.wait_for(self.client.ping(), timeout_seconds)
        except _FAILURES as exc:
            self._failed(exc)
            raise
        self._succeeded()

    async def close(self) -> None:
        with contextlib.suppress(*_FAILURES):
            await self.client.aclose()
