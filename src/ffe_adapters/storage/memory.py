"""An in-memory unit of work with the same transactional behaviour as the SQL one.

Changes are staged on a copy and published on commit, so an exception before commit leaves
nothing behind — exactly what the SQL adapter guarantees. Used by unit tests and by adapters'
own tests; never by a running process.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from ffe_adapters.storage.memory_ledger import MemoryFlight, MemoryProviderCalls
from ffe_core.domain.agent import AgentCycle, AgentRun, AgentState, CyclePhase
from ffe_core.domain.approvals import Approval, ApprovalStatus
from ffe_core.domain.costs import ProviderCall
from ffe_core.domain.decisions import Decision
from ffe_core.domain.errors import ConflictError
from ffe_core.domain.flight import DecisionRecord
from ffe_core.domain.market import Quote
from ffe_core.domain.orders import Fill, FillMark, Order, OrderStatus
from ffe_core.domain.outcomes import DecisionOutcome
from ffe_core.domain.performance import ProviderStats
from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.storage import DecisionQuery, StoredDecisions

T = TypeVar("T")


@dataclass
class _Tables:
    decisions: dict[str, Decision] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    fills: dict[str, Fill] = field(default_factory=dict)
    venue_orders: dict[str, Order] = field(default_factory=dict)
    venue_fills: dict[str, Fill] = field(default_factory=dict)
    venue_fill_quotes: dict[str, Quote] = field(default_factory=dict)
    accounts: dict[str, Portfolio] = field(default_factory=dict)
    stats: dict[str, ProviderStats] = field(default_factory=dict)
    runs: dict[str, AgentRun] = field(default_factory=dict)
    cycles: dict[str, AgentCycle] = field(default_factory=dict)
    approvals: dict[str, Approval] = field(default_factory=dict)
    state: dict[str, dict[str, Any]] = field(default_factory=dict)
    outcomes: dict[tuple[str, str], DecisionOutcome] = field(default_factory=dict)
    complete: dict[str, bool] = field(default_factory=dict)  # decisions scored at every horizon
    provider_calls: dict[str, ProviderCall] = field(default_factory=dict)
    flight_records: dict[str, DecisionRecord] = field(default_factory=dict)
    flight_contents: dict[str, str] = field(default_factory=dict)


def _cursor_of(d: Decision) -> str:
    return f"{d.created_at.isoformat()}|{d.id}"


def page_decisions(
    decisions: list[Decision], query: DecisionQuery
) -> tuple[list[Decision], str | None]:
    """Filter, order newest first, and cut one page (shared by in-memory and tests)."""
    rows = [
        d
        for d in decisions
        if (query.instrument is None or d.instrument == query.instrument)
        and (query.action is None or d.action == query.action)
        and (query.since is None or d.created_at >= query.since)
        and (query.until is None or d.created_at <= query.until)
    ]
    rows.sort(key=lambda d: (d.created_at, d.id), reverse=True)
    if query.cursor:
        rows = [d for d in rows if _cursor_of(d) < query.cursor]
    page = rows[: query.limit]
    more = len(rows) > query.limit
    return page, (_cursor_of(page[-1]) if more and page else None)


class _Decisions:
    def __init__(self, t: _Tables) -> None:
        self._t = t

    async def add(self, decision: Decision, *, fresh: bool = False) -> None:
        if decision.id in self._t.decisions:
            raise ConflictError(f"decision {decision.id} exists")
        self._t.decisions[decision.id] = decision

    async def get(self, decision_id: str) -> Decision | None:
        return self._t.decisions.get(decision_id)

    async def get_many(self, decision_ids: Collection[str]) -> dict[str, Decision]:
        rows = self._t.decisions
        return {i: rows[i] for i in decision_ids if i in rows}

    async def list(self, query: DecisionQuery) -> tuple[list[Decision], str | None]:
        return page_decisions(list(self._t.decisions.values()), query)

    async def list_stored(self, query: DecisionQuery) -> tuple[StoredDecisions, str | None]:
        page, cursor = await self.list(query)
        return [d.model_dump(mode="json") for d in page], cursor


def _last(rows: list[T], newest: int | None) -> list[T]:
    """The last ``newest`` of ``rows`` (all for None), as the SQL listings' ``newest``."""
    return rows if newest is None else rows[max(len(rows) - newest, 0) :]


class _Orders:
    def __init__(self, t: _Tables, table: str = "orders") -> None:
        self._rows: dict[str, Order] = getattr(t, table)

    async def add(self, order: Order) -> None:
        if order.client_order_id in self._rows:
            raise ConflictError(f"order {order.client_order_id} exists")
        self._rows[order.client_order_id] = order

    async def get(self, client_order_id: str) -> Order | None:
        return self._rows.get(client_order_id)

    async def update(self, order: Order) -> None:
        self._rows[order.client_order_id] = order

    async def list(
        self,
        *,
        status: OrderStatus | frozenset[OrderStatus] | None = None,
        instrument: str | None = None,
        decision_ids: Collection[str] | None = None,
        created_in: tuple[datetime, datetime] | None = None,
        newest: int | None = None,
    ) -> list[Order]:
        wanted = {status} if isinstance(status, OrderStatus) else status
        start, end = created_in or (None, None)
        decisions = None if decision_ids is None else set(decision_ids)
        found = sorted(
            (
                o
                for o in self._rows.values()
                if (wanted is None or o.status in wanted)
                and (instrument is None or o.instrument == instrument)
                and (decisions is None or o.decision_id in decisions)
                and (start is None or start <= o.created_at)
                and (end is None or o.created_at < end)
            ),
            key=lambda o: (o.created_at, o.client_order_id),
        )
        return _last(found, newest)


class _Fills:
    def __init__(self, t: _Tables, table: str = "fills") -> None:
        self._rows: dict[str, Fill] = getattr(t, table)

    async def add(self, fill: Fill) -> bool:
        if fill.fill_id in self._rows:
            return False
        self._rows[fill.fill_id] = fill
        return True

    async def since(self, mark: FillMark | None) -> tuple[list[Fill], FillMark]:
        """In insertion order, never removed: the fills past ``mark.count``."""
        rows = list(self._rows.values())
        after = 0 if mark is None else mark.count
        return rows[after:], FillMark(seq=len(rows), count=len(rows))

    async def list(
        self, client_order_id: str | None = None, *, newest: int | None = None
    ) -> list[Fill]:
        found = [
            f
            for f in self._rows.values()
            if client_order_id is None or f.client_order_id == client_order_id
        ]
        return _last(found, newest)

    async def recorded(self, fill_ids: Collection[str]) -> set[str]:
        return {i for i in fill_ids if i in self._rows}


class _VenueFills(_Fills):
    """The simulated venue's executions, with the quote each met (by fill id)."""

    def __init__(self, t: _Tables) -> None:
        super().__init__(t, "venue_fills")
        self._quotes = t.venue_fill_quotes

    async def add(self, fill: Fill, quote: Quote | None = None) -> bool:
        if not await super().add(fill):
            return False
        if quote is not None:
            self._quotes[fill.fill_id] = quote
        return True

    async def quote(self, client_order_id: str) -> Quote | None:
        fills = await self.list(client_order_id)
        return self._quotes.get(fills[-1].fill_id) if fills else None


class _Accounts:
    def __init__(self, t: _Tables) -> None:
        self._t = t

    async def load(self, account_id: str) -> Portfolio | None:
        return self._t.accounts.get(account_id)

    async def save(self, account_id: str, portfolio: Portfolio) -> None:
        self._t.accounts[account_id] = portfolio


class _Stats:
    def __init__(self, t: _Tables) -> None:
        self._t = t

    async def get(self, provider: str) -> ProviderStats | None:
        return self._t.stats.get(provider)

    async def save(self, stats: ProviderStats) -> None:
        self._t.stats[stats.provider] = stats

    async def list(self) -> list[ProviderStats]:
        return sorted(self._t.stats.values(), key=lambda s: s.provider)


class _Agent:
    def __init__(self, t: _Tables) -> None:
        self._t = t

    async def add_run(self, run: AgentRun) -> None:
        self._t.runs[run.id] = run

    async def update_run(self, run: AgentRun) -> None:
        self._t.runs[run.id] = run

    async def active_run(self) -> AgentRun | None:
        active = [r for r in self._t.runs.values() if r.state is not AgentState.STOPPED]
        return max(active, key=lambda r: r.started_at) if active else None

    async def add_cycle(self, cycle: AgentCycle) -> None:
        self._t.cycles[cycle.id] = cycle

    async def update_cycle(self, cycle: AgentCycle) -> None:
        self._t.cycles[cycle.id] = cycle

    async def close_cycle(self, cycle: AgentCycle) -> bool:
        stored = self._t.cycles.get(cycle.id)
        if stored is not None and stored.phase in (CyclePhase.DONE, CyclePhase.FAILED):
            return False
        self._t.cycles[cycle.id] = cycle
        return True

    async def list_cycles(self, run_id: str | None = None, limit: int = 100) -> list[AgentCycle]:
        rows = [c for c in self._t.cycles.values() if run_id is None or c.run_id == run_id]
        rows.sort(key=lambda c: (c.started_at, c.seq), reverse=True)
        return rows[:limit]


class _Approvals:
    def __init__(
        self, t: _Tables, store: InMemoryStore, published: list[tuple[Approval, Approval]]
    ) -> None:
        self._t = t
        self._store = store
        self._published = published

    async def add(self, approval: Approval) -> None:
        # one approval per decision, as the SQL table's unique decision id
        if await self.of_decision(approval.decision_id) is not None:
            raise ConflictError(f"decision {approval.decision_id} already has an approval")
        self._t.approvals[approval.id] = approval

    async def get(self, approval_id: str) -> Approval | None:
        return self._t.approvals.get(approval_id)

    async def of_decision(self, decision_id: str) -> Approval | None:
        found = (a for a in self._t.approvals.values() if a.decision_id == decision_id)
        return next(found, None)

    async def update(self, approval: Approval) -> None:
        self._t.approvals[approval.id] = approval

    async def transition(self, approval: Approval, expected: ApprovalStatus) -> bool:
        # compare-and-set on the committed state, published at once (like a row lock + commit)
        current = self._store.tables.approvals.get(approval.id)
        if current is None or current.status is not expected:
            return False
        self._published.append((approval, current))  # undone if this unit of work rolls back
        self._store.tables.approvals[approval.id] = approval
        self._t.approvals[approval.id] = approval
        return True

    async def list(
        self, status: ApprovalStatus | frozenset[ApprovalStatus] | None = None
    ) -> list[Approval]:
        wanted = {status} if isinstance(status, ApprovalStatus) else status
        rows = [a for a in self._t.approvals.values() if wanted is None or a.status in wanted]
        return sorted(rows, key=lambda a: a.created_at, reverse=True)


class _Outcomes:
    def __init__(self, t: _Tables) -> None:
        self._t = t

    async def add(self, outcome: DecisionOutcome) -> bool:
        key = (outcome.decision_id, outcome.horizon)
        if key in self._t.outcomes:
            return False
        self._t.outcomes[key] = outcome
        return True

    async def by_decisions(self, decision_ids: Sequence[str]) -> list[DecisionOutcome]:
        wanted = set(decision_ids)
        rows = [o for o in self._t.outcomes.values() if o.decision_id in wanted]
        return sorted(rows, key=lambda o: (o.due_at, o.decision_id, o.horizon))

    async def pending(
        self, due: Mapping[str, datetime], limit: int = 1000
    ) -> list[tuple[Decision, tuple[str, ...]]]:
        rows = []
        for d in self._t.decisions.values():
            if d.id in self._t.complete:
                continue
            horizons = tuple(
                h
                for h, before in due.items()
                if d.created_at <= before and (d.id, h) not in self._t.outcomes
            )
            if horizons:
                rows.append((d, horizons))
        rows.sort(key=lambda row: (row[0].created_at, row[0].id))
        return rows[:limit]

    async def complete(self, horizons: Sequence[str], decided_before: datetime) -> None:
        for d in self._t.decisions.values():
            if d.created_at <= decided_before and all(
                (d.id, h) in self._t.outcomes for h in horizons
            ):
                self._t.complete[d.id] = True

    async def reopen(self) -> None:
        self._t.complete.clear()

    async def list(
        self,
        *,
        instrument: str | None = None,
        horizon: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[DecisionOutcome]:
        rows = [
            o
            for o in self._t.outcomes.values()
            if (instrument is None or o.instrument == instrument)
            and (horizon is None or o.horizon == horizon)
            and (since is None or o.due_at >= since)
        ]
        rows.sort(key=lambda o: (o.due_at, o.decision_id, o.horizon))
        return rows[-limit:] if limit > 0 else []


class _State:
    def __init__(self, t: _Tables, uow: InMemoryUnitOfWork) -> None:
        self._t = t
        self._uow = uow

    async def get(self, key: str) -> dict[str, Any] | None:
        value = self._t.state.get(key)
        return copy.deepcopy(value) if value is not None else None

    async def put(self, key: str, value: dict[str, Any]) -> None:
        self._t.state[key] = copy.deepcopy(value)

    async def lock(self, key: str) -> None:
        """Wait for the key's lock (held until this unit of work ends), then read the document
        as committed now: what a writer committed while this unit of work waited is seen."""
        await self._uow.hold(key)
        committed = self._uow.committed_state(key)
        if committed is None:
            self._t.state.pop(key, None)
        else:
            self._t.state[key] = committed


class InMemoryUnitOfWork:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self._staged = _Tables()
        self._published: list[tuple[Approval, Approval]] = []
        self._held: list[asyncio.Lock] = []  # the state keys locked until commit or rollback
        self._bind(self._staged)

    def _bind(self, t: _Tables) -> None:
        self.decisions = _Decisions(t)
        self.orders = _Orders(t)
        self.fills = _Fills(t)
        self.venue_orders = _Orders(t, "venue_orders")
        self.venue_fills = _VenueFills(t)
        self.accounts = _Accounts(t)
        self.provider_stats = _Stats(t)
        self.agent = _Agent(t)
        self.approvals = _Approvals(t, self._store, self._published)
        self.state = _State(t, self)
        self.outcomes = _Outcomes(t)
        self.provider_calls = MemoryProviderCalls(t.provider_calls)
        self.flight = MemoryFlight(t.flight_records, t.flight_contents)

    async def __aenter__(self) -> Self:
        self._staged = copy.copy(self._store.tables)
        for name in vars(self._staged):
            setattr(self._staged, name, dict(getattr(self._staged, name)))
        self._bind(self._staged)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        if self._store.fail_next_commit:
            self._store.fail_next_commit = False
            raise ConnectionError("injected commit failure")
        self._store.tables = self._staged
        self._store.commits += 1
        self._published.clear()
        self._release()
        await self.__aenter__()

    async def rollback(self) -> None:
        """Drop what was staged, and undo the transitions published early (as a database
        releases the row lock without writing) unless another writer has moved them since."""
        for new, old in reversed(self._published):
            if self._store.tables.approvals.get(new.id) is new:
                self._store.tables.approvals[new.id] = old
        self._published.clear()
        self._release()
        await self.__aenter__()

    async def hold(self, key: str) -> None:
        """Take the store's lock on state ``key`` until this unit of work commits or rolls back."""
        lock = self._store.state_locks.setdefault(key, asyncio.Lock())
        if lock not in self._held:
            await lock.acquire()
            self._held.append(lock)

    def committed_state(self, key: str) -> dict[str, Any] | None:
        """State ``key`` as committed now (a copy)."""
        value = self._store.tables.state.get(key)
        return copy.deepcopy(value) if value is not None else None

    def _release(self) -> None:
        for lock in self._held:
            lock.release()
        self._held.clear()


class InMemoryStore:
    """Shared state behind many units of work (one per transaction)."""

    def __init__(self) -> None:
        self.tables = _Tables()
        self.commits = 0
        self.fail_next_commit = False
        self.state_locks: dict[str, asyncio.Lock] = {}  # StateRepository.lock, per key

    def __call__(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self)


InMemoryUnitOfWorkFactory = InMemoryStore
"""A UnitOfWorkFactory: ``store = InMemoryUnitOfWorkFactory(); async with store() as uow: ...``."""
