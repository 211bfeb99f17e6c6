"""The parity shadow judges limit and stop entries and the venue-side exits of an entry (the
stop-loss / take-profit pair, one-cancels-other) by the fill model's rules: on the bars the agent
saw while the order was working, or on the quote the venue recorded it filled at."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ffe_adapters.storage.memory import InMemoryStore
from ffe_core.config import Settings
from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.flight import DecisionRecord, EnsembleVerdict, GateVerdict
from ffe_core.domain.market import Bar, Quote
from ffe_core.domain.orders import (
    Fill,
    Order,
    OrderStatus,
    OrderType,
    Side,
    client_order_id_for,
)
from ffe_core.domain.parity import ParityFill, ParityReport, ParityStatus
from ffe_core.ports.clock import ManualClock
from ffe_core.services.parity import ParityService

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SETTINGS = Settings()
SLIP = SETTINGS.trading.slippage
BTC = SETTINGS.instrument("BTC-USD")
assert BTC is not None and SETTINGS.trading.spread == 0


def bar(hours: int, open_: float, high: float, low: float) -> Bar:
    return Bar(ts=T0 + hours * HOUR, open=open_, high=high, low=low, close=open_)


BARS = [
    bar(1, 102, 103, 101),  # reaches neither 100 (buy limit) nor 105 (buy stop)
    bar(2, 102, 106, 99),  # reaches both: the limit fills at 100, the stop at 105 (+ slippage)
    bar(3, 100, 111, 94),  # an exit pair's stop-loss 95 and take-profit 110 both reached
]


async def seed(
    store: InMemoryStore, gate: tuple[GateVerdict, ...] = (), decision_id: str = "d1"
) -> None:
    """A decision at T0 whose input snapshot holds ``BARS``."""
    snapshot = json.dumps({"bars": [b.model_dump(mode="json") for b in BARS]})
    async with store() as uow:
        await uow.decisions.add(
            Decision(
                id=decision_id,
                instrument="BTC-USD",
                action=Action.BUY,
                confidence=0.7,
                created_at=T0,
            )
        )
        record = DecisionRecord(
            decision_id=decision_id,
            instrument="BTC-USD",
            decided_at=T0,
            snapshot_hash="h-" + decision_id,
            prompt_version="v",
            ensemble=EnsembleVerdict(action=Action.BUY, confidence=0.7),
            gate=gate,
        )
        await uow.flight.add(record, {record.snapshot_hash: snapshot})
        await uow.commit()


async def trade(
    store: InMemoryStore, order: Order, price: str | None = None, at: datetime | None = None
) -> None:
    """``order`` in the ledger, filled at ``price`` (when given) at ``at``."""
    if price is not None:
        fill = Fill(
            client_order_id=order.client_order_id,
            instrument=order.instrument,
            side=order.side,
            quantity=order.quantity,
            price=Decimal(price),
            ts=at or order.created_at,
        )
        order = order.with_fill(fill)
    async with store() as uow:
        await uow.orders.add(order)
        if price is not None:
            await uow.fills.add(fill)
        await uow.commit()


def entry(kind: OrderType, side: Side = Side.BUY, **prices: Decimal) -> Order:
    return Order(
        client_order_id=client_order_id_for("d1"),
        decision_id="d1",
        instrument="BTC-USD",
        side=side,
        type=kind,
        quantity=Decimal("0.5"),
        status=OrderStatus.ACCEPTED,
        created_at=T0 + timedelta(minutes=30),
        **prices,
    )


def leg(name: str, status: OrderStatus = OrderStatus.ACCEPTED) -> Order:
    """The entry's stop-loss (sell stop 95) or take-profit (sell limit 110) exit."""
    prices = {"stop_price": Decimal(95)} if name == "sl" else {"limit_price": Decimal(110)}
    return Order(
        client_order_id=f"{client_order_id_for('d1')}-{name}",
        decision_id="d1",
        instrument="BTC-USD",
        side=Side.SELL,
        type=OrderType.STOP if name == "sl" else OrderType.LIMIT,
        quantity=Decimal("0.5"),
        status=status,
        created_at=T0 + 2 * HOUR + timedelta(minutes=30),
        **prices,
    )


async def report(store: InMemoryStore) -> ParityReport:
    clock = ManualClock(T0 + 12 * HOUR)
    return await ParityService(SETTINGS, store, clock).report(T0.date())


def by_id(r: ParityReport) -> dict[str, ParityFill]:
    return {f.client_order_id: f for f in r.fills}


async def test_a_limit_entry_fills_in_the_shadow_on_the_first_bar_that_reaches_it() -> None:
    store = InMemoryStore()
    await seed(store)
    await trade(store, entry(OrderType.LIMIT, limit_price=Decimal(100)), "100", T0 + 2 * HOUR)
    r = await report(store)
    [fill] = r.fills
    assert (fill.order_type, fill.status, fill.shadow_price) == ("limit", ParityStatus.BOTH, 100)
    assert r.score == 1.0 and fill.slippage_bps == 0


async def test_a_stop_entry_fills_at_its_trigger_with_slippage_and_a_worse_fill_scores_less() -> (
    None
):
    store = InMemoryStore()
    await seed(store)
    expected = BTC.round_price(Decimal(105) * (1 + SLIP))  # max(open 102, stop 105), slipped
    worse = BTC.round_price(expected * Decimal("1.0025"))  # 25 bps worse: half the tolerance
    await trade(store, entry(OrderType.STOP, stop_price=Decimal(105)), str(worse), T0 + 2 * HOUR)
    r = await report(store)
    [fill] = r.fills
    assert fill.shadow_price == expected and fill.status is ParityStatus.BOTH
    assert r.score is not None and abs(r.score - 0.5) < 0.01


async def test_a_limit_the_bars_never_reached_is_pending_while_working_unjudged_once_canceled() -> (
    None
):
    store = InMemoryStore()
    await seed(store)
    resting = entry(OrderType.LIMIT, limit_price=Decimal(90))
    await trade(store, resting)
    assert [f.status for f in (await report(store)).fills] == [ParityStatus.PENDING]
    canceled = InMemoryStore()
    await seed(canceled)
    await trade(canceled, resting.model_copy(update={"status": OrderStatus.CANCELED}))
    r = await report(canceled)
    assert r.fills == () and r.score is None


async def test_a_limit_the_venue_filled_where_the_bars_never_reached_is_venue_only() -> None:
    store = InMemoryStore()
    await seed(store)
    await trade(store, entry(OrderType.LIMIT, limit_price=Decimal(90)), "90", T0 + 2 * HOUR)
    r = await report(store)
    assert [f.status for f in r.fills] == [ParityStatus.VENUE_ONLY] and r.score == 0


async def test_exits_are_one_cancels_other_and_the_stop_loss_wins_a_bar_reaching_both() -> None:
    store = InMemoryStore()
    await seed(store)
    await trade(store, entry(OrderType.MARKET), "102.05", T0 + HOUR)
    stop_fill = BTC.round_price(Decimal(95) * (1 - SLIP))  # min(open 100, stop 95), slipped
    await trade(store, leg("sl"), str(stop_fill), T0 + 3 * HOUR)
    await trade(store, leg("tp", OrderStatus.CANCELED))
    fills = by_id(await report(store))
    sl = fills[f"{client_order_id_for('d1')}-sl"]
    assert (sl.exit, sl.order_type, sl.status, sl.shadow_price) == (
        True,
        "stop",
        ParityStatus.BOTH,
        stop_fill,
    )
    assert f"{client_order_id_for('d1')}-tp" not in fills  # neither side filled it


async def test_a_venue_filling_the_take_profit_where_the_stop_loss_wins_diverges() -> None:
    store = InMemoryStore()
    await seed(store)
    await trade(store, entry(OrderType.MARKET), "102.05", T0 + HOUR)
    await trade(store, leg("sl", OrderStatus.CANCELED))
    await trade(store, leg("tp"), "110", T0 + 3 * HOUR)
    fills = by_id(await report(store))
    statuses = {k[-2:]: f.status for k, f in fills.items() if f.exit}
    assert statuses == {"sl": ParityStatus.SHADOW_ONLY, "tp": ParityStatus.VENUE_ONLY}


async def test_exits_filled_at_a_quote_are_judged_on_that_quote_only() -> None:
    store = InMemoryStore()
    coid = client_order_id_for("d1")
    entry_quote = Quote(symbol="BTC-USD", ts=T0 + HOUR, bid=Decimal(102), ask=Decimal("102.1"))
    exit_quote = Quote(symbol="BTC-USD", ts=T0 + 3 * HOUR, bid=Decimal("94.5"), ask=Decimal(95))
    await seed(
        store,
        gate=(
            GateVerdict(sent=True, client_order_id=coid, quote=entry_quote),
            GateVerdict(client_order_id=f"{coid}-sl", quote=exit_quote, synced=True),
        ),
    )
    market = entry(OrderType.MARKET).model_copy(update={"created_at": T0 + HOUR})
    bought = BTC.round_price(Decimal("102.1") * (1 + SLIP))  # the ask, slipped
    await trade(store, market, str(bought), T0 + HOUR)
    sold = BTC.round_price(Decimal("94.5") * (1 - SLIP))  # the bid met the stop: slipped
    await trade(store, leg("sl"), str(sold), T0 + 3 * HOUR)
    await trade(store, leg("tp", OrderStatus.CANCELED))
    r = await report(store)
    assert [(f.exit, f.quote, f.status) for f in r.fills] == [
        (False, True, ParityStatus.BOTH),
        (True, True, ParityStatus.BOTH),
    ]
    assert r.score == 1.0
