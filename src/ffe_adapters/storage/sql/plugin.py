"""Registers the SQL storage backend (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_adapters.storage.sql.backend import MIN_FREE_BYTES, SqlStorage


class SqlOptions(BaseModel):
    """``adapters.sql.*``; the URL itself is ``storage.url``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    min_free_bytes: int = Field(default=MIN_FREE_BYTES, ge=0)
    """Free space a SQLite file's disk must have for the health write check to pass."""


def build_sql_storage(ctx: AdapterContext) -> SqlStorage:
    options = SqlOptions.model_validate(dict(ctx.options))
    return SqlStorage(ctx.settings.storage, min_free_bytes=options.min_free_bytes)


@hookimpl
def ffe_storage_backends() -> Mapping[str, Factory]:
    return {"sql": build_sql_storage}
