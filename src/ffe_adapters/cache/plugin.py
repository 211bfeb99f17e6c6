"""Registers the ``memory``, ``redis`` and ``none`` caches."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from ffe_adapters.cache.memory import MemoryCache, NullCache
from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl


class MemoryOptions(BaseModel):
    """``adapters.memory.*``"""

    model_config = ConfigDict(frozen=True, extra="forbid")
    max_entries: int = Field(default=10_000, ge=1)


class RedisOptions(BaseModel):
    """``adapters.redis.*``; the URL itself is ``market_data.cache.redis_url``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    key_prefix: str = "ffe:"
    socket_timeout_seconds: float = Field(default=0.5, gt=0)
    retry_interval_seconds: float = Field(default=30.0, ge=0)


def build_memory(ctx: AdapterContext) -> MemoryCache:
    return MemoryCache(MemoryOptions.model_validate(dict(ctx.options)).max_entries)


def build_redis(ctx: AdapterContext) -> object:
    from ffe_adapters.cache.redis import RedisCache  # redis is an optional dependency

    options = RedisOptions.model_validate(dict(ctx.options))
    return RedisCache(
        ctx.settings.market_data.cache.redis_url,
        key_prefix=options.key_prefix,
        socket_timeout_seconds=options.socket_timeout_seconds,
        retry_interval_seconds=options.retry_interval_seconds,
    )


def build_none(ctx: AdapterContext) -> NullCache:
    return NullCache()


@hookimpl
def ffe_caches() -> Mapping[str, Factory]:
    return {"memory": build_memory, "redis": build_redis, "none": build_none}
