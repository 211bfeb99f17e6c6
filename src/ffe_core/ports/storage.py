"""Storage: repositories per aggregate and a unit of work that owns the transaction."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from pydantic import BaseModel, ConfigDict

from ffe_core.domain.agent import AgentCycle, AgentRun
from ffe_core.domain.approvals import Approval, ApprovalStatus
from ffe_core.domain.costs import ProviderCall, SpendTotal
from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.flight import DecisionRecord, GateVerdict
from ffe_core.domain.market import Quote, UtcDatetime
from ffe_core.domain.orders import Fill, FillMark, Order, OrderStatus
from ffe_core.domain.outcomes import DecisionOutcome
from ffe_core.domain.performance import ProviderStats
from ffe_core.domain.portfolio import Portfolio

StoredDecisions = list[dict[str, Any]]
"""Decisions as the JSON documents storage holds (``Decision.model_dump(mode="json")``)."""


class DecisionQuery(BaseModel):
    """Filters and cursor for listing decisions (newest first)."""

    model_config = ConfigDict(defer_build=True, frozen=True, allow_inf_nan=False)

    instrument: str | None = None
    action: Action | None = None
    since: UtcDatetime | None = None
    until: UtcDatetime | None = None
    limit: int = 50
    cursor: str | None = None  # opaque; the last item's "created_at|id" of the previous page


class DecisionRepository(Protocol):
    async def add(self, decision: Decision, *, fresh: bool = False) -> None:
        """Insert ``decision`` with its votes; raises ConflictError if its id is stored.
        ``fresh``: its maker has never offered it to storage, so nothing is read back (a
        stored id then fails the transaction's commit instead; nothing is ever doubled)."""
        ...

    async def get(self, decision_id: str) -> Decision | None: ...

    async def get_many(self, decision_ids: Collection[str]) -> dict[str, Decision]:
        """The stored decisions among ``decision_ids``, by id (unknown ids are left out)."""
        ...

    async def list(self, query: DecisionQuery) -> tuple[list[Decision], str | None]:
        """A page of decisions and the cursor of the next page (None at the end)."""
        ...

    async def list_stored(self, query: DecisionQuery) -> tuple[StoredDecisions, str | None]:
        """The same page as :meth:`list`, each decision as the JSON document ``add`` stored
        (``Decision.model_dump(mode="json")``), not validated again: for read endpoints."""
        ...


class OrderRepository(Protocol):
    async def add(self, order: Order) -> None:
        """Insert; raises ConflictError if the client order id exists."""
        ...

    async def get(self, client_order_id: str) -> Order | None: ...

    async def update(self, order: Order) -> None: ...

    async def list(
        self,
        *,
        status: OrderStatus | frozenset[OrderStatus] | None = None,
        instrument: str | None = None,
        decision_ids: Collection[str] | None = None,
        created_in: tuple[datetime, datetime] | None = None,
        newest: int | None = None,
    ) -> list[Order]:
        """Orders oldest first; ``status``: in that status (or any of a set of them);
        ``decision_ids``: caused by one of those decisions; ``created_in``: created in
        ``[start, end)``; ``newest``: only the last ``newest`` of them (still oldest first),
        read without the rest."""
        ...


class FillRepository(Protocol):
    async def add(self, fill: Fill) -> bool:
        """Insert; returns False (and changes nothing) if this fill id is already recorded."""
        ...

    async def since(self, mark: FillMark | None) -> tuple[list[Fill], FillMark]:
        """Fills recorded after ``mark`` (all, for None) in recording order, and the mark for
        the next read. One read: when the count shows a fill recorded with a place at or
        before ``mark`` (another writer's transaction committing late), every fill is
        returned, so none is ever missed (some are then returned again): the new mark then
        ``covers`` the fills returned."""
        ...

    async def list(
        self, client_order_id: str | None = None, *, newest: int | None = None
    ) -> list[Fill]:
        """Fills in recording order (of one order, or all); ``newest``: only the last
        ``newest`` of them, read without the rest."""
        ...

    async def recorded(self, fill_ids: Collection[str]) -> set[str]:
        """Which of ``fill_ids`` are recorded (read without the other fills)."""
        ...


class VenueFillRepository(FillRepository, Protocol):
    """The simulated venue's executions, each kept with the quote it met (a bar fill has none),
    so the venue tells that quote after a restart or to another process on the same storage."""

    async def add(self, fill: Fill, quote: Quote | None = None) -> bool:
        """Insert ``fill`` with ``quote``; returns False (and changes nothing) if this fill id is
        already recorded."""
        ...

    async def quote(self, client_order_id: str) -> Quote | None:
        """The quote the order's latest fill met (None: not filled, or filled on a bar)."""
        ...


class AccountRepository(Protocol):
    """The paper ledger: cash and positions per account id."""

    async def load(self, account_id: str) -> Portfolio | None: ...

    async def save(self, account_id: str, portfolio: Portfolio) -> None: ...


class ProviderStatsRepository(Protocol):
    async def get(self, provider: str) -> ProviderStats | None: ...

    async def save(self, stats: ProviderStats) -> None: ...

    async def list(self) -> list[ProviderStats]: ...


class AgentRepository(Protocol):
    async def add_run(self, run: AgentRun) -> None: ...

    async def update_run(self, run: AgentRun) -> None: ...

    async def active_run(self) -> AgentRun | None: ...

    async def add_cycle(self, cycle: AgentCycle) -> None: ...

    async def update_cycle(self, cycle: AgentCycle) -> None: ...

    async def close_cycle(self, cycle: AgentCycle) -> bool:
        """Store ``cycle`` (ended) unless its stored row has ended already; True if stored.

        Used by recovery, which may race the cycle's own process (a leader that was paused,
        not dead): whoever ends the cycle first keeps its account of what happened."""
        ...

    async def list_cycles(
        self, run_id: str | None = None, limit: int = 100
    ) -> list[AgentCycle]: ...


class ApprovalRepository(Protocol):
    async def add(self, approval: Approval) -> None: ...

    async def get(self, approval_id: str) -> Approval | None: ...

    async def of_decision(self, decision_id: str) -> Approval | None:
        """The decision's approval (a decision has at most one), read by the decision's id."""
        ...

    async def update(self, approval: Approval) -> None: ...

    async def transition(self, approval: Approval, expected: ApprovalStatus) -> bool:
        """Write ``approval`` only if the stored one is still ``expected`` (one conditional
        update); False, and nothing written, when another writer changed it first."""
        ...

    async def list(
        self, status: ApprovalStatus | frozenset[ApprovalStatus] | None = None
    ) -> list[Approval]:
        """Newest first; ``status``: in that status (or any of a set of them)."""
        ...


class OutcomeRepository(Protocol):
    """Decision outcomes, one per (decision, horizon); also the history of learned weights."""

    async def add(self, outcome: DecisionOutcome) -> bool:
        """Insert; returns False (and changes nothing) if this decision+horizon is scored."""
        ...

    async def by_decisions(self, decision_ids: Sequence[str]) -> list[DecisionOutcome]:
        """Every outcome of these decisions (any horizon)."""
        ...

    async def pending(
        self, due: Mapping[str, datetime], limit: int = 1000
    ) -> list[tuple[Decision, tuple[str, ...]]]:
        """Decisions not yet scored at some horizon of ``due`` ({horizon: decided at or
        before}), each with those horizons (in ``due``'s order), oldest first, at most
        ``limit``. Decisions marked :meth:`complete` are left out, so the search is bounded
        by the decisions still open, not the whole history."""
        ...

    async def complete(self, horizons: Sequence[str], decided_before: datetime) -> None:
        """Mark every decision made at or before ``decided_before`` that is scored at each of
        ``horizons`` (the configured ones) complete: :meth:`pending` leaves it out from then
        on."""
        ...

    async def reopen(self) -> None:
        """Unmark every complete decision (the configured horizons changed)."""
        ...

    async def list(
        self,
        *,
        instrument: str | None = None,
        horizon: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[DecisionOutcome]:
        """Outcomes oldest first by ``due_at`` (``since``: due at or after), at most ``limit``
        (the most recent ones when there are more)."""
        ...


class StateRepository(Protocol):
    """Small named JSON documents a service keeps between runs (e.g. the risk manager's state)."""

    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def put(self, key: str, value: dict[str, Any]) -> None: ...

    async def lock(self, key: str) -> None:
        """Hold ``key`` until this unit of work ends (commit or rollback): another unit of work
        locking the same key waits here until then. Lock before ``get`` to read, merge and ``put``
        a document that other processes also write, so that neither write is lost."""
        ...


class ProviderCallRepository(Protocol):
    """The cost ledger: every provider call, appended, summed by provider over a period."""

    async def add_all(self, calls: Sequence[ProviderCall]) -> None: ...

    async def totals(self, since: datetime) -> list[SpendTotal]:
        """Per provider (sorted by name), the calls made at or after ``since``."""
        ...

    async def list(
        self, *, provider: str | None = None, decision_id: str | None = None, limit: int = 100
    ) -> list[ProviderCall]:
        """The latest calls, newest first."""
        ...


class FlightRepository(Protocol):
    """Flight records of decisions, and the content-addressed texts they point to (input
    snapshots, rendered prompts), which the SQL adapter stores compressed."""

    async def add(self, record: DecisionRecord, contents: dict[str, str]) -> None:
        """Insert ``record`` and each content by its hash (a record or hash already stored is
        kept; nothing is read back). Called in the transaction that stores the decision new
        (its row count guards a retried cycle), so a decision never gets a second record."""
        ...

    async def get(self, decision_id: str) -> DecisionRecord | None: ...

    async def add_gate_verdict(self, decision_id: str, verdict: GateVerdict) -> bool:
        """Append a gate verdict to the record; False when the decision has no record."""
        ...

    async def content(self, content_hash: str) -> str | None: ...


class UnitOfWork(Protocol):
    """One transaction across repositories: ``async with uow: ...; await uow.commit()``.

    Leaving the block without commit rolls back, so a crash mid-write leaves no half record.
    ``orders`` and ``fills`` are the ledger (written only by the execution gate, for every
    venue); ``venue_orders``, ``venue_fills`` (with the quote each fill met) and ``accounts``
    are the simulated venue's own book (the paper broker), which the gate reads like any venue.
    """

    decisions: DecisionRepository
    orders: OrderRepository
    fills: FillRepository
    venue_orders: OrderRepository
    venue_fills: VenueFillRepository
    accounts: AccountRepository
    provider_stats: ProviderStatsRepository
    agent: AgentRepository
    approvals: ApprovalRepository
    outcomes: OutcomeRepository
    state: StateRepository
    provider_calls: ProviderCallRepository
    flight: FlightRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


@runtime_checkable
class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


@runtime_checkable
class StorageBackend(Protocol):
    """A database behind the unit of work, chosen by ``storage.url``'s scheme family."""

    def uow_factory(self) -> UnitOfWork:
        """A new unit of work (the bound method is the ``UnitOfWorkFactory``)."""
        ...

    async def migrate(self) -> None:
        """Bring the schema up to date (idempotent)."""
        ...

    async def current_revision(self) -> str | None:
        """The schema revision the database is at (None before the first migration)."""
        ...

    async def ping(self) -> None: ...

    async def write_check(self) -> None:
        """Raise unless the database takes a write now (``/health`` and ``/ready`` rely on it)."""
        ...

    async def close(self) -> None: ...
