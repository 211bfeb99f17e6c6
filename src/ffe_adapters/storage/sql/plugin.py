"""Registers the SQL storage backend for the ``sqlite`` and ``postgresql`` URL schemes, and the
``storage`` leader lease (a PostgreSQL lease; none for SQLite, which one process owns)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_adapters.storage.sql.backend import MIN_FREE_BYTES, SqlStorage
from ffe_adapters.storage.sql.lease import SqlLeaderLease
from ffe_core.ports.lease import LeaderLease

LEASE_NAME = "agent"


class SqlOptions(BaseModel):
    """``adapters.sqlite.*`` / ``adapters.postgresql.*``; the URL itself is ``storage.url``."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")
    min_free_bytes: int = Field(default=MIN_FREE_BYTES, ge=0)
    """Free space a SQLite file's disk must have for the health write check to pass."""


def build_sql_storage(ctx: AdapterContext) -> SqlStorage:
    options = ctx.parse_options(SqlOptions)
    return SqlStorage(ctx.core.storage, min_free_bytes=options.min_free_bytes)


def build_storage_lease(ctx: AdapterContext) -> LeaderLease | None:
    """A lease when several processes can share the storage (PostgreSQL), else None."""
    storage = ctx.storage
    if not isinstance(storage, SqlStorage) or storage.dialect != "postgresql":
        return None
    return SqlLeaderLease(storage.engine, LEASE_NAME, ctx.core.lease_ttl_seconds)


def build_no_lease(ctx: AdapterContext) -> LeaderLease | None:
    return None


@hookimpl
def ffe_storage_backends() -> Mapping[str, Factory]:
    return {"sqlite": build_sql_storage, "postgresql": build_sql_storage}


@hookimpl
def ffe_leases() -> Mapping[str, Factory]:
    return {"storage": build_storage_lease, "none": build_no_lease}
