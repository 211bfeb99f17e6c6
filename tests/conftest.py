"""Shared fixtures: real SQLite and PostgreSQL storage (fresh schema per test), Redis probe.

Also the hypothesis profiles: ``ci`` (derandomized, so a CI run is reproducible, with the blob
to replay a failure printed and no example database) when ``CI`` is set, as ``.ci/run`` does,
else ``dev`` (random, more examples, failures remembered in ``.hypothesis/``);
``HYPOTHESIS_PROFILE`` picks one explicitly. A test's own ``settings(max_examples=...)`` keeps
its count under either.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from ffe_core.config import StorageSettings

settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None, database=None)
settings.register_profile("dev", derandomize=False, max_examples=200, deadline=None)


def hypothesis_profile(environ: Mapping[str, str] = os.environ) -> str:
    """``HYPOTHESIS_PROFILE`` if given, else ``ci`` when ``CI`` is set (and not 0/false)."""
    explicit = environ.get("HYPOTHESIS_PROFILE", "").strip()
    if explicit:
        return explicit
    ci = environ.get("CI", "").strip().lower()
    return "ci" if ci not in ("", "0", "false", "no") else "dev"


settings.load_profile(hypothesis_profile())

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_URL = os.environ.get(
    "FFE_TEST_PG_URL", f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/test"
)
REDIS_URL = os.environ.get("FFE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_postgres() -> None:
    if not port_open(PG_HOST, PG_PORT):
        pytest.skip(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT}")


def require_redis() -> None:
    if not port_open("127.0.0.1", 6379):
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")


def sqlite_settings(tmp_path: Path) -> StorageSettings:
    return StorageSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}")


def postgres_settings() -> StorageSettings:
    return StorageSettings(url=PG_URL, schema_name=f"t_{uuid.uuid4().hex[:12]}")


async def drop_schema(schema: str, attempts: int = 20) -> None:
    """Drop a test's schema. A SIGKILLed client's server session finishes its statement
    before it notices the client is gone, and can deadlock with the drop (seen once in the crash
    suite's teardown): the drop is then the victim, and is retried once that session ends."""
    import asyncio

    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="test")
    try:
        for attempt in range(attempts):
            try:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                return
            except asyncpg.exceptions.DeadlockDetectedError:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.5)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def open_sql_storage(kind: str, tmp_path: Path) -> AsyncIterator[Any]:
    """A migrated SqlStorage on SQLite (temp file) or PostgreSQL (fresh schema, dropped after)."""
    from ffe_adapters.storage.sql.backend import SqlStorage

    if kind == "postgres":
        require_postgres()
        settings = postgres_settings()
    else:
        settings = sqlite_settings(tmp_path)
    storage = SqlStorage(settings)
    await storage.migrate()
    try:
        yield storage
    finally:
        await storage.close()
        if settings.schema_name:
            await drop_schema(settings.schema_name)


SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=SQL_BACKENDS)
async def sql_storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async with open_sql_storage(request.param, tmp_path) as storage:
        yield storage
