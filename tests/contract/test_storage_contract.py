"""The repository ports' contract, run by every storage: SQL on SQLite and the machine's PostgreSQL
(built by the registered factory, migrated) and the in-memory unit of work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ffe_core.domain.agent import AgentCycle, AgentRun, AgentState, CyclePhase
from ffe_core.domain.approvals import Approval, ApprovalStatus
from ffe_core.domain.decisions import Action, Decision, ProviderVote
from ffe_core.domain.errors import ConflictError
from ffe_core.domain.market import Quote
from ffe_core.domain.orders import Fill, Order, OrderStatus, Side, client_order_id_for
from ffe_core.domain.performance import ProviderStats
from ffe_core.domain.portfolio import Portfolio, Position
from ffe_core.ports.storage import DecisionQuery, StorageBackend
from tests.contract.storages import STORAGES, storage
from tests.waiting import wait_until

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=STORAGES)
async def uow_factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async with storage(request.param, tmp_path) as stored:
        yield stored.uow_factory


def decision(i: int, instrument: str = "BTC-USD", action: Action = Action.BUY) -> Decision:
    return Decision(
        instrument=instrument,
        action=action,
        confidence=0.6,
        votes=(
            ProviderVote(provider="trend", action=action, confidence=0.7, latency_ms=1.5),
            ProviderVote.abstain("llm", "timed out"),
        ),
        weights={"trend": 1.0, "llm": 1.0},
        created_at=T0 + timedelta(minutes=i),
    )


async def test_decision_roundtrip_keeps_votes_and_weights(uow_factory: Any) -> None:
    d = decision(1)
    async with uow_factory() as uow:
        await uow.decisions.add(d)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.decisions.get(d.id) == d
        assert await uow.decisions.get("missing") is None


async def test_decisions_got_many_at_once_by_id(uow_factory: Any) -> None:
    made = [decision(i) for i in range(3)]
    async with uow_factory() as uow:
        for d in made:
            await uow.decisions.add(d)
        await uow.commit()
    many = [f"missing-{i}" for i in range(1200)]  # more than one read's worth of ids
    async with uow_factory() as uow:
        got = await uow.decisions.get_many([made[2].id, "missing", made[0].id, made[2].id])
        assert got == {made[2].id: made[2], made[0].id: made[0]}
        assert await uow.decisions.get_many([*many, made[1].id]) == {made[1].id: made[1]}
        assert await uow.decisions.get_many([]) == {}


async def test_uncommitted_write_leaves_nothing(uow_factory: Any) -> None:
    d = decision(1)
    with pytest.raises(RuntimeError):
        async with uow_factory() as uow:
            await uow.decisions.add(d)
            await uow.orders.add(
                Order(
                    client_order_id="c1", instrument="BTC-USD", side=Side.BUY, quantity=Decimal(1)
                )
            )
            raise RuntimeError("crash mid-write")
    async with uow_factory() as uow:
        assert await uow.decisions.get(d.id) is None
        assert await uow.orders.get("c1") is None


async def test_decisions_filter_and_cursor_pagination_cover_everything_once(
    uow_factory: Any,
) -> None:
    made = [decision(i, "ETH-USD" if i % 3 == 0 else "BTC-USD") for i in range(12)]
    async with uow_factory() as uow:
        for d in made:
            await uow.decisions.add(d)
        await uow.commit()
    seen: list[str] = []
    cursor = None
    async with uow_factory() as uow:
        while True:
            page, cursor = await uow.decisions.list(
                DecisionQuery(instrument="BTC-USD", limit=3, cursor=cursor)
            )
            seen += [d.id for d in page]
            if cursor is None:
                break
    expected = [d.id for d in sorted(made, key=lambda d: d.created_at, reverse=True)]
    assert seen == [
        i for i in expected if next(d for d in made if d.id == i).instrument == "BTC-USD"
    ]
    async with uow_factory() as uow:
        page, _ = await uow.decisions.list(
            DecisionQuery(since=T0 + timedelta(minutes=10), action=Action.BUY)
        )
    assert {d.id for d in page} == {made[10].id, made[11].id}


@pytest.mark.parametrize(
    ("book", "other"), [("orders", "venue_orders"), ("venue_orders", "orders")]
)
async def test_orders_are_unique_by_client_order_id(
    uow_factory: Any, book: str, other: str
) -> None:
    """Our orders and the simulated venue's are two books on the same port, never mixed."""
    coid = client_order_id_for("d1")
    order = Order(
        client_order_id=coid, instrument="BTC-USD", side=Side.BUY, quantity=Decimal("0.5")
    )
    async with uow_factory() as uow:
        await getattr(uow, book).add(order)
        await uow.commit()
    with pytest.raises(ConflictError):
        async with uow_factory() as uow:
            await getattr(uow, book).add(order)
            await uow.commit()
    async with uow_factory() as uow:
        stored = await getattr(uow, book).get(coid)
        assert stored == order
        await getattr(uow, book).update(order.transition(OrderStatus.SUBMITTED))
        await uow.commit()
    async with uow_factory() as uow:
        assert [o.status for o in await getattr(uow, book).list()] == [OrderStatus.SUBMITTED]
        assert await getattr(uow, book).list(status=OrderStatus.FILLED) == []
        assert await getattr(uow, other).get(coid) is None


@pytest.mark.parametrize("book", ["orders", "venue_orders"])
async def test_orders_listed_by_a_set_of_statuses_oldest_first(uow_factory: Any, book: str) -> None:
    statuses = [OrderStatus.ACCEPTED, OrderStatus.FILLED, OrderStatus.SUBMITTED, OrderStatus.NEW]
    orders = [
        Order(
            client_order_id=f"o{i}",
            instrument="BTC-USD",
            side=Side.BUY,
            quantity=Decimal(1),
            status=status,
            created_at=datetime(2026, 1, 1, i, tzinfo=UTC),
        )
        for i, status in enumerate(statuses)
    ]
    async with uow_factory() as uow:
        for order in reversed(orders):
            await getattr(uow, book).add(order)
        await uow.commit()
    async with uow_factory() as uow:
        working = await getattr(uow, book).list(
            status=frozenset({OrderStatus.SUBMITTED, OrderStatus.ACCEPTED})
        )
        none = await getattr(uow, book).list(status=frozenset())
    assert [o.client_order_id for o in working] == ["o0", "o2"]
    assert none == []


@pytest.mark.parametrize("book", ["orders", "venue_orders"])
async def test_orders_listed_by_decision_and_the_newest_alone(uow_factory: Any, book: str) -> None:
    """``decision_ids``, ``created_in`` and ``newest`` filter in the store: the newest of the matching orders,
    oldest first, ties on the creation time broken by client order id as in the full list."""
    orders = [
        Order(
            client_order_id=f"o{i}",
            decision_id=f"d{i % 2}",
            instrument="BTC-USD" if i < 5 else "ETH-USD",
            side=Side.BUY,
            quantity=Decimal(1),
            created_at=datetime(2026, 1, 1, min(i, 4), tzinfo=UTC),  # o4..o6 share a time
        )
        for i in range(7)
    ]
    async with uow_factory() as uow:
        for order in reversed(orders):
            await getattr(uow, book).add(order)
        await uow.commit()
    async with uow_factory() as uow:
        repo = getattr(uow, book)
        every = [o.client_order_id for o in await repo.list()]
        assert every == [f"o{i}" for i in range(7)]
        assert [o.client_order_id for o in await repo.list(newest=3)] == every[-3:]
        assert [o.client_order_id for o in await repo.list(newest=100)] == every
        assert await repo.list(newest=0) == []
        of_d1 = await repo.list(decision_ids=["d1"])
        assert [o.client_order_id for o in of_d1] == ["o1", "o3", "o5"]
        by_both = await repo.list(decision_ids=["d0", "unknown"], instrument="BTC-USD", newest=2)
        assert [o.client_order_id for o in by_both] == ["o2", "o4"]
        assert await repo.list(decision_ids=["unknown"]) == []
        assert await repo.list(decision_ids=[]) == []
        many = [f"unknown-{i}" for i in range(1200)]  # more than one read's worth of ids
        in_turns = await repo.list(decision_ids=[*many, "d0", "d1"], newest=4)
        assert [o.client_order_id for o in in_turns] == every[-4:]
        hours = (datetime(2026, 1, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 4, tzinfo=UTC))
        created = await repo.list(created_in=hours)  # [1:00, 4:00): o1..o3, not o4..o6
        assert [o.client_order_id for o in created] == ["o1", "o2", "o3"]
        both = await repo.list(created_in=hours, decision_ids=["d1"], newest=1)
        assert [o.client_order_id for o in both] == ["o3"]


@pytest.mark.parametrize("book", ["fills", "venue_fills"])
async def test_fills_the_newest_alone_and_which_ids_are_recorded(
    uow_factory: Any, book: str
) -> None:
    fills = [
        Fill(
            client_order_id=f"c{i % 2}",
            instrument="BTC-USD",
            side=Side.BUY,
            quantity=Decimal("0.1"),
            price=Decimal(100 + i),
            ts=T0 - timedelta(minutes=i),  # recording order, not time, orders them
        )
        for i in range(5)
    ]
    async with uow_factory() as uow:
        for f in fills:
            await getattr(uow, book).add(f)
        await uow.commit()
    async with uow_factory() as uow:
        repo = getattr(uow, book)
        assert await repo.list(newest=2) == fills[-2:]
        assert await repo.list("c0", newest=2) == [fills[2], fills[4]]
        assert await repo.list(newest=0) == []
        ids = [f.fill_id for f in fills]
        many = [f"unknown-{i}" for i in range(1200)]  # more than one read's worth of ids
        assert await repo.recorded([ids[1], "unknown", ids[3], ids[1]]) == {ids[1], ids[3]}
        assert await repo.recorded([*many, ids[4]]) == {ids[4]}
        assert await repo.recorded([]) == set()


@pytest.mark.parametrize(("book", "other"), [("fills", "venue_fills"), ("venue_fills", "fills")])
async def test_fills_are_idempotent_and_ordered(uow_factory: Any, book: str, other: str) -> None:
    fills = [
        Fill(
            client_order_id="c1",
            instrument="BTC-USD",
            side=Side.BUY,
            quantity=Decimal("0.1"),
            price=Decimal(100 + i),
            ts=T0,
        )
        for i in range(3)
    ]
    async with uow_factory() as uow:
        for f in fills:
            assert await getattr(uow, book).add(f) is True
        assert await getattr(uow, book).add(fills[0]) is False
        await uow.commit()
    async with uow_factory() as uow:
        assert await getattr(uow, book).list("c1") == fills
        assert await getattr(uow, book).list("other") == []
        assert await getattr(uow, other).list("c1") == []


async def test_venue_fills_keep_the_quote_each_met(uow_factory: Any) -> None:
    """The paper venue tells the quote an order filled at from storage (after a restart, to
    another process): the quote is stored with the fill, exactly, and only once."""

    def quote(bid: str, minutes: int = 0) -> Quote:
        ask = Decimal(bid) + Decimal("0.25")
        return Quote(
            symbol="BTC-USD", ts=T0 + timedelta(minutes=minutes), bid=Decimal(bid), ask=ask
        )

    def fill(coid: str, seq: int = 1) -> Fill:
        return Fill(
            fill_id=f"{coid}-{seq}",
            client_order_id=coid,
            instrument="BTC-USD",
            side=Side.BUY,
            quantity=Decimal("0.1"),
            price=Decimal("100.25"),
            ts=T0,
        )

    met = quote("100.000000001")
    async with uow_factory() as uow:
        assert await uow.venue_fills.add(fill("q"), met) is True
        assert await uow.venue_fills.add(fill("q"), quote("1")) is False  # the first one stays
        assert await uow.venue_fills.add(fill("bar")) is True
        assert await uow.venue_fills.quote("q") == met  # inside the transaction too
        await uow.commit()
    with pytest.raises(RuntimeError):
        async with uow_factory() as uow:
            await uow.venue_fills.add(fill("lost"), quote("2"))
            raise RuntimeError("crash before commit")
    async with uow_factory() as uow:
        assert await uow.venue_fills.quote("q") == met
        assert await uow.venue_fills.quote("bar") is None  # filled on a bar
        assert await uow.venue_fills.quote("lost") is None
        assert await uow.venue_fills.quote("unknown") is None
        assert await uow.venue_fills.list("q") == [fill("q")]
        assert await uow.fills.list() == []  # the ledger is apart
        later = quote("101", minutes=5)
        assert await uow.venue_fills.add(fill("q", 2), later) is True
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.venue_fills.quote("q") == later  # the latest fill's


async def test_account_roundtrip_is_exact_decimal(uow_factory: Any) -> None:
    book = Portfolio(
        cash=Decimal("99999.123456789012345678"),
        positions={
            "BTC-USD": Position(
                instrument="BTC-USD",
                quantity=Decimal("0.00000001"),
                average_price=Decimal("43210.98"),
                realized_pnl=Decimal("-1.5"),
            )
        },
    )
    async with uow_factory() as uow:
        assert await uow.accounts.load("acct") is None
        await uow.accounts.save("acct", book)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.accounts.load("acct") == book
        await uow.accounts.save("acct", book.model_copy(update={"positions": {}}))
        await uow.commit()
    async with uow_factory() as uow:
        loaded = await uow.accounts.load("acct")
        assert loaded is not None and loaded.positions == {}


async def test_provider_stats_upsert(uow_factory: Any) -> None:
    async with uow_factory() as uow:
        await uow.provider_stats.save(ProviderStats(provider="trend", weight=1.0))
        await uow.provider_stats.save(ProviderStats(provider="trend", weight=1.5, votes=3))
        await uow.provider_stats.save(ProviderStats(provider="breakout"))
        await uow.commit()
    async with uow_factory() as uow:
        stats = await uow.provider_stats.list()
    assert [(s.provider, s.weight) for s in stats] == [("breakout", 1.0), ("trend", 1.5)]


async def test_agent_runs_and_cycles(uow_factory: Any) -> None:
    run = AgentRun(holder="host:1")
    cycle = AgentCycle(run_id=run.id, seq=0, instrument="BTC-USD")
    async with uow_factory() as uow:
        await uow.agent.add_run(run)
        await uow.agent.add_cycle(cycle)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.agent.active_run() == run
        await uow.agent.update_cycle(cycle.model_copy(update={"phase": CyclePhase.DONE}))
        await uow.agent.update_run(run.model_copy(update={"state": AgentState.STOPPED}))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.agent.active_run() is None
        cycles = await uow.agent.list_cycles(run.id)
    assert [c.phase for c in cycles] == [CyclePhase.DONE]


async def test_close_cycle_keeps_the_first_ending(uow_factory: Any) -> None:
    """Recovery closes an interrupted cycle only while it is open: the multi-instance run found
    a new leader's recovery overwriting the paused (stale) leader's own refusal of that cycle."""
    open_cycle = AgentCycle(run_id="r1", seq=0, instrument="BTC-USD", phase=CyclePhase.ACT)
    ended = AgentCycle(run_id="r1", seq=1, instrument="BTC-USD", phase=CyclePhase.ACT)
    async with uow_factory() as uow:
        await uow.agent.add_cycle(open_cycle)
        await uow.agent.add_cycle(ended)
        await uow.commit()
    async with uow_factory() as uow:  # the stale leader ends its own cycle first
        await uow.agent.update_cycle(
            ended.model_copy(update={"phase": CyclePhase.FAILED, "note": "stale leader"})
        )
        await uow.commit()
    recovered = {"phase": CyclePhase.FAILED, "note": "interrupted"}
    async with uow_factory() as uow:
        assert await uow.agent.close_cycle(open_cycle.model_copy(update=recovered))
        assert not await uow.agent.close_cycle(ended.model_copy(update=recovered))
        await uow.commit()
    async with uow_factory() as uow:
        notes = {c.seq: (c.phase, c.note) for c in await uow.agent.list_cycles()}
    assert notes == {
        0: (CyclePhase.FAILED, "interrupted"),
        1: (CyclePhase.FAILED, "stale leader"),
    }


async def test_approvals_one_per_decision(uow_factory: Any) -> None:
    a = Approval(decision_id="d1", instrument="BTC-USD", expires_at=T0 + timedelta(minutes=5))
    async with uow_factory() as uow:
        await uow.approvals.add(a)
        await uow.commit()
    async with uow_factory() as uow:
        resolved = a.resolve(ApprovalStatus.APPROVED, "alice", T0)
        await uow.approvals.update(resolved)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.approvals.get(a.id) == resolved
        assert await uow.approvals.list(ApprovalStatus.PENDING) == []
        assert await uow.approvals.of_decision("d1") == resolved
        assert await uow.approvals.of_decision("d2") is None
    again = Approval(decision_id="d1", instrument="BTC-USD", expires_at=T0 + timedelta(minutes=9))
    async with uow_factory() as uow:
        with pytest.raises(ConflictError):
            await uow.approvals.add(again)
            await uow.commit()
    async with uow_factory() as uow:
        assert await uow.approvals.of_decision("d1") == resolved


async def test_approvals_listed_by_a_set_of_statuses_newest_first(uow_factory: Any) -> None:
    made = [
        Approval(
            decision_id=f"d{i}",
            instrument="BTC-USD",
            created_at=T0 + timedelta(minutes=i),
            expires_at=T0 + timedelta(hours=1),
        )
        for i in range(3)
    ]
    async with uow_factory() as uow:
        for a in made:
            await uow.approvals.add(a)
        await uow.approvals.update(made[1].resolve(ApprovalStatus.REJECTED, "bob", T0))
        await uow.approvals.update(made[2].resolve(ApprovalStatus.APPROVED, "alice", T0))
        await uow.commit()
    async with uow_factory() as uow:
        wanted = frozenset({ApprovalStatus.PENDING, ApprovalStatus.APPROVED})
        listed = await uow.approvals.list(wanted)
    assert [(a.decision_id, a.status) for a in listed] == [
        ("d2", ApprovalStatus.APPROVED),
        ("d0", ApprovalStatus.PENDING),
    ]


async def test_an_approval_transitions_only_from_the_status_its_writer_saw(
    uow_factory: Any,
) -> None:
    """Two people answering at once: the first answer is kept, the second is told it lost."""
    a = Approval(decision_id="d2", instrument="BTC-USD", expires_at=T0 + timedelta(minutes=5))
    async with uow_factory() as uow:
        await uow.approvals.add(a)
        await uow.commit()
    approved = a.resolve(ApprovalStatus.APPROVED, "alice", T0)
    rejected = a.resolve(ApprovalStatus.REJECTED, "bob", T0)
    async with uow_factory() as uow:
        assert await uow.approvals.transition(approved, ApprovalStatus.PENDING) is True
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.approvals.transition(rejected, ApprovalStatus.PENDING) is False
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.approvals.get(a.id) == approved


async def test_an_approval_transition_never_committed_leaves_it_pending(uow_factory: Any) -> None:
    a = Approval(decision_id="d3", instrument="BTC-USD", expires_at=T0 + timedelta(minutes=5))
    async with uow_factory() as uow:
        await uow.approvals.add(a)
        await uow.commit()
    approved = a.resolve(ApprovalStatus.APPROVED, "alice", T0)
    async with uow_factory() as uow:
        assert await uow.approvals.transition(approved, ApprovalStatus.PENDING) is True
    async with uow_factory() as uow:  # the answer was never committed: it can be given again
        assert await uow.approvals.get(a.id) == a
        assert await uow.approvals.transition(approved, ApprovalStatus.PENDING) is True
        await uow.commit()


async def test_state_documents_roundtrip_and_overwrite(uow_factory: Any) -> None:
    async with uow_factory() as uow:
        assert await uow.state.get("risk") is None
        await uow.state.put("risk", {"peak": "100.5", "nested": {"a": [1, 2]}})
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.state.get("risk") == {"peak": "100.5", "nested": {"a": [1, 2]}}
        await uow.state.put("risk", {"peak": "99"})
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.state.get("risk") == {"peak": "99"}


async def test_a_locked_state_document_is_written_in_turns(uow_factory: Any) -> None:
    """``state.lock``: a second unit of work locking the key waits until the first commits, then
    reads what the first wrote (neither read-merge-write is lost)."""
    asked = asyncio.Event()

    async def second() -> dict[str, Any] | None:
        async with uow_factory() as uow:
            asked.set()
            await uow.state.lock("risk")
            seen: dict[str, Any] | None = await uow.state.get("risk")
            await uow.state.put("risk", {"n": (seen or {"n": 0})["n"] + 1})
            await uow.commit()
        return seen

    async with uow_factory() as uow:
        await uow.state.lock("risk")
        waiting = asyncio.create_task(second())
        await wait_until(asked.is_set, "the second writer to ask for the lock")
        assert await uow.state.get("risk") is None
        await uow.state.put("risk", {"n": 1})
        await uow.commit()
    assert await waiting == {"n": 1}
    async with uow_factory() as uow:
        assert await uow.state.get("risk") == {"n": 2}


@pytest.mark.parametrize("name", STORAGES)
async def test_a_backend_migrates_idempotently_and_answers_health_checks(
    name: str, tmp_path: Path
) -> None:
    async with storage(name, tmp_path) as stored:
        if stored.backend is None:
            pytest.skip("the in-memory unit of work has no database behind it")
        backend = stored.backend
        assert isinstance(backend, StorageBackend)
        revision = await backend.current_revision()
        assert revision is not None
        d = decision(1)
        async with stored.uow_factory() as uow:
            await uow.decisions.add(d)
            await uow.commit()
        await backend.migrate()  # a second time: nothing to do, nothing lost
        assert await backend.current_revision() == revision
        async with stored.uow_factory() as uow:
            assert await uow.decisions.get(d.id) == d
        await backend.ping()
        await backend.write_check()
