"""SQLite for SQLAlchemy's ``aiosqlite`` dialect at one worker-thread round trip per statement.

aiosqlite runs every call of the DB-API on its connection's worker thread, and SQLAlchemy's
adapter makes four such calls per statement (open a cursor, execute, fetch, close), plus a
rollback each time a connection goes back to the pool. On a busy machine each round trip costs
a thread wake-up, and they, not SQLite, made up most of a unit of work's time. This connection
keeps aiosqlite's worker thread (so SQLite still never blocks the event loop) and changes only
how much is sent to it at once: a statement and its rows travel together, cursors are opened
inside that same trip and closed without one, and commit/rollback skip the trip when no
transaction is open. Selected through the dialect's ``async_creator_fn`` connect argument.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

import aiosqlite

Row = tuple[Any, ...]


class OneTripCursor:
    """The part of aiosqlite's cursor SQLAlchemy uses; each execute is one round trip that
    also fetches the rows, so fetching and closing cost none."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: list[Row] = []
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _done(self, answer: tuple[sqlite3.Cursor, list[Row]]) -> OneTripCursor:
        cursor, self._rows = answer
        self.description = cursor.description
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid
        return self

    async def execute(self, sql: str, parameters: Any = None) -> OneTripCursor:
        def run(db: sqlite3.Connection) -> tuple[sqlite3.Cursor, list[Row]]:
            cursor = db.execute(sql) if parameters is None else db.execute(sql, parameters)
            return cursor, cursor.fetchall() if cursor.description else []

        return self._done(await self._connection.run(run))

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneTripCursor:
        def run(db: sqlite3.Connection) -> tuple[sqlite3.Cursor, list[Row]]:
            return db.executemany(sql, parameters), []

        return self._done(await self._connection.run(run))

    async def fetchone(self) -> Row | None:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Row]:
        n = self.arraysize if size is None else size
        taken, self._rows = self._rows[:n], self._rows[n:]
        return taken

    async def fetchall(self) -> Sequence[Row]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors make one round trip per statement."""

    async def run(self, fn: Any) -> Any:
        """Run ``fn(sqlite3_connection)`` on the worker thread."""
        return await self._execute(lambda: fn(self._conn))  # type: ignore[no-untyped-call]

    def cursor(self) -> OneTripCursor:  # type: ignore[override]  # SQLAlchemy enters it itself
        return OneTripCursor(self)

    def _in_transaction(self) -> bool:
        # safe from the event loop: no call is pending on the worker while SQLAlchemy asks
        # (checked with check_same_thread=False, which only disables that check)
        return self._connection is not None and self._connection.in_transaction

    async def commit(self) -> None:
        if self._in_transaction():
            await super().commit()

    async def rollback(self) -> None:
        if self._in_transaction():
            await super().rollback()


def connect(database: str, **kwargs: Any) -> OneTripConnection:
    """What the dialect calls instead of ``aiosqlite.connect`` (same arguments)."""
    kwargs["check_same_thread"] = False
    connection = OneTripConnection(partial(sqlite3.connect, database, **kwargs), 64)
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
    return connection
