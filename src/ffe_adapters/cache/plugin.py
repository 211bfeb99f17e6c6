"""Registers the ``memory``, ``redis`` and ``none`` caches."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from ffe_adapters.cache.memory import MemoryCache, NullCache
from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl


class MemoryOptions(BaseModel):
    """``adapters.memory.*``"""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")
    max_entries: int = Field(default=10_000, ge=1)


class RedisOptions(BaseModel):
    """``adapters.redis.*`` (``market_data.cache.redis_url`` of the previous release is read as
    ``url``, with a deprecation warning)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")
    url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = "ffe:"
    socket_timeout_seconds: float = Field(default=0.5, gt=0)
    retry_interval_seconds: float = Field(default=30.0, ge=0)


def build_memory(ctx: AdapterContext) -> MemoryCache:
    return MemoryCache(ctx.parse_options(MemoryOptions).max_entries)


def build_redis(ctx: AdapterContext) -> object:
    from ffe_adapters.cache.redis import RedisCache  # redis is an optional dependency

    options = ctx.parse_options(RedisOptions)
    return RedisCache(
        options.url,
        key_prefix=options.key_prefix,
        socket_timeout_seconds=options.socket_timeout_seconds,
        retry_interval_seconds=options.retry_interval_seconds,
    )


def build_none(ctx: AdapterContext) -> NullCache:
    return NullCache()


@hookimpl
def ffe_caches() -> Mapping[str, Factory]:
    return {"memory": build_memory, "redis": build_redis, "none": build_none}
