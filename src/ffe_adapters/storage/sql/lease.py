"""The leader lease on the SQL storage: one row per lease name in ``leader_leases``.

Why a lease row rather than a PostgreSQL advisory lock: a session advisory lock lives as long as
its connection, so a hung or partitioned leader keeps it until TCP notices (minutes), it yields no
fencing token, and it breaks behind transaction-pooling proxies. A row with ``expires_at`` and a
``token`` gives a bounded takeover time, a monotonically increasing fencing token, and the same
semantics on SQLite (several processes on one host sharing the file).

Times come from the database's clock, so hosts with skewed clocks agree on expiry. Acquire is a
single ``INSERT .. ON CONFLICT DO UPDATE .. WHERE expired OR ours`` statement, atomic on both
backends. On PostgreSQL the fence reads the row ``FOR SHARE`` and keeps that lock until the fenced
block ends, so a takeover (which must update the row) waits for an order already being sent; on
SQLite the fence is a check immediately before the block (holding SQLite's single write lock
across the broker call would block the broker's own writes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ffe_core.ports.lease import LeaseGrant, StaleLeader, holder_is_gone, lease_holder

_NOW = {
    "postgresql": "extract(epoch from clock_timestamp())::float8",
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
}
_LOCK_NOT_AVAILABLE = "55P03"


def _acquire_sql(now: str) -> str:
    """Take the lease row. The update's times are read when it runs, not from ``excluded``:
    ``VALUES`` is evaluated before the statement waits for a leader's fence (PostgreSQL's row
    lock), so a taker that waited would be granted from a time before the old leader let go."""
    ours_and_live = f"leader_leases.holder = excluded.holder AND leader_leases.expires_at > {now}"
    return f"""
        INSERT INTO leader_leases (name, holder, token, expires_at, acquired_at)
        VALUES (:name, :holder, 1, {now} + :ttl, {now})
        ON CONFLICT (name) DO UPDATE SET
            token = CASE WHEN {ours_and_live}
                         THEN leader_leases.token ELSE leader_leases.token + 1 END,
            acquired_at = CASE WHEN {ours_and_live}
                               THEN leader_leases.acquired_at ELSE {now} END,
            holder = excluded.holder,
            expires_at = {now} + :ttl
        WHERE leader_leases.expires_at <= {now} OR leader_leases.holder = excluded.holder
        RETURNING name, holder, token, expires_at
    """


def _grant(row: Any) -> LeaseGrant:
    return LeaseGrant(
        name=row.name, holder=row.holder, token=int(row.token), expires_at=float(row.expires_at)
    )


class SqlLeaderLease:
    """``LeaderLease`` on the storage's engine (PostgreSQL or SQLite, migrated to 0003)."""

    def __init__(
        self,
        engine: AsyncEngine,
        name: str = "agent",
        ttl_seconds: float = 15.0,
        *,
        holder: str | None = None,
    ) -> None:
        dialect = engine.dialect.name
        if dialect not in _NOW:
            raise ValueError(f"no leader lease for {dialect!r}")
        self.engine = engine
        self.name = name
        self.ttl_seconds = ttl_seconds
        self.holder = holder or lease_holder()
        self._pg = dialect == "postgresql"
        self._now = _NOW[dialect]
        self._acquire = text(_acquire_sql(self._now))
        self._renew = text(
            f"UPDATE leader_leases SET expires_at = {self._now} + :ttl "
            "WHERE name = :name AND token = :token AND holder = :holder "
            "RETURNING name, holder, token, expires_at"
        )

    def _key(self, token: int) -> dict[str, Any]:
        return {"name": self.name, "token": token, "holder": self.holder}

    async def acquire(self) -> LeaseGrant | None:
        """Take the lease if it is free, expired, ours, or held by a process that is gone."""
        grant = await self._try_acquire()
        if grant is not None:
            return grant
        held = await self.current()
        if held is None or not holder_is_gone(held.holder, self_holder=self.holder):
            return None
        async with self.engine.begin() as conn:  # its process died on this host: expire it now
            await conn.execute(
                text(
                    "UPDATE leader_leases SET expires_at = 0 "
                    "WHERE name = :name AND holder = :holder AND token = :token"
                ),
                {"name": self.name, "holder": held.holder, "token": held.token},
            )
        return await self._try_acquire()

    async def _try_acquire(self) -> LeaseGrant | None:
        params = {"name": self.name, "holder": self.holder, "ttl": self.ttl_seconds}
        try:
            async with self.engine.begin() as conn:
                if self._pg:  # a leader inside its fence holds the row; don't queue behind it
                    timeout_ms = max(100, int(self.ttl_seconds * 1000 / 3))
                    await conn.execute(text(f"SET LOCAL lock_timeout = {timeout_ms}"))
                row = (await conn.execute(self._acquire, params)).first()
        except DBAPIError as exc:
            if getattr(exc.orig, "pgcode", None) == _LOCK_NOT_AVAILABLE:
                return None
            raise
        return _grant(row) if row is not None else None

    async def renew(self, token: int) -> LeaseGrant:
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(self._renew, {**self._key(token), "ttl": self.ttl_seconds})
            ).first()
        if row is None:
            raise StaleLeader(self._stale(token))
        return _grant(row)

    async def release(self, token: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE leader_leases SET holder = '', expires_at = 0 "
                    "WHERE name = :name AND token = :token AND holder = :holder"
                ),
                self._key(token),
            )

    async def is_current(self, token: int) -> bool:
        async with self.engine.connect() as conn:
            return await self._holds(conn, token, lock=False)

    @asynccontextmanager
    async def fenced(self, token: int) -> AsyncIterator[None]:
        async with self.engine.connect() as conn, conn.begin():
            if not await self._holds(conn, token, lock=self._pg):
                raise StaleLeader(self._stale(token))
            yield

    async def current(self) -> LeaseGrant | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT name, holder, token, expires_at FROM leader_leases "
                        "WHERE name = :name"
                    ),
                    {"name": self.name},
                )
            ).first()
        return _grant(row) if row is not None else None

    async def _holds(self, conn: AsyncConnection, token: int, *, lock: bool) -> bool:
        sql = (
            "SELECT token FROM leader_leases "
            "WHERE name = :name AND token = :token AND holder = :holder"
        )
        row = (
            await conn.execute(text(sql + (" FOR SHARE" if lock else "")), self._key(token))
        ).first()
        return row is not None

    def _stale(self, token: int) -> str:
        return (
            f"stale leader: lease {self.name!r} token {token} is no longer held by "
            f"{self.holder}; another process leads now"
        )
