"""Per-endpoint rate limits: Litestar's middleware, with one budget per client and endpoint.

Public routes (health, probes, metrics, the Telegram webhook, the dashboard's files) and the
OpenAPI schema are not limited. The shared store is Redis when Redis is configured, memory
otherwise; a Redis that fails or is slow is replaced by memory until it answers again, so an
optional part never stands between a client and the API. Agent control routes (``CONTROL_OPT``)
keep their budgets in process memory only: stopping the agent never waits on Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from litestar import Request
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import (
    DURATION_VALUES,
    CacheObject,
    RateLimitConfig,
    RateLimitMiddleware,
)
from litestar.serialization import decode_json, encode_json
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.registry import StoreRegistry

from ffe_core.config import Settings
from ffe_entrypoints.api.auth import PUBLIC_OPT
from ffe_entrypoints.services.health import Degraded

log = logging.getLogger("ffe.api.ratelimit")

UNLIMITED = ["/health", "/ready", "/live", "/webhook", "/metrics", "/schema"]
CONTROL_OPT = "control"
"""Handler opt marking agent control routes: their budgets never leave the process."""
SHARED_STORE = "rate_limit"
LOCAL_STORE = "rate_limit_local"
STORE_TIMEOUT_SECONDS = 0.2
RETRY_SECONDS = 10.0
HEALTH_COMPONENT = "rate_limit_store"

T = TypeVar("T")


class FallbackStore(Store):
    """``primary`` (Redis) while it answers within ``timeout`` seconds, process memory otherwise.

    The first failure is logged once as a warning; for ``retry_seconds`` after a failure every
    call goes to memory without touching ``primary``, then one call tries it again. Budgets
    counted in memory during an outage are not copied back: they only bridge the gap.
    """

    __slots__ = ("_down_until", "_now", "last_error", "memory", "primary", "retry", "timeout")

    def __init__(
        self,
        primary: Store | None,
        *,
        timeout: float = STORE_TIMEOUT_SECONDS,
        retry_seconds: float = RETRY_SECONDS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.memory = MemoryStore()
        self.timeout = timeout
        self.retry = retry_seconds
        self._now = now
        self._down_until: float | None = None
        self.last_error: str | None = None

    @property
    def degraded(self) -> bool:
        """True while calls go to memory because ``primary`` failed."""
        return self._down_until is not None

    def _claim_primary(self) -> bool:
        """Whether this call may use ``primary``; after a failure, one call per interval may."""
        if self.primary is None:
            return False
        if self._down_until is None:
            return True
        if self._now() < self._down_until:
            return False
        self._down_until = self._now() + self.retry  # concurrent callers stay on memory
        return True

    async def _call(self, op: Callable[[Store], Awaitable[T]]) -> T:
        if self.primary is not None and self._claim_primary():
            try:
                async with asyncio.timeout(self.timeout):
                    result = await op(self.primary)
            except Exception as exc:  # any failure of an optional store falls back, never raises
                self._failed(exc)
            else:
                self._recovered()
                return result
        return await op(self.memory)

    def _failed(self, exc: BaseException) -> None:
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if self._down_until is None:
            log.warning(
                "rate-limit store unavailable (%s); keeping rate limits in memory, "
                "retrying every %ss",
                reason,
                self.retry,
            )
        self._down_until = self._now() + self.retry
        self.last_error = reason[:300]

    def _recovered(self) -> None:
        if self._down_until is not None:
            log.info("rate-limit store reachable again; rate limits back in Redis")
        self._down_until = None
        self.last_error = None

    async def check(self) -> None:
        """Health check: ``Degraded`` while rate limits are kept in memory (probing when due)."""
        if self.degraded:
            await self._call(lambda store: store.exists("health-probe"))
        if self.degraded:
            raise Degraded(f"rate limits kept in memory; Redis store: {self.last_error}")

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        await self._call(lambda store: store.set(key, value, expires_in))

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        return await self._call(lambda store: store.get(key, renew_for))

    async def delete(self, key: str) -> None:
        await self._call(lambda store: store.delete(key))

    async def delete_all(self) -> None:
        await self._call(lambda store: store.delete_all())

    async def exists(self, key: str) -> bool:
        return await self._call(lambda store: store.exists(key))

    async def expires_in(self, key: str) -> int | None:
        return await self._call(lambda store: store.expires_in(key))

    async def aclose(self) -> None:
        """Close ``primary``; closing an optional store never fails a shutdown."""
        if self.primary is not None:
            with contextlib.suppress(Exception):
                await self.primary.__aexit__(None, None, None)


def redis_store(url: str) -> Store:
    """Litestar's Redis store on a client that gives up quickly (no retries, short timeouts)."""
    from litestar.stores.redis import RedisStore
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    client = Redis.from_url(
        url,
        socket_timeout=STORE_TIMEOUT_SECONDS,
        socket_connect_timeout=STORE_TIMEOUT_SECONDS,
        retry_on_timeout=False,
        retry=Retry(NoBackoff(), 0),
    )
    return RedisStore(client, namespace="ffe_rate_limit", handle_client_shutdown=True)


DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def rate_limit_store(settings: Settings) -> FallbackStore:
    """Shared through the cache's Redis (``adapters.redis.url``) when the cache is ``redis``."""
    if settings.market_data.cache.backend != "redis":
        return FallbackStore(None)
    url = str(settings.adapters.get("redis", {}).get("url", DEFAULT_REDIS_URL))
    return FallbackStore(redis_store(url))


def stores(shared: Store) -> StoreRegistry:
    return StoreRegistry(
        {SHARED_STORE: shared, LOCAL_STORE: MemoryStore()},
        default_factory=lambda _name: MemoryStore(),
    )


class RequestCount(list[int]):
    """A window's request history reduced to what the limiter reads of it, its length.

    Litestar's limiter stored every request's timestamp and rebuilt, decoded and re-encoded
    that list on every request, so a request cost grew with the limit (at 1,500 requests a
    second one client's minute held 90,000 entries); a count is the same window, at O(1)."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self._n = count

    def __len__(self) -> int:
        return self._n


class EndpointRateLimitMiddleware(RateLimitMiddleware):
    """Keys the request history by client *and* endpoint, so a busy dashboard poll of one route
    cannot starve the others; stores a window's count and reset time, not its history."""

    async def retrieve_cached_history(self, key: str, store: Store) -> CacheObject:
        now = int(time.time())
        cached = await store.get(key)
        if cached:
            data = decode_json(cached)
            reset = int(data["reset"])
            if reset > now:  # a value written before counts were stored: its history's length
                return CacheObject(
                    RequestCount(int(data.get("count", len(data.get("history", []))))), reset
                )
        return CacheObject(RequestCount(0), now + DURATION_VALUES[self.unit])

    async def set_cached_history(self, key: str, cache_object: CacheObject, store: Store) -> None:
        cache_object.history = RequestCount(len(cache_object.history) + 1)
        value = encode_json({"count": len(cache_object.history), "reset": cache_object.reset})
        await store.set(key, value, expires_in=DURATION_VALUES[self.unit])

    def cache_key_from_request(self, request: Request[Any, Any, Any]) -> str:
        # the route's full template (the handler's own paths are relative to its controller,
        # so /api/v1/status and /api/bot/status would share one budget)
        endpoint = request.scope.get("path_template") or request.url.path
        return f"{super().cache_key_from_request(request)}::{request.method}::{endpoint}"


def is_control_route(request: Request[Any, Any, Any]) -> bool:
    return bool(request.scope["route_handler"].opt.get(CONTROL_OPT))


async def is_control(request: Request[Any, Any, Any]) -> bool:
    """Coroutine functions, as Litestar sends a plain throttle check to a worker thread."""
    return is_control_route(request)


async def is_not_control(request: Request[Any, Any, Any]) -> bool:
    return not is_control_route(request)


def rate_limit_config(per_minute: int, *, store: str = SHARED_STORE) -> RateLimitConfig:
    """One budget per client and endpoint; ``store`` names the store in the app's registry."""
    local = store == LOCAL_STORE
    return RateLimitConfig(
        rate_limit=("minute", per_minute),
        exclude=UNLIMITED,
        exclude_opt_key=PUBLIC_OPT,
        check_throttle_handler=is_control if local else is_not_control,
        middleware_class=EndpointRateLimitMiddleware,
        store=store,
    )


def rate_limit_middleware(per_minute: int) -> list[DefineMiddleware]:
    """The shared limiter for every limited route but control ones, and the local one for those."""
    return [
        rate_limit_config(per_minute).middleware,
        rate_limit_config(per_minute, store=LOCAL_STORE).middleware,
    ]
