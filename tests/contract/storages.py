"""The storages the contract runs: the SQL backend built by its registered factory for SQLite (a
temp file) and the machine's PostgreSQL (127.0.0.1:5432, db ``test``, a fresh schema dropped
after), migrated; and the in-memory unit of work the tests and the paper broker use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.storage.memory import InMemoryStore
from ffe_core.config import CoreView
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


@asynccontextmanager
async def storage(name: str, tmp_path: Path) -> AsyncIterator[Stored]:
    if name == "memory":
        yield Stored(name, InMemoryStore(), None)
        return
    if name == "postgresql":
        require_postgres()
        settings = postgres_settings()
    else:
        settings = sqlite_settings(tmp_path)
    factory = registry().factory("storage", name)
    backend: StorageBackend = factory(AdapterContext(name=name, core=CoreView(storage=settings)))
    await backend.migrate()
    try:
        yield Stored(name, backend.uow_factory, backend)
    finally:
        await backend.close()
        if settings.schema_name:
            await drop_schema(settings.schema_name)
