"""``ffe db backup`` / ``ffe db restore``: consistent online SQLite copies, guarded restores."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from ffe_core.config import StorageSettings
from ffe_core.domain.errors import ConflictError, NotFoundError, ValidationFailed
from ffe_entrypoints.cli.commands_db import backup_sqlite, restore_sqlite
from tests.conftest import (
    PG_URL,
    drop_schema,
    open_sql_storage,
    postgres_settings,
    require_postgres,
)
from tests.waiting import wait_until_sync


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    """A migrated ffe SQLite database plus a probe table: ``tally.n`` always equals its rows."""
    async with open_sql_storage("sqlite", tmp_path):
        pass
    path = tmp_path / "ffe.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE probe (k INTEGER PRIMARY KEY, pad TEXT NOT NULL)")
        conn.execute("CREATE TABLE tally (n INTEGER NOT NULL)")
        conn.executemany("INSERT INTO probe (pad) VALUES (?)", [("x" * 200,)] * 5000)
        conn.execute("INSERT INTO tally VALUES (5000)")
    return path


def snapshot(path: Path) -> tuple[int, int, str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT count(*) FROM probe").fetchone()[0]
        tally = conn.execute("SELECT n FROM tally").fetchone()[0]
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    return rows, tally, revision


@pytest.fixture
def writer(db: Path) -> Iterator[list[int]]:
    """Commits (insert a row, bump the tally) in a loop on its own connection until the test ends."""
    done = threading.Event()
    commits = [0]

    def write() -> None:
        conn = sqlite3.connect(db, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        while not done.is_set():
            with conn:
                conn.execute("INSERT INTO probe (pad) VALUES (?)", ("y" * 200,))
                conn.execute("UPDATE tally SET n = n + 1")
            commits[0] += 1
        conn.close()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        yield commits
    finally:
        done.set()
        thread.join(timeout=10)


def test_backup_while_writes_happen_is_a_consistent_snapshot(
    db: Path, writer: list[int], tmp_path: Path
) -> None:
    seen: list[int] = []
    for i in range(5):
        before = writer[0]  # each backup starts after at least one more commit
        wait_until_sync(lambda b=before: writer[0] > b, "another commit", interval=0.001)
        report = backup_sqlite(db, tmp_path / f"copy{i}.db")
        rows, tally, _ = snapshot(report.path)
        assert rows == tally, "the copy mixes two commits"
        seen.append(rows)
    assert seen == sorted(set(seen)) and seen[0] > 5000, "each copy saw later writes"


def test_restore_brings_back_exactly_the_backup(db: Path, tmp_path: Path) -> None:
    backup = backup_sqlite(db, tmp_path / "bk.db")
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM probe WHERE k > 10")
        conn.execute("UPDATE tally SET n = 10")
    with pytest.raises(ConflictError, match="--force"):
        restore_sqlite(backup.path, db)
    restored = restore_sqlite(backup.path, db, force=True)
    assert snapshot(db) == snapshot(backup.path) == (5000, 5000, restored.revision)
    kept = list(tmp_path.glob("ffe.db.pre-restore-*"))
    assert len(kept) == 1 and snapshot(kept[0])[:2] == (10, 10)


def test_restore_into_a_new_location_needs_no_force(db: Path, tmp_path: Path) -> None:
    backup = backup_sqlite(db, tmp_path)  # a directory: a timestamped file inside it
    assert backup.path.parent == tmp_path and backup.path.name.startswith("ffe-")
    restore_sqlite(backup.path, tmp_path / "fresh.db")
    assert snapshot(tmp_path / "fresh.db") == snapshot(db)


def test_bad_paths_and_files_are_refused(db: Path, tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="does not exist"):
        backup_sqlite(db, tmp_path / "missing" / "bk.db")
    backup_sqlite(db, tmp_path / "bk.db")
    with pytest.raises(ConflictError, match="exists"):
        backup_sqlite(db, tmp_path / "bk.db")
    with pytest.raises(NotFoundError):
        restore_sqlite(tmp_path / "nope.db", db, force=True)
    (tmp_path / "junk.db").write_text("not a database")
    with pytest.raises(ValidationFailed, match="not an SQLite database"):
        restore_sqlite(tmp_path / "junk.db", db, force=True)
    assert snapshot(db)[:2] == (5000, 5000)


def ffe(args: list[str], cwd: Path, url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FFE_")}
    env["FFE_STORAGE__URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "ffe_entrypoints.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_errors_are_one_line_with_a_nonzero_exit(db: Path, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{db}"
    bad = ffe(["db", "backup", str(tmp_path / "no" / "such" / "dir" / "bk.db")], tmp_path, url)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    assert bad.stderr.startswith("error: ") and "does not exist" in bad.stderr
    live = ffe(["db", "restore", str(db)], tmp_path, url)
    assert live.returncode == 2 and live.stderr.count("\n") == 1, live.stderr
    assert "--force" in live.stderr and "Traceback" not in live.stderr


def test_cli_round_trip(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ffe_entrypoints.cli.main import build_app

    monkeypatch.chdir(tmp_path)
    env = {"FFE_STORAGE__URL": f"sqlite+aiosqlite:///{db}"}
    out = CliRunner().invoke(build_app(), ["db", "backup", "bk.db"], env=env)
    assert out.exit_code == 0 and "backed up" in out.output, out.output
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM probe")
    out = CliRunner().invoke(build_app(), ["db", "restore", "bk.db", "--force"], env=env)
    assert out.exit_code == 0 and "restored" in out.output, out.output
    assert snapshot(db)[:2] == (5000, 5000)


async def execute(settings: StorageSettings, sql: str) -> None:
    from ffe_adapters.storage.sql.backend import SqlStorage

    storage = SqlStorage(settings)
    try:
        async with storage.engine.begin() as conn:
            await conn.execute(text(sql))
    finally:
        await storage.close()


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_postgres_backup_runs_pg_dump_for_the_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ffe_adapters.storage.sql.backend import SqlStorage
    from ffe_entrypoints.cli.main import build_app

    require_postgres()
    settings = postgres_settings()
    assert settings.schema_name

    async def migrate() -> None:
        storage = SqlStorage(settings)
        await storage.migrate()
        await storage.close()

    asyncio.run(migrate())
    try:
        monkeypatch.chdir(tmp_path)
        env = {"FFE_STORAGE__URL": PG_URL, "FFE_STORAGE__SCHEMA_NAME": settings.schema_name}
        out = CliRunner().invoke(build_app(), ["db", "backup", "pg.dump", "--run"], env=env)
        assert out.exit_code == 0, out.output
        assert "pg_dump --format=custom" in out.output
        assert f"--schema={settings.schema_name}" in out.output
        listing = subprocess.run(
            ["pg_restore", "--list", str(tmp_path / "pg.dump")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "TABLE" in listing and "leader_leases" in listing

        refused = CliRunner().invoke(build_app(), ["db", "restore", "pg.dump", "--run"], env=env)
        assert refused.exit_code != 0 and isinstance(refused.exception, ConflictError)
        asyncio.run(execute(settings, "DROP TABLE leader_leases"))
        out = CliRunner().invoke(
            build_app(), ["db", "restore", "pg.dump", "--run", "--force"], env=env
        )
        assert out.exit_code == 0, out.output
        asyncio.run(execute(settings, "SELECT count(*) FROM leader_leases"))
    finally:
        asyncio.run(drop_schema(settings.schema_name))


def test_backup_into_dir_slash_creates_the_directory(db: Path, tmp_path: Path) -> None:
    """``ffe db backup backups/`` (as docs/deployment.md writes it) makes the directory and puts
    a timestamped backup in it; it used to write a *file* named ``backups``."""
    url = f"sqlite+aiosqlite:///{db}"
    made = ffe(["db", "backup", "backups/"], tmp_path, url)
    assert made.returncode == 0, made.stderr
    target = tmp_path / "backups"
    assert target.is_dir()
    (backup,) = target.glob("ffe-*.db")
    assert snapshot(backup)[:2] == (5000, 5000)
