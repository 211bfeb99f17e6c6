"""PostgreSQL connections handed out alive, without the pool's pre-ping round trips.

SQLAlchemy's ``pool_pre_ping`` proves a pooled connection works before lending it: on asyncpg
that is three round trips per checkout (BEGIN, an empty statement, ROLLBACK), more than half
of what a decision write itself needs. Here each checkout instead sends the BEGIN that the
borrower's first statement would send anyway (asyncpg's adapter begins lazily). If that BEGIN
finds the connection gone (the server restarted, ``pg_terminate_backend``, an idle timeout),
nothing of the borrower's has been sent: the pool drops every connection older than now,
connects afresh and begins again, and the borrower never sees the disconnect. A connection
that dies after its BEGIN fails its unit of work, whose transaction the server then rolls back
(no COMMIT was sent): the same guarantee the pre-ping gave, whose check also came before the work.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_only


def begin_on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    """Pool ``checkout`` listener for the asyncpg dialect (runs in SQLAlchemy's greenlet)."""
    adapted = dbapi_connection  # sqlalchemy's AsyncAdapt_asyncpg_connection
    driver: Any = record.driver_connection  # the asyncpg connection
    if adapted._transaction is not None or adapted.isolation_level == "autocommit":
        return
    if driver.is_closed():  # the server's goodbye has been read already
        raise InvalidatePoolError("connection closed while pooled")
    try:
        await_only(adapted._start_transaction())
    except Exception as exc:
        if driver.is_closed():
            raise InvalidatePoolError(f"connection lost at BEGIN: {exc}") from exc
        raise
