"""The SQL storage backend: engine, unit of work, migrations and health."""

from __future__ import annotations

import errno
import shutil
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import event, insert, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from ffe_adapters.storage.sql import postgres_checkout, sqlite_driver
from ffe_adapters.storage.sql.ledger import SqlFlight, SqlProviderCalls
from ffe_adapters.storage.sql.migrations import HEAD
from ffe_adapters.storage.sql.repositories import (
    SqlAccounts,
    SqlAgent,
    SqlApprovals,
    SqlDecisions,
    SqlFills,
    SqlOrders,
    SqlOutcomes,
    SqlProviderStats,
    SqlState,
    SqlVenueFills,
)
from ffe_adapters.storage.sql.tables import StateRow, VenueOrderRow
from ffe_core.config import StorageSettings
from ffe_core.domain.decisions import new_id
from ffe_core.domain.errors import ConfigError

MIGRATIONS = Path(__file__).parent / "migrations"
MIN_FREE_BYTES = 8 * 1024 * 1024


class SqlUnitOfWork:
    """One session, one transaction. Leaving without ``commit()`` rolls everything back."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        self._session = s = self._sessions()
        self.decisions = SqlDecisions(s)
        self.orders = SqlOrders(s)
        self.fills = SqlFills(s)
        self.venue_orders = SqlOrders(s, VenueOrderRow)
        self.venue_fills = SqlVenueFills(s)
        self.accounts = SqlAccounts(s)
        self.provider_stats = SqlProviderStats(s)
        self.agent = SqlAgent(s)
        self.approvals = SqlApprovals(s)
        self.state = SqlState(s)
        self.outcomes = SqlOutcomes(s)
        self.provider_calls = SqlProviderCalls(s)
        self.flight = SqlFlight(s)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None

    async def commit(self) -> None:
        assert self._session is not None, "use the unit of work inside 'async with'"
        await self._session.commit()

    async def rollback(self) -> None:
        assert self._session is not None
        await self._session.rollback()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def create_engine_for(settings: StorageSettings, *, pooled: bool = True) -> AsyncEngine:
    """An async engine for ``settings.url``; SQLite gets WAL mode and its directory created.
    ``pooled=False``: every connection is opened afresh (and closed after use)."""
    try:
        url = make_url(settings.url)
    except Exception:
        raise ConfigError(f"storage.url: not a database URL: {settings.url!r}") from None
    backend = url.get_backend_name()
    # No pre-ping on SQLite (a file cannot drop while pooled) nor on asyncpg (a connection is
    # proven alive by the BEGIN sent at checkout, see postgres_checkout). The reset on return
    # stays: a connection handed back inside a transaction (a cancelled task) would otherwise
    # keep SQLite's one write lock for every later user of the pool.
    kwargs: dict[str, Any] = {"echo": settings.echo, "pool_pre_ping": False}
    if not pooled:
        kwargs = {"echo": settings.echo, "poolclass": NullPool}
    if backend == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        if url.drivername == "sqlite":
            url = url.set(drivername="sqlite+aiosqlite")
        if url.drivername == "sqlite+aiosqlite":
            kwargs["connect_args"] = {"async_creator_fn": sqlite_driver.connect}
    elif backend == "postgresql":
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+asyncpg")
        if url.get_driver_name() != "asyncpg":  # another driver: the pool's own check
            kwargs["pool_pre_ping"] = pooled
        if settings.schema_name:
            kwargs["connect_args"] = {"server_settings": {"search_path": settings.schema_name}}
    else:
        raise ConfigError(f"storage.url: unsupported database {backend!r} (sqlite or postgresql)")
    engine = create_async_engine(url, **kwargs)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "do_execute", sqlite_driver.execute_deferred)
    elif engine.dialect.driver == "asyncpg" and pooled:
        event.listen(engine.sync_engine.pool, "checkout", postgres_checkout.begin_on_checkout)
    return engine


class SqlStorage:
    """What the ``sql`` storage factory returns: a unit-of-work factory plus lifecycle."""

    def __init__(self, settings: StorageSettings, *, min_free_bytes: int = MIN_FREE_BYTES) -> None:
        """``min_free_bytes``: below this much free space on the disk of a SQLite file,
        :meth:`write_check` fails (a rolled-back write cannot notice a full disk by itself)."""
        self.settings = settings
        self.min_free_bytes = min_free_bytes
        self.engine = create_engine_for(settings)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # A pooled SQLite connection keeps serving pages it cached (in WAL mode it never reads
        # the file's header again), so the write check opens the file afresh every time.
        file_db = self.dialect == "sqlite" and self.engine.url.database not in (
            None,
            "",
            ":memory:",
        )
        self._probe_engine = create_engine_for(settings, pooled=False) if file_db else self.engine

    def uow_factory(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (creating the named PostgreSQL schema first).
        Nothing to do, and alembic is not loaded, when the database is at the head already."""
        if revision == "head" and await self._stamped() == HEAD:
            return
        if self.dialect == "postgresql" and self.settings.schema_name:
            async with self.engine.begin() as conn:
                await conn.execute(
                    text(f'CREATE SCHEMA IF NOT EXISTS "{self.settings.schema_name}"')
                )
        if self.dialect != "sqlite":
            async with self.engine.begin() as conn:
                await conn.run_sync(_upgrade, revision)
            return
        # pysqlite issues no BEGIN before DDL, so a migration killed midway would leave half a
        # schema behind ("table ... already exists" on the next start): open the transaction
        # ourselves; IMMEDIATE so that two processes migrating at once take turns.
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                await conn.run_sync(_upgrade, revision)
            except BaseException:
                await conn.exec_driver_sql("ROLLBACK")
                raise
            await conn.exec_driver_sql("COMMIT")

    async def _stamped(self) -> str | None:
        """The revision recorded in ``alembic_version``; None without that table."""
        try:
            async with self.engine.connect() as conn:
                row = (await conn.execute(text("SELECT version_num FROM alembic_version"))).first()
        except DBAPIError:
            return None
        return None if row is None else str(row[0])

    async def current_revision(self) -> str | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(_current)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def write_check(self) -> None:
        """Raise unless the database takes a write now: a row is inserted into ``service_state``
        in a transaction that is rolled back. On SQLite the transaction is ``BEGIN IMMEDIATE``
        (the file's write lock and header are checked first, so a corrupted, read-only or
        locked file fails), and the disk holding the file must have ``min_free_bytes`` free."""
        probe = insert(StateRow).values(
            key=f"health.write_check.{new_id()}", updated_at=datetime.now(UTC), payload={}
        )
        if self.dialect != "sqlite":
            async with self.engine.connect() as conn, conn.begin() as tx:
                await conn.execute(probe)
                await tx.rollback()
            return
        self._check_free_space()
        async with self._probe_engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                await conn.execute(probe)
            finally:
                await conn.exec_driver_sql("ROLLBACK")

    def _check_free_space(self) -> None:
        database = self.engine.url.database
        if not database or database == ":memory:":
            return
        path = Path(database).expanduser()
        free = shutil.disk_usage(path.parent).free
        if free < self.min_free_bytes:
            raise OSError(
                errno.ENOSPC,
                f"disk full: {free:,} bytes free where {path.name} lives, "
                f"{self.min_free_bytes:,} needed (adapters.sqlite.min_free_bytes)",
            )

    async def close(self) -> None:
        if self._probe_engine is not self.engine:
            await self._probe_engine.dispose()
        await self.engine.dispose()


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    command.upgrade(_alembic_config(connection), revision)


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()
