"""The caches the contract runs, each built by its registered factory from options: ``memory``,
``redis`` (the machine's Redis on 127.0.0.1:6379, keys under a fresh prefix), ``none`` and the
example plugin's ``ttl_dict``; plus Redis servers that are down or hang, for degradation."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from ffe_adapters.hookspecs import AdapterContext
from ffe_core.ports.clock import ManualClock
from ffe_core.ports.market_data import Cache
from tests.contract.providers import registry

CACHES = ("memory", pytest.param("redis", marks=pytest.mark.redis), "none", "ttl_dict")
"""Every built-in cache and the example plugin's."""
FORGETFUL = {"none"}
"""Caches that remember nothing (``market_data.cache.backend: none``)."""


@dataclass
class Built:
    name: str
    cache: Cache
    clock: ManualClock
    """The clock the cache was given; a cache on real time ignores it."""

    @property
    def remembers(self) -> bool:
        return self.name not in FORGETFUL


def build(name: str, options: dict[str, Any], clock: ManualClock | None = None) -> Built:
    clock = clock or ManualClock(datetime(2026, 6, 1, tzinfo=UTC))
    factory = registry().factory("caches", name)
    return Built(name, factory(AdapterContext(name=name, options=options, clock=clock)), clock)


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.3):
            return True
    except OSError:
        return False


@asynccontextmanager
async def cache(name: str) -> AsyncIterator[Built]:
    options: dict[str, Any] = {}
    if name == "redis":
        if not redis_up():
            pytest.skip("Redis is not reachable on 127.0.0.1:6379")
        options = {"url": "redis://127.0.0.1:6379/0", "key_prefix": f"ffe-contract:{uuid.uuid4()}:"}
    built = build(name, options)
    try:
        yield built
    finally:
        await built.cache.close()


@contextmanager
def unreachable_redis(kind: str) -> Iterator[str]:
    """A Redis URL nobody answers: ``down`` (nothing listens: refused at once) or ``hangs`` (the
    connection is accepted by the kernel, then no byte ever comes back)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        if kind == "hangs":
            listener.listen(16)
        else:
            listener.close()
        yield f"redis://127.0.0.1:{port}/0"


@asynccontextmanager
async def redis_reachable_at(port: int) -> AsyncIterator[None]:
    """Redis comes back on ``port``: every connection there is relayed to 127.0.0.1:6379."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        redis_r, redis_w = await asyncio.open_connection("127.0.0.1", 6379)
        await asyncio.gather(pipe(client_r, redis_w), pipe(redis_r, client_w))

    server = await asyncio.start_server(relay, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()
