"""Money invariants of the execution gate, for any interleaving (hypothesis), on real storage.

Random sequences of decisions (sent at once or through an approval), approvals approved,
rejected or raced (approve and reject at the same moment), approved decisions sent, price moves,
kill-switch trips and resets, time passing, a venue that leaves orders working or rejects them.
After every step:

- no entry ever leaves a position past ``max_position_fraction`` of equity, or the book past
  ``max_gross_exposure`` / ``max_leverage``, counting working orders as filled (the venue checks);
- no entry is sent while the kill switch is tripped;
- no client order id reaches the venue twice, and no order while another on the same instrument
  is working;
- no decision approved later than ``approvals.max_age_seconds`` after it was made is sent, nor
  one sent that long after its approval, nor one whose price moved past ``max_price_drift``;
- a rejected, expired or superseded approval never has an order at the venue; a failed one has
  none that traded;
- the ledger's fills are exactly the venue's fills after a sync.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ffe_adapters.storage.memory import InMemoryUnitOfWorkFactory
from ffe_core.config import ApprovalSettings, RiskSettings, Settings
from ffe_core.domain.approvals import ApprovalStatus
from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.orders import client_order_id_for
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.services.approvals import ApprovalConflict, ApprovalService
from ffe_core.services.execution import ExecutionGate, send_approved
from ffe_core.services.risk import KillSwitch, RiskManager
from tests.conftest import open_sql_storage
from tests.integration.money.venue import Clock, FakeVenue, Market

SYMBOLS = ("BTC-USD", "ETH-USD")
LIMITS = RiskSettings(
    max_position_fraction=0.3,
    max_gross_exposure=0.5,  # below two full positions: the book limit binds too
    max_leverage=1.0,
    risk_per_trade=0.05,  # sizing wants more than the limits allow: the limits must bind
    min_confidence=0.3,
    max_drawdown=0.9,
    max_daily_loss=0.9,
)


@dataclass
class World:
    clock: Clock
    market: Market
    venue: FakeVenue
    risk: RiskManager
    approvals: ApprovalService
    rival: ApprovalService  # a second client resolving the same approvals
    gate: ExecutionGate
    uow: UnitOfWorkFactory
    approval_ids: list[str]


def build(uow: UnitOfWorkFactory, policy_always: bool = True) -> World:
    settings = Settings(
        risk=LIMITS,
        approvals=ApprovalSettings(
            policy="always" if policy_always else "never",
            expiry_seconds=600,
            max_age_seconds=300,
            max_price_drift=0.03,
        ),
    )
    clock = Clock()
    instruments = {s: i for s in SYMBOLS if (i := settings.instrument(s)) is not None}
    market = Market(instruments, clock, {"BTC-USD": Decimal("50000"), "ETH-USD": Decimal("3000")})
    risk = RiskManager(LIMITS)
    venue = FakeVenue(market, LIMITS)
    gate = ExecutionGate(
        settings, venue, uow, clock, market, risk=risk, kill_switch=risk.kill_switch
    )
    approvals = ApprovalService(settings.approvals, uow, clock)
    rival = ApprovalService(settings.approvals, uow, clock)
    for symbol in SYMBOLS:
        risk.observe(symbol, market.bars(symbol))
    return World(clock, market, venue, risk, approvals, rival, gate, uow, [])


async def decide(w: World, symbol: str, action: Action, confidence: float) -> Decision:
    """A decision sized by the risk manager against the venue's book now (as DecisionService)."""
    context = await w.market.context_for(w.market.instrument(symbol), await w.venue.get_portfolio())
    decision = w.risk.assess(
        Decision(instrument=symbol, action=action, confidence=confidence, created_at=w.clock.now()),
        context,
    )
    async with w.uow() as uow:
        await uow.decisions.add(decision)
        await uow.commit()
    return decision


async def resolve(
    service: ApprovalService, approval_id: str, approve: bool, fraction: Decimal | None = None
) -> str:
    size = None
    if fraction is not None:
        async with service.uow_factory() as uow:
            stored = await uow.approvals.get(approval_id)
        size = stored.size * fraction if stored is not None and stored.size else None
    try:
        return (await service.resolve(approval_id, approve, "test", size)).status.value
    except ApprovalConflict as exc:
        return "conflict:" + exc.approval.status.value


async def witness(w: World, approval_id: str, outcome: str) -> None:
    """Tell the venue when an approval succeeded (the clock as the test saw it)."""
    if outcome != ApprovalStatus.APPROVED.value:
        return
    async with w.uow() as uow:
        approval = await uow.approvals.get(approval_id)
    assert approval is not None
    w.venue.approved_at[approval.decision_id] = w.clock.now()


async def step(w: World, op: tuple[Any, ...]) -> None:
    kind = op[0]
    if kind == "decide":
        _, symbol, action, confidence, direct = op
        decision = await decide(w, symbol, action, confidence)
        if direct:
            await w.gate.execute(decision)
        elif (
            decision.risk is not None
            and decision.risk.approved
            and decision.action is not Action.HOLD
        ):
            w.approval_ids.append((await w.approvals.request(decision)).id)
            assert decision.reference_price is not None
            w.venue.approved[decision.id] = (decision.created_at, decision.reference_price)
    elif kind in ("approve", "reject", "race") and w.approval_ids:
        approval_id = w.approval_ids[-1 - op[1] % len(w.approval_ids)]  # 0: the newest
        if kind == "race":
            outcomes = await asyncio.gather(
                resolve(w.approvals, approval_id, True), resolve(w.rival, approval_id, False)
            )
            winners = [o for o in outcomes if not o.startswith("conflict:")]
            assert len(winners) <= 1, f"approve and reject both won: {outcomes}"
            await witness(w, approval_id, outcomes[0])
        else:
            await witness(
                w, approval_id, await resolve(w.approvals, approval_id, kind == "approve")
            )
    elif kind == "resize" and w.approval_ids:  # approve at a fraction of the sized order
        approval_id = w.approval_ids[-1 - op[1] % len(w.approval_ids)]
        await witness(w, approval_id, await resolve(w.approvals, approval_id, True, Decimal(op[2])))
    elif kind == "send":
        await send_approved(w.approvals, w.gate)
    elif kind == "move":
        _, symbol, factor = op
        w.market.prices[symbol] = (w.market.prices[symbol] * Decimal(str(factor))).quantize(
            Decimal("0.01")
        )
        w.risk.observe(symbol, w.market.bars(symbol))  # the agent sees every instrument's bars
    elif kind == "trip":
        w.risk.state = w.risk.state.model_copy(
            update={"kill_switch": KillSwitch(tripped=True, reason="test", at=w.clock.now())}
        )
    elif kind == "reset":
        w.risk.reset_kill_switch("test", w.clock.now())
    elif kind == "tick":
        w.clock.now_at += timedelta(seconds=op[1])
    elif kind == "fill":
        w.venue.fill_all()
    elif kind == "rest":
        w.venue.rest = op[1]
    elif kind == "reject_all":
        w.venue.reject = op[1]
    w.venue.kill_switch = w.risk.kill_switch()


async def check(w: World) -> None:
    assert not w.venue.violations, w.venue.violations
    async with w.uow() as uow:
        approvals = await uow.approvals.list()
    for a in approvals:
        coid = client_order_id_for(a.decision_id)
        if a.status in (ApprovalStatus.REJECTED, ApprovalStatus.EXPIRED, ApprovalStatus.SUPERSEDED):
            assert coid not in w.venue.sent, f"a {a.status} approval reached the venue"
        if a.approved_size is not None and coid in w.venue.orders:
            sent = w.venue.orders[coid].quantity
            assert sent <= a.approved_size, f"sent {sent} above the chosen {a.approved_size}"
        if a.status is ApprovalStatus.FAILED and coid in w.venue.orders:
            assert w.venue.orders[coid].filled_quantity == 0, "a failed approval traded"
    await w.gate.sync()
    async with w.uow() as uow:
        ledger = sorted(f.fill_id for f in await uow.fills.list())
    assert ledger == sorted(f.fill_id for f in w.venue.fills), "ledger fills != venue fills"


symbols = st.sampled_from(SYMBOLS)
decisions = st.tuples(
    st.just("decide"),
    symbols,
    st.sampled_from([Action.BUY, Action.SELL]),
    st.floats(0.5, 1.0),
    st.booleans(),
)
newest = st.tuples(st.sampled_from(["approve", "approve", "reject", "race"]), st.just(0))
any_one = st.tuples(st.sampled_from(["approve", "reject", "race"]), st.integers(0, 20))
ops = st.one_of(
    decisions,
    decisions,
    newest,
    newest,
    any_one,
    st.tuples(st.just("resize"), st.integers(0, 3), st.sampled_from(["0.5", "0.25"])),
    st.just(("send",)),
    st.just(("send",)),
    st.tuples(st.just("move"), symbols, st.sampled_from([0.9, 0.97, 0.99, 1.01, 1.03, 1.1])),
    st.sampled_from([("trip",), ("reset",), ("fill",)]),
    st.tuples(st.just("tick"), st.sampled_from([1, 60, 400])),
    st.tuples(st.sampled_from(["rest", "reject_all"]), st.booleans()),
)
programs = st.lists(ops, min_size=3, max_size=25)


async def run_program(uow: UnitOfWorkFactory, program: list[tuple[Any, ...]]) -> None:
    w = build(uow)
    for op in program:
        await step(w, op)
        await check(w)


@contextlib.asynccontextmanager
async def storage_for(kind: str) -> AsyncIterator[UnitOfWorkFactory]:
    if kind == "memory":
        yield InMemoryUnitOfWorkFactory()
        return
    with tempfile.TemporaryDirectory() as tmp:
        async with open_sql_storage(kind, Path(tmp)) as storage:
            yield storage.uow_factory


def on(kind: str) -> Callable[[list[tuple[Any, ...]]], None]:
    def run(program: list[tuple[Any, ...]]) -> None:
        async def main() -> None:
            async with storage_for(kind) as uow:
                await run_program(uow, program)

        asyncio.run(main())

    return run


def examples(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


BUY = Action.BUY
PILED_UP = [  # the case: approvals each sized against a flat book, all approved, sent
    ("decide", "BTC-USD", BUY, 0.9, False),
    ("approve", 0),
    ("decide", "BTC-USD", BUY, 0.9, False),
    ("approve", 0),
    ("decide", "BTC-USD", BUY, 0.9, False),
    ("decide", "BTC-USD", BUY, 0.9, False),  # supersedes the one before
    ("approve", 0),
    ("approve", 1),  # superseded: refused
    ("send",),
]
WORKING = [  # a working order's exposure counts before it fills
    ("rest", True),
    ("decide", "BTC-USD", BUY, 0.9, True),
    ("decide", "ETH-USD", BUY, 0.9, True),
    ("decide", "ETH-USD", BUY, 0.9, True),
    ("decide", "BTC-USD", Action.SELL, 0.9, True),  # refused: the BUY is still working
    ("fill",),
    ("decide", "ETH-USD", BUY, 0.9, True),
]
STALE = [
    ("decide", "BTC-USD", BUY, 0.9, False),
    ("approve", 0),
    ("move", "BTC-USD", 1.1),
    ("send",),
    ("decide", "ETH-USD", BUY, 0.9, False),
    ("approve", 0),
    ("tick", 400),
    ("send",),
]


@examples(150)
@example(PILED_UP)
@example(WORKING)
@example(STALE)
@given(programs)
def test_money_invariants_hold_for_any_interleaving_in_memory(
    program: list[tuple[Any, ...]],
) -> None:
    on("memory")(program)


@examples(15)
@example(PILED_UP)
@given(programs)
def test_money_invariants_hold_for_any_interleaving_on_sqlite(
    program: list[tuple[Any, ...]],
) -> None:
    on("sqlite")(program)


@pytest.mark.postgres
@examples(10)
@example(PILED_UP)
@given(programs)
def test_money_invariants_hold_for_any_interleaving_on_postgres(
    program: list[tuple[Any, ...]],
) -> None:
    on("postgres")(program)
