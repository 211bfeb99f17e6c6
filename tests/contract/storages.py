"""The storages the contract runs: the SQL backend built by its registered factory for SQLite (a
temp file) and the machine's PostgreSQL (127.0.0.1:5432, db ``test``, one schema for the run,
emptied before each case), each migrated once per run; and the in-memory unit of work the tests and the paper broker use."""

from __future__ import annotations

import asyncio
import atexit
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.storage.memory import InMemoryStore
from ffe_adapters.storage.sql.backend import SqlStorage
from ffe_adapters.storage.sql.tables import Base
from ffe_core.config import CoreView, StorageSettings
from ffe_core.ports.storage import StorageBackend, UnitOfWorkFactory
from tests.conftest import drop_schema, postgres_settings, require_postgres, sqlite_settings
from tests.contract.providers import registry

STORAGES = ("memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres))
"""Every storage the repository ports have (no plugin supplies one)."""


@dataclass
class Stored:
    name: str
    uow_factory: UnitOfWorkFactory
    backend: StorageBackend | None
    """The StorageBackend behind ``uow_factory`` (None in memory)."""


_PG_SCHEMA: list[str] = []
"""The one PostgreSQL schema of this test process: migrated once, emptied before each case (a
fresh schema and migration per case cost ~1 s each on this machine), dropped at exit."""


async def _postgres_settings() -> StorageSettings:
    require_postgres()
    if not _PG_SCHEMA:
        settings = postgres_settings()
        assert settings.schema_name is not None
        backend = SqlStorage(settings)
        await backend.migrate()
        await backend.close()
        _PG_SCHEMA.append(settings.schema_name)
        atexit.register(lambda: asyncio.run(drop_schema(settings.schema_name or "")))
    return postgres_settings().model_copy(update={"schema_name": _PG_SCHEMA[0]})


_SQLITE_TEMPLATE: list[Path] = []
"""A migrated SQLite file of this test process, copied for each case."""


async def _sqlite_settings(tmp_path: Path) -> StorageSettings:
    if not _SQLITE_TEMPLATE:
        directory = Path(tempfile.mkdtemp(prefix="ffe-contract-"))
        atexit.register(shutil.rmtree, directory, True)
        backend = SqlStorage(sqlite_settings(directory))
        await backend.migrate()
        await backend.close()
        _SQLITE_TEMPLATE.append(directory / "ffe.db")
    settings = sqlite_settings(tmp_path)
    shutil.copyfile(_SQLITE_TEMPLATE[0], tmp_path / "ffe.db")
    return settings


async def _emptied(backend: SqlStorage) -> None:
    async with backend.engine.begin() as conn:  # DELETE beats TRUNCATE on a few rows
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())


@asynccontextmanager
async def storage(name: str, tmp_path: Path) -> AsyncIterator[Stored]:
    if name == "memory":
        yield Stored(name, InMemoryStore(), None)
        return
    postgres = name == "postgresql"
    settings = await (_postgres_settings() if postgres else _sqlite_settings(tmp_path))
    factory = registry().factory("storage", name)
    backend: StorageBackend = factory(AdapterContext(name=name, core=CoreView(storage=settings)))
    if isinstance(backend, SqlStorage) and postgres:
        await _emptied(backend)
    try:
        yield Stored(name, backend.uow_factory, backend)
    finally:
        await backend.close()
