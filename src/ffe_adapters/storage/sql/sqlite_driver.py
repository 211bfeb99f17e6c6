"""SQLite for SQLAlchemy's ``aiosqlite`` dialect at one worker-thread round trip per statement.

aiosqlite runs every call of the DB-API on its connection's worker thread, and SQLAlchemy's
adapter makes four such calls per statement (open a cursor, execute, fetch, close), plus a
rollback each time a connection goes back to the pool. On a busy machine each round trip costs
a thread wake-up, and they, not SQLite, made up most of a unit of work's time. This connection
keeps aiosqlite's worker thread (so SQLite still never blocks the event loop) and changes only
how much is sent to it at once: a statement and its rows travel together, cursors are opened
inside that same trip and closed without one, and commit/rollback skip the trip when no
transaction is open. An INSERT's ``executemany`` (rows whose result nobody reads: SQLAlchemy uses it
for a list of INSERT parameters) does not travel alone: it is queued and runs on the worker first
thing in the connection's next trip, before that trip's own statement or COMMIT, so a decision
with its votes is two trips (INSERT, then votes + COMMIT). An error in a queued statement is
raised by that next call, before its statement runs and instead of committing; a rollback
drops the queue. A single-row INSERT marked :data:`DEFERRED` (its row count and row id unread)
is sent as such an ``executemany`` of one row (:func:`execute_deferred`), so it waits for the
next trip too. Selected through the dialect's ``async_creator_fn`` connect argument.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

import aiosqlite

Row = tuple[Any, ...]

DEFERRED = "ffe_deferred"
"""Execution option of an INSERT whose result (row count, row id) nobody reads: on SQLite it
rides with the connection's next trip (the next statement or the COMMIT); elsewhere ignored."""


def execute_deferred(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
    """The engine's ``do_execute`` hook: a statement marked :data:`DEFERRED` goes to the cursor
    as an ``executemany`` of its one row (queued, see :meth:`OneTripCursor.executemany`);
    anything else is left to SQLAlchemy (None)."""
    if not context.execution_options.get(DEFERRED):
        return None
    cursor.executemany(statement, [parameters])
    return True


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
        """An INSERT inside a transaction is queued for the connection's next trip (see the
        module docstring); anything else (an UPDATE's row count is read) runs now."""
        if self._connection.can_queue(sql):
            self._connection.queue(sql, list(parameters))
            self.description, self.rowcount, self._rows = None, -1, []
            return self

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

    _queued: list[tuple[str, list[Any]]]

    def can_queue(self, sql: str) -> bool:
        """Whether ``sql`` may wait for the next trip: an INSERT, with a COMMIT or ROLLBACK
        to come (not in autocommit mode, where no later trip is certain)."""
        return self._conn.isolation_level is not None and sql.lstrip()[:6].upper() == "INSERT"

    def queue(self, sql: str, rows: list[Any]) -> None:
        """An ``executemany`` to run first thing in the next trip."""
        self._queued.append((sql, rows))

    async def run(self, fn: Any) -> Any:
        """Run the queued statements, then ``fn(sqlite3_connection)``, on the worker thread."""
        queued, self._queued = self._queued, []
        if not queued:
            return await self._execute(lambda: fn(self._conn))  # type: ignore[no-untyped-call]

        def first_the_queue() -> Any:
            db = self._conn
            for sql, rows in queued:
                db.executemany(sql, rows)
            return fn(db)

        return await self._execute(first_the_queue)  # type: ignore[no-untyped-call]

    def cursor(self) -> OneTripCursor:  # type: ignore[override]  # SQLAlchemy enters it itself
        return OneTripCursor(self)

    def _in_transaction(self) -> bool:
        # safe from the event loop: no call is pending on the worker while SQLAlchemy asks
        # (checked with check_same_thread=False, which only disables that check)
        return self._connection is not None and self._connection.in_transaction

    async def commit(self) -> None:
        if self._queued:  # a transaction is open (the queue's statements are its own)
            await self.run(lambda db: db.commit())
        elif self._in_transaction():
            await super().commit()

    async def rollback(self) -> None:
        self._queued = []
        if self._in_transaction():
            await super().rollback()

    async def close(self) -> None:
        self._queued = []
        await super().close()


def connect(database: str, **kwargs: Any) -> OneTripConnection:
    """What the dialect calls instead of ``aiosqlite.connect`` (same arguments)."""
    kwargs["check_same_thread"] = False
    connection = OneTripConnection(partial(sqlite3.connect, database, **kwargs), 64)
    connection._queued = []
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
    return connection
