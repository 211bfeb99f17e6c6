"""SQLAlchemy implementations of the storage ports, one class per aggregate."""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    delete,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ffe_adapters.storage.sql.sqlite_driver import DEFERRED
from ffe_adapters.storage.sql.tables import (
    AccountRow,
    AgentCycleRow,
    AgentRunRow,
    ApprovalRow,
    DecisionRow,
    FillRow,
    OrderRow,
    OutcomeRow,
    PositionRow,
    ProviderStatsRow,
    StateRow,
    VenueFillRow,
    VenueOrderRow,
    VoteRow,
)
from ffe_core.domain.agent import AgentCycle, AgentRun, AgentState, CyclePhase
from ffe_core.domain.approvals import Approval, ApprovalStatus
from ffe_core.domain.decisions import Decision
from ffe_core.domain.errors import ConflictError, ValidationFailed
from ffe_core.domain.market import Quote
from ffe_core.domain.orders import Fill, FillMark, Order, OrderStatus
from ffe_core.domain.outcomes import DecisionOutcome
from ffe_core.domain.performance import ProviderStats
from ffe_core.domain.portfolio import Portfolio, Position, TradingMode
from ffe_core.ports.storage import DecisionQuery, StoredDecisions


def _json(model: Any) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json")
    return data


@functools.cache
def _insert_new_for(dialect: str, table: Table) -> Any:
    if dialect == "postgresql":  # its dialect module loads only for a PostgreSQL storage
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    return sqlite_insert(table).on_conflict_do_nothing()


@functools.cache
def _insert_fill(dialect: str, table: Table) -> Any:
    """A fill's ``INSERT ... ON CONFLICT DO NOTHING`` numbering it after the table's last."""
    last = select(func.coalesce(func.max(table.c.seq), 0) + 1).scalar_subquery()
    return _insert_new_for(dialect, table).values(seq=last)


def insert_new(session: AsyncSession, table: Table) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING``: a duplicate key inserts nothing (rowcount 0)
    and, unlike an IntegrityError, leaves the transaction usable on PostgreSQL. Built once per
    dialect and table; callers pass the row as parameters (``execute(stmt, row)``), so each
    write reuses one compiled statement instead of building and keying a new one."""
    return _insert_new_for(session.get_bind().dialect.name, table)


@functools.cache
def _upsert_for(dialect: str, table: Table) -> Any:
    if dialect == "postgresql":  # as in _insert_new_for: loaded only for PostgreSQL
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table)
    else:
        stmt = sqlite_insert(table)
    key = [c.name for c in table.primary_key]
    rest = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in key}
    return stmt.on_conflict_do_update(index_elements=key, set_=rest)


def _upsert(session: AsyncSession, table: Table) -> Any:
    """``INSERT ... ON CONFLICT (primary key) DO UPDATE``: what ``session.merge`` does, in one
    statement instead of a SELECT and an INSERT or UPDATE (built once per dialect and table),
    :func:`deferred` (nothing is read back from an upsert)."""
    return _deferred_upsert_for(session.get_bind().dialect.name, table)


@functools.cache
def _deferred_upsert_for(dialect: str, table: Table) -> Any:
    return deferred(_upsert_for(dialect, table))


def deferred(statement: Any) -> Any:
    """``statement`` marked as one whose result (row count, row id) nobody reads: SQLite sends
    it with the connection's next round trip (``sqlite_driver.DEFERRED``)."""
    return statement.execution_options(**{DEFERRED: True})


def rowcount_of(result: Any) -> int:
    count: int = cast(CursorResult[Any], result).rowcount
    return count


def parse_cursor(cursor: str) -> tuple[datetime, str]:
    """Decode ``"<iso timestamp>|<id>"``; anything else is a ValidationFailed naming the cursor."""
    try:
        ts, ident = cursor.split("|", 1)
        when = datetime.fromisoformat(ts)
    except ValueError:
        raise ValidationFailed("cursor: not a cursor returned by this API") from None
    if when.tzinfo is None or not ident:
        raise ValidationFailed("cursor: not a cursor returned by this API")
    return when, ident


_CYCLES = cast(Table, AgentCycleRow.__table__)
_ADD_CYCLE = deferred(insert(_CYCLES))
_DECISIONS = cast(Table, DecisionRow.__table__)
_ADD_DECISION = deferred(insert(_DECISIONS))
_STATS = cast(Table, ProviderStatsRow.__table__)
_STATE = cast(Table, StateRow.__table__)
_OUTCOMES = cast(Table, OutcomeRow.__table__)


_IDS_PER_READ = 500
"""Ids asked for in one ``IN`` list (well under SQLite's limit on bound parameters)."""


def _in_turns(ids: Collection[str]) -> list[list[str]]:
    """``ids`` without repeats, in lists of at most :data:`_IDS_PER_READ` (one ``IN`` each)."""
    unique = list(dict.fromkeys(ids))
    return [unique[at : at + _IDS_PER_READ] for at in range(0, len(unique), _IDS_PER_READ)]


_GET_DECISIONS = select(DecisionRow.id, DecisionRow.payload).where(
    DecisionRow.id.in_(bindparam("ids", expanding=True))
)
"""The decisions among ``:ids`` (an expanding list)."""


class SqlDecisions:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, decision: Decision, *, fresh: bool = False) -> None:
        """Two statements: the decision (refused by its primary key, not by a look-up first)
        and its votes in one executemany. ``fresh``: a plain INSERT whose row count is not
        read (deferred: on SQLite it rides with the next statement or the COMMIT), so a
        duplicate fails the transaction instead."""
        row = {
            "id": decision.id,
            "instrument": decision.instrument,
            "action": decision.action.value,
            "confidence": decision.confidence,
            "created_at": decision.created_at,
            "payload": _json(decision),
        }
        if fresh:
            await self._s.execute(_ADD_DECISION, row)
        elif rowcount_of(await self._s.execute(insert_new(self._s, _DECISIONS), row)) == 0:
            raise ConflictError(f"decision {decision.id} exists")
        if decision.votes:
            await self._s.execute(
                insert(cast(Table, VoteRow.__table__)),
                [
                    {
                        "decision_id": decision.id,
                        "provider": v.provider,
                        "action": v.action.value,
                        "confidence": v.confidence,
                        "abstained": v.abstained,
                        "latency_ms": v.latency_ms,
                        "cost_usd": v.cost_usd,
                    }
                    for v in decision.votes
                ],
            )

    async def get(self, decision_id: str) -> Decision | None:
        row = await self._s.get(DecisionRow, decision_id)
        return None if row is None else Decision.model_validate(row.payload)

    async def get_many(self, decision_ids: Collection[str]) -> dict[str, Decision]:
        found: dict[str, Decision] = {}
        for ids in _in_turns(decision_ids):
            rows = await self._s.execute(_GET_DECISIONS, {"ids": ids})
            found.update((r.id, Decision.model_validate(r.payload)) for r in rows)
        return found

    async def list(self, query: DecisionQuery) -> tuple[list[Decision], str | None]:
        stored, cursor = await self.list_stored(query)
        return [Decision.model_validate(d) for d in stored], cursor

    async def list_stored(self, query: DecisionQuery) -> tuple[StoredDecisions, str | None]:
        t = DecisionRow.__table__.c
        stmt = select(t.payload, t.created_at, t.id)
        if query.instrument is not None:
            stmt = stmt.where(t.instrument == query.instrument)
        if query.action is not None:
            stmt = stmt.where(t.action == query.action.value)
        if query.since is not None:
            stmt = stmt.where(t.created_at >= query.since)
        if query.until is not None:
            stmt = stmt.where(t.created_at <= query.until)
        if query.cursor:
            ts, ident = parse_cursor(query.cursor)
            stmt = stmt.where(or_(t.created_at < ts, and_(t.created_at == ts, t.id < ident)))
        stmt = stmt.order_by(t.created_at.desc(), t.id.desc()).limit(query.limit + 1)
        rows = (await self._s.execute(stmt)).all()
        page = rows[: query.limit]
        more = len(rows) > query.limit
        cursor = f"{page[-1].created_at.isoformat()}|{page[-1].id}" if more and page else None
        return [r.payload for r in page], cursor


class SqlOrders:
    """Orders in ``row``'s table: the ledger (default) or the simulated venue's book."""

    def __init__(
        self, session: AsyncSession, row: type[OrderRow] | type[VenueOrderRow] = OrderRow
    ) -> None:
        self._s = session
        self._t = row

    def _row(self, order: Order) -> OrderRow | VenueOrderRow:
        return self._t(
            client_order_id=order.client_order_id,
            decision_id=order.decision_id,
            instrument=order.instrument,
            side=order.side.value,
            status=order.status.value,
            quantity=order.quantity,
            created_at=order.created_at,
            updated_at=order.updated_at,
            payload=_json(order),
        )

    async def add(self, order: Order) -> None:
        if await self._s.get(self._t, order.client_order_id) is not None:
            raise ConflictError(f"order {order.client_order_id} exists")
        self._s.add(self._row(order))
        try:
            await self._s.flush()
        except IntegrityError:
            raise ConflictError(f"order {order.client_order_id} exists") from None

    async def get(self, client_order_id: str) -> Order | None:
        row: Any = await self._s.get(self._t, client_order_id)
        return None if row is None else Order.model_validate(row.payload)

    async def update(self, order: Order) -> None:
        await self._s.merge(self._row(order))

    async def list(
        self,
        *,
        status: OrderStatus | frozenset[OrderStatus] | None = None,
        instrument: str | None = None,
        decision_ids: Collection[str] | None = None,
        created_in: tuple[datetime, datetime] | None = None,
        newest: int | None = None,
    ) -> list[Order]:
        statuses = (
            None
            if status is None
            else (status.value,)
            if isinstance(status, OrderStatus)
            else tuple(sorted(s.value for s in status))
        )
        turns = None if decision_ids is None else _in_turns(decision_ids)
        if turns is not None and len(turns) > 1:  # in turns (bound parameters' limit)
            parts = [
                await self.list(
                    status=status, instrument=instrument, decision_ids=ids, created_in=created_in
                )
                for ids in turns
            ]
            # the statement's order; a tie on the time (the same microsecond) is broken by
            # the id as Python compares strings, which a PostgreSQL collation may not
            merged = sorted(
                (o for part in parts for o in part), key=lambda o: (o.created_at, o.client_order_id)
            )
            return merged if newest is None else merged[max(len(merged) - newest, 0) :]
        ids = None if turns is None else [i for t in turns for i in t]
        stmt = _list_orders(
            self._t,
            statuses,
            by_instrument=instrument is not None,
            by_decisions=ids is not None,
            by_creation=created_in is not None,
            newest=newest is not None,
        )
        start, end = created_in or (None, None)
        given = {
            "instrument": instrument,
            "decision_ids": ids,
            "created_from": start,
            "created_to": end,
            "newest": newest,
        }
        params = {k: v for k, v in given.items() if v is not None}
        rows: Sequence[Any] = (await self._s.scalars(stmt, params)).all()
        return [Order.model_validate(r.payload) for r in _oldest_first(rows, newest)]


def _oldest_first(rows: Sequence[Any], newest: int | None) -> Sequence[Any]:
    """Rows read newest first (to take the last ``newest``), put back in order."""
    return rows if newest is None else rows[::-1]


@functools.cache
def _list_orders(
    table: Any,
    statuses: tuple[str, ...] | None,
    *,
    by_instrument: bool,
    by_decisions: bool,
    by_creation: bool,
    newest: bool,
) -> Any:
    """The listing of ``table``'s orders, built once per filter (see ``_LOAD_ACCOUNT``); with
    ``newest``, the last ``:newest`` of them, read newest first."""
    order = (table.created_at, table.client_order_id)
    stmt = select(table)
    if statuses is not None:
        stmt = stmt.where(
            table.status == statuses[0] if len(statuses) == 1 else table.status.in_(statuses)
        )
    if by_instrument:
        stmt = stmt.where(table.instrument == bindparam("instrument"))
    if by_decisions:
        stmt = stmt.where(table.decision_id.in_(bindparam("decision_ids", expanding=True)))
    if by_creation:
        stmt = stmt.where(
            table.created_at >= bindparam("created_from"),
            table.created_at < bindparam("created_to"),
        )
    if newest:
        return stmt.order_by(*(c.desc() for c in order)).limit(bindparam("newest"))
    return stmt.order_by(*order)


class SqlFills:
    """Fills in ``row``'s table: the ledger (default) or the simulated venue's executions."""

    def __init__(
        self, session: AsyncSession, row: type[FillRow] | type[VenueFillRow] = FillRow
    ) -> None:
        self._s = session
        self._t = row

    async def add(self, fill: Fill) -> bool:
        return await self._insert(fill)

    async def _insert(self, fill: Fill, **columns: Any) -> bool:
        """Insert ``fill`` (with the table's own ``columns``) unless its id is recorded: one
        statement, its ``seq`` the table's highest plus one (a subquery), whose row count
        says whether it was new (was a look-up, a ``max(seq)`` and the INSERT: three trips)."""
        table = cast(Table, self._t.__table__)
        row = {
            "fill_id": fill.fill_id,
            "client_order_id": fill.client_order_id,
            "instrument": fill.instrument,
            "ts": fill.ts,
            "payload": _json(fill),
            **columns,
        }
        inserted = await self._s.execute(_insert_fill(self._s.get_bind().dialect.name, table), row)
        return rowcount_of(inserted) == 1

    async def since(self, mark: FillMark | None) -> tuple[list[Fill], FillMark]:
        """One statement (one snapshot): the fills with a ``seq`` past the mark's, each row
        with the table's count (a one-row count outer-joined to them). A count other than the
        mark's plus those fills means one was recorded at or before the mark's ``seq`` after
        it was read (PostgreSQL writers take ``seq`` before they commit): then all are read."""
        after = -1 if mark is None else mark.seq
        rows = (await self._s.execute(_fills_since(self._t), {"after": after})).all()
        total = int(rows[0].total)
        fresh = [r for r in rows if r.seq is not None]
        if mark is not None and total != mark.count + len(fresh):
            return await self.since(None)
        top = max((r.seq for r in fresh), default=after if mark is not None else 0)
        return [Fill.model_validate(r.payload) for r in fresh], FillMark(seq=top, count=total)

    async def list(
        self, client_order_id: str | None = None, *, newest: int | None = None
    ) -> list[Fill]:
        stmt = select(self._t)
        if client_order_id is not None:
            stmt = stmt.where(self._t.client_order_id == client_order_id)
        if newest is None:
            stmt = stmt.order_by(self._t.seq)
        else:
            stmt = stmt.order_by(self._t.seq.desc()).limit(newest)
        rows: Sequence[Any] = (await self._s.scalars(stmt)).all()
        return [Fill.model_validate(r.payload) for r in _oldest_first(rows, newest)]

    async def recorded(self, fill_ids: Collection[str]) -> set[str]:
        found: set[str] = set()
        stmt = _recorded_fills(self._t)
        for ids in _in_turns(fill_ids):
            found.update(await self._s.scalars(stmt, {"ids": ids}))
        return found


@functools.cache
def _fills_since(table: Any) -> Any:
    """``table``'s fills with a ``seq`` past ``:after``, each with the table's count."""
    t = cast(Table, table.__table__)
    counted = select(func.count().label("total")).select_from(t).subquery()
    return (
        select(counted.c.total, t.c.seq, t.c.payload)
        .select_from(counted.outerjoin(t, t.c.seq > bindparam("after")))
        .order_by(t.c.seq)
    )


@functools.cache
def _recorded_fills(table: Any) -> Any:
    """Which of ``:ids`` (an expanding list) ``table`` holds."""
    return select(table.fill_id).where(table.fill_id.in_(bindparam("ids", expanding=True)))


class SqlVenueFills(SqlFills):
    """The simulated venue's executions, each with the quote it met."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, VenueFillRow)

    async def add(self, fill: Fill, quote: Quote | None = None) -> bool:
        return await self._insert(fill, quote=None if quote is None else _json(quote))

    async def quote(self, client_order_id: str) -> Quote | None:
        stmt = (
            select(VenueFillRow.quote)
            .where(VenueFillRow.client_order_id == client_order_id)
            .order_by(VenueFillRow.seq.desc())
            .limit(1)
        )
        payload = await self._s.scalar(stmt)
        return None if payload is None else Quote.model_validate(payload)


_LOAD_ACCOUNT = (
    select(
        AccountRow.cash,
        AccountRow.currency,
        AccountRow.mode,
        PositionRow.instrument,
        PositionRow.quantity,
        PositionRow.average_price,
        PositionRow.realized_pnl,
    )
    .outerjoin(PositionRow, PositionRow.account_id == AccountRow.account_id)
    .where(AccountRow.account_id == bindparam("account_id"))
)
"""Built once (a statement built per call costs more Python than its round trip)."""


class SqlAccounts:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def load(self, account_id: str) -> Portfolio | None:
        """One SELECT: the account joined to its positions (a row per position, or one row of
        NULL position columns); mapped columns, so the session's pending writes are flushed."""
        rows = (await self._s.execute(_LOAD_ACCOUNT, {"account_id": account_id})).all()
        if not rows:
            return None
        first = rows[0]
        return Portfolio(
            cash=first.cash,
            currency=first.currency,
            mode=TradingMode(first.mode),
            positions={
                r.instrument: Position(
                    instrument=r.instrument,
                    quantity=r.quantity,
                    average_price=r.average_price,
                    realized_pnl=r.realized_pnl,
                )
                for r in rows
                if r.instrument is not None
            },
        )

    async def save(self, account_id: str, portfolio: Portfolio) -> None:
        from ffe_core.domain.decisions import utcnow

        await self._s.merge(
            AccountRow(
                account_id=account_id,
                cash=portfolio.cash,
                currency=portfolio.currency,
                mode=portfolio.mode.value,
                updated_at=utcnow(),
            )
        )
        await self._s.execute(delete(PositionRow).where(PositionRow.account_id == account_id))
        self._s.add_all(
            PositionRow(
                account_id=account_id,
                instrument=p.instrument,
                quantity=p.quantity,
                average_price=p.average_price,
                realized_pnl=p.realized_pnl,
            )
            for p in portfolio.positions.values()
        )


class SqlProviderStats:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, provider: str) -> ProviderStats | None:
        t = ProviderStatsRow
        payload = await self._s.scalar(select(t.payload).where(t.provider == provider))
        return None if payload is None else ProviderStats.model_validate(payload)

    async def save(self, stats: ProviderStats) -> None:
        """One upsert, sent with the transaction's next statement or its COMMIT on SQLite."""
        await self._s.execute(
            _upsert(self._s, _STATS),
            {
                "provider": stats.provider,
                "weight": stats.weight,
                "updated_at": stats.updated_at,
                "payload": _json(stats),
            },
        )

    async def list(self) -> list[ProviderStats]:
        rows = await self._s.scalars(select(ProviderStatsRow).order_by(ProviderStatsRow.provider))
        return [ProviderStats.model_validate(r.payload) for r in rows.all()]


class SqlAgent:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    def _run_row(self, run: AgentRun) -> AgentRunRow:
        return AgentRunRow(
            id=run.id, state=run.state.value, started_at=run.started_at, payload=_json(run)
        )

    @staticmethod
    def _cycle_row(c: AgentCycle) -> dict[str, Any]:
        return {
            "id": c.id,
            "run_id": c.run_id,
            "seq": c.seq,
            "instrument": c.instrument,
            "phase": c.phase.value,
            "started_at": c.started_at,
            "payload": _json(c),
        }

    async def add_run(self, run: AgentRun) -> None:
        self._s.add(self._run_row(run))

    async def update_run(self, run: AgentRun) -> None:
        await self._s.merge(self._run_row(run))

    async def active_run(self) -> AgentRun | None:
        stmt = (
            select(AgentRunRow)
            .where(AgentRunRow.state != AgentState.STOPPED.value)
            .order_by(AgentRunRow.started_at.desc())
            .limit(1)
        )
        row = await self._s.scalar(stmt)
        return None if row is None else AgentRun.model_validate(row.payload)

    async def add_cycle(self, cycle: AgentCycle) -> None:
        await self._s.execute(_ADD_CYCLE, self._cycle_row(cycle))

    async def update_cycle(self, cycle: AgentCycle) -> None:
        await self._s.execute(_upsert(self._s, _CYCLES), self._cycle_row(cycle))

    async def close_cycle(self, cycle: AgentCycle) -> bool:
        ended = (CyclePhase.DONE.value, CyclePhase.FAILED.value)
        result = await self._s.execute(
            update(AgentCycleRow)
            .where(AgentCycleRow.id == cycle.id, AgentCycleRow.phase.not_in(ended))
            .values(phase=cycle.phase.value, payload=_json(cycle))
            .execution_options(synchronize_session=False)
        )
        return rowcount_of(result) > 0

    async def list_cycles(self, run_id: str | None = None, limit: int = 100) -> list[AgentCycle]:
        stmt = select(AgentCycleRow).order_by(
            AgentCycleRow.started_at.desc(), AgentCycleRow.seq.desc()
        )
        if run_id is not None:
            stmt = stmt.where(AgentCycleRow.run_id == run_id)
        rows = (await self._s.scalars(stmt.limit(limit))).all()
        return [AgentCycle.model_validate(r.payload) for r in rows]


class SqlApprovals:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    def _row(self, a: Approval) -> ApprovalRow:
        return ApprovalRow(
            id=a.id,
            decision_id=a.decision_id,
            status=a.status.value,
            created_at=a.created_at,
            payload=_json(a),
        )

    async def add(self, approval: Approval) -> None:
        self._s.add(self._row(approval))
        try:
            await self._s.flush()
        except IntegrityError:
            raise ConflictError(
                f"decision {approval.decision_id} already has an approval"
            ) from None

    async def get(self, approval_id: str) -> Approval | None:
        row = await self._s.get(ApprovalRow, approval_id)
        return None if row is None else Approval.model_validate(row.payload)

    async def of_decision(self, decision_id: str) -> Approval | None:
        stmt = select(ApprovalRow.payload).where(ApprovalRow.decision_id == decision_id)
        payload = await self._s.scalar(stmt)
        return None if payload is None else Approval.model_validate(payload)

    async def update(self, approval: Approval) -> None:
        await self._s.merge(self._row(approval))

    async def transition(self, approval: Approval, expected: ApprovalStatus) -> bool:
        # One conditional UPDATE: concurrent writers serialise on the row, and only the first
        # finds the expected status (SQLite: the statement takes the write lock before reading).
        result = await self._s.execute(
            update(ApprovalRow)
            .where(ApprovalRow.id == approval.id, ApprovalRow.status == expected.value)
            .values(status=approval.status.value, payload=_json(approval))
            .execution_options(synchronize_session=False)
        )
        return rowcount_of(result) == 1

    async def list(
        self, status: ApprovalStatus | frozenset[ApprovalStatus] | None = None
    ) -> list[Approval]:
        stmt = select(ApprovalRow).order_by(ApprovalRow.created_at.desc())
        if isinstance(status, ApprovalStatus):
            stmt = stmt.where(ApprovalRow.status == status.value)
        elif status is not None:
            stmt = stmt.where(ApprovalRow.status.in_(sorted(s.value for s in status)))
        return [Approval.model_validate(r.payload) for r in (await self._s.scalars(stmt)).all()]


class SqlOutcomes:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, outcome: DecisionOutcome) -> bool:
        """One statement, refused by the primary key (False: that pair is scored already, by
        this transaction or one committed before it)."""
        inserted = await self._s.execute(
            insert_new(self._s, _OUTCOMES),
            {
                "decision_id": outcome.decision_id,
                "horizon": outcome.horizon,
                "instrument": outcome.instrument,
                "action": outcome.action.value,
                "due_at": outcome.due_at,
                "scored_at": outcome.scored_at,
                "realized_return": outcome.realized_return,
                "payload": _json(outcome),
            },
        )
        return rowcount_of(inserted) == 1

    async def by_decisions(self, decision_ids: Sequence[str]) -> list[DecisionOutcome]:
        if not decision_ids:
            return []
        stmt = (
            select(OutcomeRow)
            .where(OutcomeRow.decision_id.in_(list(decision_ids)))
            .order_by(OutcomeRow.due_at, OutcomeRow.decision_id, OutcomeRow.horizon)
        )
        rows = (await self._s.scalars(stmt)).all()
        return [DecisionOutcome.model_validate(r.payload) for r in rows]

    async def pending(
        self, due: Mapping[str, datetime], limit: int = 1000
    ) -> list[tuple[Decision, tuple[str, ...]]]:
        """One SELECT over the open decisions (index ``ix_decisions_open``): per horizon a
        column telling whether the decision is due there and not scored yet."""
        if not due:
            return []
        d, o = DecisionRow, OutcomeRow
        horizons = list(due)
        wanted = [
            and_(
                d.created_at <= due[h],
                ~exists().where(o.decision_id == d.id, o.horizon == h),
            )
            for h in horizons
        ]
        stmt = (
            select(d.payload, *(w.label(f"due_{i}") for i, w in enumerate(wanted)))
            .where(
                d.outcomes_complete == false(),
                d.created_at <= max(due.values()),
                or_(*wanted),
            )
            .order_by(d.created_at, d.id)
            .limit(limit)
        )
        rows = (await self._s.execute(stmt)).all()
        return [
            (
                Decision.model_validate(row[0]),
                tuple(h for i, h in enumerate(horizons) if row[i + 1]),
            )
            for row in rows
        ]

    async def complete(self, horizons: Sequence[str], decided_before: datetime) -> None:
        d, o = DecisionRow, OutcomeRow
        scored = (
            select(func.count())
            .where(o.decision_id == d.id, o.horizon.in_(list(horizons)))
            .scalar_subquery()
        )
        await self._s.execute(
            update(d)
            .where(
                d.outcomes_complete == false(),
                d.created_at <= decided_before,
                scored == len(set(horizons)),
            )
            .values(outcomes_complete=True)
            .execution_options(synchronize_session=False)
        )

    async def reopen(self) -> None:
        await self._s.execute(
            update(DecisionRow)
            .where(DecisionRow.outcomes_complete == true())
            .values(outcomes_complete=False)
            .execution_options(synchronize_session=False)
        )

    async def list(
        self,
        *,
        instrument: str | None = None,
        horizon: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[DecisionOutcome]:
        stmt = select(OutcomeRow)
        if instrument is not None:
            stmt = stmt.where(OutcomeRow.instrument == instrument)
        if horizon is not None:
            stmt = stmt.where(OutcomeRow.horizon == horizon)
        if since is not None:
            stmt = stmt.where(OutcomeRow.due_at >= since)
        stmt = stmt.order_by(
            OutcomeRow.due_at.desc(), OutcomeRow.decision_id.desc(), OutcomeRow.horizon.desc()
        ).limit(max(limit, 0))
        rows = (await self._s.scalars(stmt)).all()
        return [DecisionOutcome.model_validate(r.payload) for r in reversed(rows)]


class SqlState:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, key: str) -> dict[str, Any] | None:
        payload = await self._s.scalar(select(StateRow.payload).where(StateRow.key == key))
        return None if payload is None else dict(payload)

    async def put(self, key: str, value: dict[str, Any]) -> None:
        """One upsert, sent with the transaction's next statement or its COMMIT on SQLite."""
        from ffe_core.domain.decisions import utcnow

        await self._s.execute(
            _upsert(self._s, _STATE), {"key": key, "updated_at": utcnow(), "payload": value}
        )

    async def lock(self, key: str) -> None:
        """PostgreSQL: a transaction-scoped advisory lock on the schema and key (held whether or
        not the row exists yet). SQLite: the database's write lock, taken by a write that changes
        nothing (SQLite has one writer at a time; ``busy_timeout`` bounds the wait)."""
        if self._s.get_bind().dialect.name == "postgresql":
            await self._s.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':' || :key))"),
                {"key": key},
            )
        else:
            await self._s.execute(text("UPDATE service_state SET key = key WHERE 0"))
