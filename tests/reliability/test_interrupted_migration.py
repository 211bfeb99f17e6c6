"""A migration that dies midway leaves nothing half-done on SQLite (found by the crash suite)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from ffe_adapters.storage.sql.backend import SqlStorage
from ffe_core.config import StorageSettings


def tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


async def test_failed_sqlite_migration_rolls_back_and_a_retry_succeeds(tmp_path: Path) -> None:
    db = tmp_path / "ffe.db"
    with sqlite3.connect(db) as conn:  # a table the first migration creates last: it fails there
        conn.execute("CREATE TABLE votes (x INTEGER)")
    storage = SqlStorage(StorageSettings(url=f"sqlite+aiosqlite:///{db}"))
    try:
        with pytest.raises(OperationalError, match="votes"):
            await storage.migrate()
        assert tables(db) == {"votes"}, "tables of the failed migration were left behind"
        with sqlite3.connect(db) as conn:
            conn.execute("DROP TABLE votes")
        await storage.migrate()
        await storage.migrate()  # idempotent
        assert await storage.current_revision() is not None
        assert {"orders", "fills", "accounts", "votes"} <= tables(db)
    finally:
        await storage.close()
