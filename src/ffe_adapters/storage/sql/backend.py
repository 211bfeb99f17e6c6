"""The SQL storage backend: engine, unit of work, migrations and health."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

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
)
from ffe_adapters.storage.sql.tables import VenueFillRow, VenueOrderRow
from ffe_core.config import StorageSettings
from ffe_core.domain.errors import ConfigError

MIGRATIONS = Path(__file__).parent / "migrations"


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
        self.venue_fills = SqlFills(s, VenueFillRow)
        self.accounts = SqlAccounts(s)
        self.provider_stats = SqlProviderStats(s)
        self.agent = SqlAgent(s)
        self.approvals = SqlApprovals(s)
        self.state = SqlState(s)
        self.outcomes = SqlOutcomes(s)
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


def create_engine_for(settings: StorageSettings) -> AsyncEngine:
    """An async engine for ``settings.url``; SQLite gets WAL mode and its directory created."""
    try:
        url = make_url(settings.url)
    except Exception:
        raise ConfigError(f"storage.url: not a database URL: {settings.url!r}") from None
    kwargs: dict[str, Any] = {"echo": settings.echo, "pool_pre_ping": True}
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        if url.drivername == "sqlite":
            url = url.set(drivername="sqlite+aiosqlite")
    elif backend == "postgresql":
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+asyncpg")
        if settings.schema_name:
            kwargs["connect_args"] = {"server_settings": {"search_path": settings.schema_name}}
    else:
        raise ConfigError(f"storage.url: unsupported database {backend!r} (sqlite or postgresql)")
    engine = create_async_engine(url, **kwargs)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


class SqlStorage:
    """What the ``sql`` storage factory returns: a unit-of-work factory plus lifecycle."""

    def __init__(self, settings: StorageSettings) -> None:
        self.settings = settings
        self.engine = create_engine_for(settings)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def uow_factory(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (creating the named PostgreSQL schema first)."""
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

    async def current_revision(self) -> str | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(_current)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
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
