"""What only the SQL backend promises (the repository ports' contract is tests/contract's):
migrations that match the tables, compressed flight contents, cursors that cannot inject."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from ffe_adapters.storage.sql.tables import ContentRow
from ffe_core.domain.errors import ValidationFailed
from tests.conftest import SQL_BACKENDS, open_sql_storage
from tests.contract.test_storage_ledger_contract import record


async def test_bad_cursor_is_a_validation_error() -> None:
    from ffe_adapters.storage.sql.repositories import parse_cursor

    with pytest.raises(ValidationFailed):
        parse_cursor("'; DROP TABLE decisions; --")


@pytest.mark.parametrize("kind", SQL_BACKENDS)
async def test_migrations_match_the_table_definitions(kind: str, tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from ffe_adapters.storage.sql.backend import MIGRATIONS
    from ffe_adapters.storage.sql.migrations import HEAD
    from ffe_adapters.storage.sql.tables import Base

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    assert script.get_revision("0002").down_revision == "0001"
    assert head == HEAD, "migrations.HEAD names the newest script (start-up trusts it)"

    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with open_sql_storage(kind, tmp_path) as storage:
        assert await storage.current_revision() == head  # 0002 and whatever follows it
        async with storage.engine.connect() as conn:
            assert await conn.run_sync(diff) == []


async def test_sql_stores_contents_compressed(tmp_path: Path) -> None:
    text = '{"bars": [' + ", ".join(['{"close": 100.0}'] * 500) + "]}"
    async with open_sql_storage("sqlite", tmp_path) as sql:
        async with sql.uow_factory() as uow:
            await uow.flight.add(record(), {"s" * 64: text})
            await uow.commit()
        async with sql.engine.connect() as conn:
            data = (await conn.execute(select(ContentRow.data))).scalar_one()
    assert len(data) < len(text) / 10
    assert zlib.decompress(data).decode() == text


@pytest.mark.parametrize("kind", SQL_BACKENDS)
async def test_a_database_at_the_head_starts_without_alembic(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second start on a migrated database runs no migration (and imports no alembic); an
    older one is still upgraded."""
    from ffe_adapters.storage.sql import backend

    async with open_sql_storage(kind, tmp_path) as storage:
        upgrades: list[str] = []
        monkeypatch.setattr(backend, "_upgrade", lambda _conn, rev: upgrades.append(rev))
        await storage.migrate()
        assert upgrades == []
        async with storage.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0005'"))
        await storage.migrate()
        assert upgrades == ["head"]
