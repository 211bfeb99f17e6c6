"""``ffe db backup PATH`` / ``ffe db restore PATH``.

SQLite: sqlite3's online backup API copies a consistent snapshot while the app keeps writing, and
restore writes through the same API (under SQLite's locks), so no process ever reads a half-copied
file. PostgreSQL: the documented ``pg_dump`` / ``pg_restore`` commands, run with ``--run``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ffe_core.domain.errors import (
    ConfigError,
    ConflictError,
    FfeError,
    NotFoundError,
    ValidationFailed,
)
from ffe_entrypoints.cli.state import state

if TYPE_CHECKING:
    from ffe_core.config import StorageSettings


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size_bytes: int
    tables: int
    revision: str | None

    def describe(self) -> str:
        return (
            f"{self.path} ({self.size_bytes} bytes, {self.tables} tables, "
            f"revision {self.revision or 'none'})"
        )


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _inspect(conn: sqlite3.Connection, path: Path) -> BackupReport:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    revision = None
    if "alembic_version" in tables:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
    return BackupReport(path, path.stat().st_size, len(tables), revision)


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    result = conn.execute("PRAGMA quick_check").fetchone()
    if result is None or result[0] != "ok":
        raise ValidationFailed(f"{path}: integrity check failed: {result}")


def _open_existing(path: Path) -> sqlite3.Connection:
    """A connection to an existing SQLite file; a file that is not SQLite is refused."""
    if not path.is_file():
        raise NotFoundError(f"{path}: no such database file")
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ValidationFailed(f"{path}: not an SQLite database ({exc})") from None
    return conn


def backup_target(raw: str, stem: str, suffix: str) -> Path:
    """Where a backup goes: ``raw`` written as a directory (a trailing ``/``, as the deployment
    guide writes ``backups/``) is created, and an existing directory gets a timestamped file."""
    path = Path(raw)
    if raw.endswith(("/", os.sep)):
        path.mkdir(parents=True, exist_ok=True)
    return path / f"{stem}-{_stamp()}{suffix}" if path.is_dir() else path


def backup_sqlite(source: Path, dest: Path, *, force: bool = False) -> BackupReport:
    """Copy ``source`` to ``dest`` (a file, or a directory to put a timestamped file in).

    One backup step copies every page inside one read transaction, so the copy is the database as
    of one commit even while other connections write; it is written beside ``dest`` and renamed
    into place only after an integrity check.
    """
    if dest.is_dir():
        dest = dest / f"{source.stem}-{_stamp()}.db"
    if not dest.parent.is_dir():
        raise ValidationFailed(f"{dest}: directory {dest.parent} does not exist")
    if dest.exists() and not force:
        raise ConflictError(f"{dest} exists; pass --force to overwrite it")
    if dest.resolve() == source.resolve():
        raise ValidationFailed(f"{dest}: refusing to back a database up onto itself")
    partial = dest.with_name(dest.name + ".partial")
    src = _open_existing(source)
    try:
        partial.unlink(missing_ok=True)
        out = sqlite3.connect(partial)
        try:
            src.backup(out)
            out.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
            _check_integrity(out, partial)
        finally:
            out.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise FfeError(f"backup of {source} failed: {exc}") from None
    finally:
        src.close()
    os.replace(partial, dest)
    done = sqlite3.connect(dest)
    try:
        return _inspect(done, dest)
    finally:
        done.close()


def restore_sqlite(backup: Path, target: Path, *, force: bool = False) -> BackupReport:
    """Write ``backup`` over ``target``; an existing database needs ``force`` (a copy is kept)."""
    src = _open_existing(backup)
    try:
        _check_integrity(src, backup)
        if _inspect(src, backup).revision is None:
            raise ValidationFailed(f"{backup}: not an ffe database (no alembic_version table)")
        if target.exists() and target.stat().st_size > 0:
            if not force:
                raise ConflictError(
                    f"{target} exists and may be live; stop ffe and pass --force to overwrite it"
                )
            keep = backup_sqlite(target, target.with_name(f"{target.name}.pre-restore-{_stamp()}"))
            typer.echo(f"kept the current database as {keep.path}")
        elif not target.parent.is_dir():
            raise ValidationFailed(f"{target}: directory {target.parent} does not exist")
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
            return _inspect(dst, target)
        except sqlite3.Error as exc:
            raise FfeError(f"restore into {target} failed: {exc}") from None
        finally:
            dst.close()
    finally:
        src.close()


def sqlite_path(storage: StorageSettings) -> Path | None:
    """The database file of an SQLite URL; None for PostgreSQL."""
    from sqlalchemy.engine import make_url

    url = make_url(storage.url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise ConfigError("storage.url: an in-memory SQLite database cannot be backed up")
    return Path(url.database).expanduser()


def pg_command(storage: StorageSettings, tool: str, path: Path) -> tuple[list[str], dict[str, str]]:
    """The documented pg_dump / pg_restore invocation and the environment carrying the password."""
    from sqlalchemy.engine import URL, make_url

    url = make_url(storage.url)
    env = {"PGPASSWORD": str(url.password)} if url.password else {}
    dsn = URL.create(
        "postgresql", url.username, None, url.host, url.port, url.database
    ).render_as_string()
    if tool == "pg_dump":
        args = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={path}"]
        if storage.schema_name:
            args.append(f"--schema={storage.schema_name}")
    else:
        args = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges"]
        args.append(str(path))
    return [*args, f"--dbname={dsn}"], env


def _run_pg(args: list[str], env: dict[str, str]) -> None:
    if shutil.which(args[0]) is None:
        raise ConfigError(f"{args[0]} is not on PATH (install the PostgreSQL client tools)")
    proc = subprocess.run(
        args, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise FfeError(f"{args[0]} failed (exit {proc.returncode}): {detail}")


ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing file or database.")]
RunOpt = Annotated[
    bool, typer.Option("--run", help="PostgreSQL: run the command, not just print it.")
]


def _db_group(app: typer.Typer) -> typer.Typer:
    """The ``db`` group ``commands_ops`` registers; created here if it is absent."""
    for group in app.registered_groups:
        if group.name == "db" and group.typer_instance is not None:
            return group.typer_instance
    db_app = typer.Typer(help="Database schema management, backup and restore.")
    app.add_typer(db_app, name="db")
    return db_app


def register(app: typer.Typer) -> None:
    db_app = _db_group(app)

    @db_app.command("backup")
    def db_backup(
        ctx: typer.Context,
        where: Annotated[
            str,
            typer.Argument(
                metavar="PATH", help="Backup file, or a directory for one (DIR/ is created)."
            ),
        ],
        force: ForceOpt = False,
        run: RunOpt = False,
    ) -> None:
        """Back the database up: SQLite online (safe while ffe runs), PostgreSQL via pg_dump."""
        storage = state(ctx).settings().storage
        source = sqlite_path(storage)
        path = backup_target(where, source.stem if source else "ffe", ".db" if source else ".dump")
        if source is None:
            args, env = pg_command(storage, "pg_dump", path)
            typer.echo(" ".join(args) + ("   # PGPASSWORD from storage.url" if env else ""))
            if run:
                _run_pg(args, env)
                typer.echo(f"backed up to {path} ({path.stat().st_size} bytes)")
            return
        report = backup_sqlite(source, path, force=force)
        typer.echo(f"backed up {source} to {report.describe()}")

    @db_app.command("restore")
    def db_restore(
        ctx: typer.Context,
        path: Annotated[Path, typer.Argument(help="A file made by 'ffe db backup'.")],
        force: ForceOpt = False,
        run: RunOpt = False,
    ) -> None:
        """Restore a backup; refuses to overwrite an existing database without --force."""
        storage = state(ctx).settings().storage
        target = sqlite_path(storage)
        if target is None:
            args, env = pg_command(storage, "pg_restore", path)
            typer.echo(" ".join(args) + ("   # PGPASSWORD from storage.url" if env else ""))
            if run:
                if not force:
                    raise ConflictError(
                        "pg_restore --clean drops the current objects; pass --force"
                    )
                _run_pg(args, env)
                typer.echo(f"restored {path}")
            return
        report = restore_sqlite(path, target, force=force)
        typer.echo(f"restored {path} into {report.describe()}")
