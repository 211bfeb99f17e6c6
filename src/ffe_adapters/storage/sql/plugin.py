"""Registers the SQL storage backend (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_adapters.storage.sql.backend import SqlStorage


def build_sql_storage(ctx: AdapterContext) -> SqlStorage:
    return SqlStorage(ctx.settings.storage)


@hookimpl
def ffe_storage_backends() -> Mapping[str, Factory]:
    return {"sql": build_sql_storage}
