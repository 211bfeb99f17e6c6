"""The execution gate: the only code that sends an order to a venue.

Every path that trades — the agent's cycle, an approved decision (API, CLI, Telegram) — hands the
gate a decision. At the moment of sending, not at decision time, the gate checks in one place,
against the *current* account, working orders and pending exposure: the venue against the trading
mode, one working order per instrument, the approval's age and price drift, the kill switch, and
every risk limit (the risk manager re-sizes the decision now; what was approved is the cap). It
records the order in the ledger before sending (so nothing is ever sent twice, even across
processes: the client order id is unique in the ledger) and records every fill the venue reports,
for every venue, in the same ledger.

A venue's own protective orders (the paper broker's OCO exits, Coinbase's bracket) belong to the
entry that passed the gate; their fills reach the ledger through :meth:`ExecutionGate.sync`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from ffe_core.config import Settings
from ffe_core.domain.approvals import Approval
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.errors import (
    BrokerError,
    BrokerUnavailable,
    ConfigError,
    ConflictError,
    NotFoundError,
)
from ffe_core.domain.flight import GateVerdict
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Quote
from ffe_core.domain.orders import (
    WORKING,
    Fill,
    FillMark,
    Order,
    OrderStatus,
    Side,
    client_order_id_for,
)
from ffe_core.domain.portfolio import Portfolio, TradingMode, replay
from ffe_core.ports.brokers import Broker, FillFeed, QuotedFills, VenueKind
from ffe_core.ports.capabilities import Closable
from ffe_core.ports.clock import Clock
from ffe_core.ports.control import KillSwitchState
from ffe_core.ports.metrics import Metrics, NullMetrics
from ffe_core.ports.notify import EventKind, Notification, Notifier
from ffe_core.ports.storage import UnitOfWork, UnitOfWorkFactory
from ffe_core.services.approvals import ApprovalService
from ffe_core.services.decisions import RiskCheck
from ffe_core.services.flight import FlightRecorder
from ffe_core.services.risk_sizing import dec

log = logging.getLogger(__name__)

UNACKNOWLEDGED_SECONDS = 120.0
"""A sent order the venue still does not know after this long is closed in the ledger."""

Fence = Callable[[], AbstractAsyncContextManager[None]]
"""Proceed only while this process may trade (the leader lease's fencing token)."""


class MarketContext(Protocol):
    """What the gate needs to re-check a decision now (``DecisionService`` provides it)."""

    def instrument(self, symbol: str) -> Instrument: ...

    async def context_for(
        self, instrument: Instrument, portfolio: Portfolio | None = None
    ) -> DecisionContext: ...


@dataclass(frozen=True)
class GateResult:
    """What happened to one decision at the gate."""

    order: Order | None = None  # the order as recorded in the ledger (None if nothing was sent)
    refused: str | None = None  # why nothing was sent
    expired: bool = False  # refused because the approval was stale (age or price drift)
    duplicate: bool = False  # the decision's order was already sent; it is never sent again

    @property
    def sent(self) -> bool:
        """The venue has the order (and did not reject it) because of this call."""
        return self.order is not None and not self.duplicate and self.refused is None


@dataclass(frozen=True)
class BookNow:
    """The account as the gate sees it at sending time: working orders counted as filled."""

    context: DecisionContext  # its portfolio includes the pending orders
    price: Decimal  # the instrument's last price
    marks: dict[str, Decimal]  # last prices of the instrument and of every pending one


def live_confirmed(settings: Settings) -> bool:
    """Live orders need ``trading.mode: live`` and ``trading.confirm_live: true``."""
    return settings.trading.mode is TradingMode.LIVE and settings.trading.confirm_live


def admit_venue(settings: Settings, broker: Broker) -> Broker:
    """``broker`` when :func:`venue_refusal` lets it trade; else ConfigError, after releasing
    its client (nothing was sent through it). The container calls it before anyone holds it."""
    refusal = venue_refusal(settings, broker)
    if refusal is None:
        return broker
    closing = broker.close() if isinstance(broker, Closable) else None
    if closing is not None:
        try:
            _CLOSING.add(task := asyncio.get_running_loop().create_task(closing))
            task.add_done_callback(_CLOSING.discard)
        except RuntimeError:  # no event loop running: a synchronous caller
            asyncio.run(closing)
    raise ConfigError(refusal)


_CLOSING: set[asyncio.Task[None]] = set()


def venue_refusal(settings: Settings, broker: object) -> str | None:
    """Why ``broker`` may not trade under ``settings`` (None when it may): a live venue, or an
    adapter that does not declare its venue, needs live trading configured and confirmed."""
    venue = broker.venue if isinstance(broker, Broker) else None
    if venue in (VenueKind.SIMULATED, VenueKind.SANDBOX) or (
        venue is VenueKind.LIVE and live_confirmed(settings)
    ):
        return None
    if not isinstance(broker, Broker):
        return (
            f"broker {type(broker).__name__} does not implement the Broker port "
            "(ffe_core.ports.brokers.Broker, with its declared venue): refusing to trade through it"
        )
    name = broker.name
    what = "a live venue" if venue is VenueKind.LIVE else f"an undeclared venue ({venue!r})"
    trading = settings.trading
    return (
        f"trading.broker {name!r} reaches {what} (real orders): that needs trading.mode: live "
        f"and trading.confirm_live: true (now trading.mode: {trading.mode.value}, "
        f"trading.confirm_live: {str(trading.confirm_live).lower()})"
    )


def with_pending(
    portfolio: Portfolio, working: Iterable[Order], prices: dict[str, Decimal]
) -> Portfolio:
    """``portfolio`` as if every working order filled now at its limit (or the mark): the
    exposure the limits must count before the venue has filled anything."""
    book = portfolio
    for order in working:
        price = order.limit_price or order.stop_price or prices.get(order.instrument)
        if not price or order.remaining <= 0:
            continue
        book = book.apply(
            Fill(
                client_order_id=order.client_order_id,
                instrument=order.instrument,
                side=order.side,
                quantity=order.remaining,
                price=price,
            )
        )
    return book


def _entry_id(client_order_id: str) -> str:
    """The client order id of the entry a venue-side exit protects: exits are named
    ``<entry client order id>-<leg>`` on every venue (paper, Coinbase, OANDA)."""
    return client_order_id.rsplit("-", 1)[0]


def _entry_decision(client_order_id: str, ledger: dict[str, Order]) -> str | None:
    """The decision of the entry a venue-side exit protects."""
    entry = ledger.get(_entry_id(client_order_id))
    return entry.decision_id if entry is not None else None


async def _ledger_orders(uow: UnitOfWork, fills: list[Fill]) -> dict[str, Order]:
    """The ledger's orders of ``fills`` and the entries their exits protect (by client order
    id; see :func:`_entry_decision`), each read by its id."""
    found: dict[str, Order] = {}
    for coid in dict.fromkeys(f.client_order_id for f in fills):
        for wanted in (coid, _entry_id(coid)):
            if wanted not in found and (order := await uow.orders.get(wanted)) is not None:
                found[wanted] = order
    return found


def merge_venue(local: Order, venue: Order) -> Order:
    """The ledger's order updated with what the venue reports (the venue's state wins)."""
    return local.model_copy(
        update={
            "status": venue.status,
            "quantity": venue.quantity,
            "filled_quantity": venue.filled_quantity,
            "average_fill_price": venue.average_fill_price,
            "venue_order_id": venue.venue_order_id or local.venue_order_id,
            "reject_reason": venue.reject_reason or local.reject_reason,
            "updated_at": venue.updated_at,
        }
    )


class ExecutionGate:
    """Checks, records and sends orders; keeps the ledger equal to what the venue reports."""

    def __init__(
        self,
        settings: Settings,
        broker: Broker,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        market: MarketContext,
        *,
        risk: RiskCheck | None = None,
        kill_switch: Callable[[], KillSwitchState] | None = None,
        notifier: Notifier | None = None,
        metrics: Metrics | None = None,
        recorder: FlightRecorder | None = None,
        ledger_changed: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.ledger_changed = ledger_changed or (lambda: None)
        """Told after every write of orders/fills to the ledger (read models rebuild)."""
        self.broker = broker
        self.recorder = recorder
        self.uow_factory = uow_factory
        self.clock = clock
        self.market = market
        self.risk = risk
        self.kill_switch = kill_switch or KillSwitchState
        self.notifier = notifier
        self.metrics = metrics or NullMetrics()
        self._lock = asyncio.Lock()  # one decision at a time: checks and send are one step
        self._fill_mark: FillMark | None = None  # how far a FillFeed venue's fills were read
        self._unrecorded: dict[str, Fill] = {}  # venue fills not yet seen in the ledger
        self._in_ledger: set[str] = set()  # fill ids seen in (or committed to) the ledger

    # --- sending -----------------------------------------------------------------------------

    async def execute(
        self, decision: Decision, *, approval: Approval | None = None, fence: Fence | None = None
    ) -> GateResult:
        """Check ``decision`` against the account now and send its order, or say why not."""
        async with self._lock:
            result = await self._execute(decision, approval, fence or contextlib.nullcontext)
        if self.recorder is not None:
            filled = result.sent and result.order is not None and result.order.filled_quantity
            quote = await self._fill_quote(result.order) if filled and result.order else None
            await self.recorder.gate_verdict(decision.id, self._verdict(result, approval, quote))
        if result.refused is not None:
            log.info("gate refused %s %s: %s", decision.action, decision.instrument, result.refused)
            await self._notify(
                EventKind.RISK_REJECTION,
                f"Gate refused {decision.action} {decision.instrument}",
                result.refused,
                {"instrument": decision.instrument, "action": decision.action.value},
            )
        return result

    async def _fill_quote(self, order: Order) -> Quote | None:
        """The quote ``order`` filled against, when the venue says (None otherwise)."""
        if not isinstance(self.broker, QuotedFills):
            return None
        try:
            return await self.broker.fill_quote(order.client_order_id)
        except BrokerError as exc:
            log.warning("no fill quote for %s: %s", order.client_order_id, exc)
            return None

    async def _note_fill(self, before: Order | None, after: Order) -> None:
        """Keep a fill that reached the ledger after the pass that sent its order (a resting
        order, a venue-side exit) in the decision's flight record, with the quote it met."""
        gained = after.filled_quantity > (before.filled_quantity if before else Decimal(0))
        if self.recorder is None or after.decision_id is None or not gained:
            return
        verdict = GateVerdict(
            at=self.clock.now(),
            client_order_id=after.client_order_id,
            quantity=after.filled_quantity,
            status=after.status.value,
            quote=await self._fill_quote(after),
            synced=True,
        )
        await self.recorder.gate_verdict(after.decision_id, verdict)

    def _verdict(
        self, result: GateResult, approval: Approval | None, quote: Quote | None = None
    ) -> GateVerdict:
        """What the flight recorder keeps of one pass through the gate."""
        order = result.order
        return GateVerdict(
            at=self.clock.now(),
            sent=result.sent,
            refused=result.refused[:1000] if result.refused is not None else None,
            duplicate=result.duplicate,
            expired=result.expired,
            approval_id=approval.id if approval is not None else None,
            client_order_id=order.client_order_id if order is not None else None,
            quantity=order.quantity if order is not None else None,
            status=order.status.value if order is not None else None,
            quote=quote,
        )

    async def preview_size(self, decision: Decision) -> Decimal | None:
        """The size the gate would send for ``decision`` now (None if it would send nothing)."""
        async with self._lock:
            checked = await self._check(decision, None)
        return checked.quantity if isinstance(checked, Order) else None

    async def cancel(self, client_order_id: str, *, fence: Fence | None = None) -> Order:
        """Cancel a working ledger order at its venue and record the venue's answer: unknown to
        the ledger, NotFoundError; finished, or unknown to the venue, ConflictError (why)."""
        async with self._lock:
            async with self.uow_factory() as uow:
                local = await uow.orders.get(client_order_id)
            if local is None:
                raise NotFoundError(f"no order {client_order_id!r} in the ledger")
            if local.status.is_terminal:
                raise ConflictError(f"order {client_order_id} is already {local.status.value}")
            async with (fence or contextlib.nullcontext)():
                try:
                    answer = await self.broker.cancel_order(client_order_id)
                except NotFoundError as exc:
                    raise ConflictError(
                        f"the venue does not know order {client_order_id} ({exc}); the next "
                        "sync closes it in the ledger"
                    ) from exc
            recorded = await self._record(local, answer)
        if recorded.status is not OrderStatus.CANCELED:
            raise ConflictError(
                f"order {client_order_id} could not be canceled: the venue reports it "
                f"{recorded.status.value}"
            )
        return recorded

    async def _execute(
        self, decision: Decision, approval: Approval | None, fence: Fence
    ) -> GateResult:
        coid = client_order_id_for(decision.id)
        async with self.uow_factory() as uow:
            known = await uow.orders.get(coid)
        if known is not None:
            return GateResult(order=known, duplicate=True)
        at_venue = await self.broker.get_order(coid)
        if at_venue is not None:  # sent by an older build or outside the ledger: adopt it
            return GateResult(order=await self._adopt(at_venue, decision.id), duplicate=True)
        # The fence comes first: a stale leader is refused as such before any check, and the
        # checks and the send see one leader's ledger (no other leader acts in between).
        async with fence():
            checked = await self._check(decision, approval)
            if isinstance(checked, GateResult):
                return checked
            return await self._send(checked)

    async def _check(self, decision: Decision, approval: Approval | None) -> Order | GateResult:
        refusal = venue_refusal(self.settings, self.broker)
        if refusal is not None:
            return GateResult(refused=refusal)
        if decision.action is Action.HOLD:
            return GateResult(refused="hold: nothing to send")
        if decision.risk is not None and not decision.risk.approved:
            return GateResult(refused=f"risk rejected the decision: {decision.risk.reason}")
        instrument = self.market.instrument(decision.instrument)
        working = await self.working_orders()
        busy = [o for o in working if o.instrument == decision.instrument]
        if busy:
            return GateResult(
                refused=f"order {busy[0].client_order_id} on {decision.instrument} is still working"
            )
        side = Side.BUY if decision.action is Action.BUY else Side.SELL
        now = await self._now(instrument, working)
        context, price = now.context, now.price
        held = context.portfolio.position(decision.instrument).quantity
        reducing = held * side.sign < 0
        if approval is not None:
            stale = self._staleness(decision, approval, price)
            if stale is not None:
                return GateResult(refused=stale, expired=True)
        ks = self.kill_switch()
        if ks.tripped and not reducing:
            return GateResult(refused=f"kill switch tripped: {ks.reason or 'drawdown limit'}")
        chosen = approval.approved_size if approval is not None else None
        sized = await self._size(decision, context, chosen)
        order = self._order(decision, instrument, side, sized)
        floor = self.settings.trading.min_order_notional
        if isinstance(order, Order) and not reducing and order.quantity * price < floor:
            return GateResult(
                refused=f"an entry of {order.quantity} ({order.quantity * price:.2f}) is below "
                f"trading.min_order_notional {floor}"
            )
        return order

    async def _now(self, instrument: Instrument, working: list[Order]) -> BookNow:
        """The venue's account with every working order counted, marked now."""
        portfolio = await self.broker.get_portfolio()
        context = await self.market.context_for(instrument, portfolio)
        price = dec(context.last_price)
        marks = {instrument.symbol: price}
        for other in {o.instrument for o in working} - set(marks):  # price what is pending
            other_context = await self.market.context_for(self.market.instrument(other), portfolio)
            marks[other] = dec(other_context.last_price)
        pending = with_pending(portfolio, working, marks)
        if pending is not portfolio:
            context = context.model_copy(update={"portfolio": pending})
        return BookNow(context, price, marks)

    async def preview(self, decision: Decision) -> tuple[Order, BookNow] | str:
        """The order the gate would send for ``decision`` now and the book it would join, or
        why it would send nothing (what an approval card shows)."""
        async with self._lock:
            checked = await self._check(decision, None)
            if isinstance(checked, GateResult):
                return checked.refused or "nothing to send"
            instrument = self.market.instrument(decision.instrument)
            return checked, await self._now(instrument, await self.working_orders())

    def _staleness(self, decision: Decision, approval: Approval, price: Decimal) -> str | None:
        """Why an approved decision may no longer be sent (None when it may).

        Its age is measured when it was approved: an approval's window closes at most
        ``approvals.max_age_seconds`` after the decision, so one approved inside its window is
        never too old by construction. The approval itself then ages: sent more than
        ``max_age_seconds`` after it was given (an agent that was down), it is expired. The price
        must not have moved more than ``max_price_drift`` since the decision, now."""
        cfg = self.settings.approvals
        now = self.clock.now()
        approved_at = approval.decided_at or now
        age = (approved_at - decision.created_at).total_seconds()
        if age > cfg.max_age_seconds:
            return (
                f"expired: approved {age:.0f}s after the decision, later than "
                f"approvals.max_age_seconds {cfg.max_age_seconds:g}"
            )
        waited = (now - approved_at).total_seconds()
        if waited > cfg.max_age_seconds:
            return (
                f"expired: approved {waited:.0f}s ago, longer than approvals.max_age_seconds "
                f"{cfg.max_age_seconds:g}"
            )
        ref = decision.reference_price
        if ref is not None and ref > 0:
            drift = abs(price - ref) / ref
            if drift > Decimal(str(cfg.max_price_drift)):
                return (
                    f"expired: price moved {drift:.2%} from {ref} to {price}, more than "
                    f"approvals.max_price_drift {cfg.max_price_drift:.2%}"
                )
        return None

    async def _size(
        self, decision: Decision, context: DecisionContext, chosen: Decimal | None = None
    ) -> tuple[Decimal, Decision] | str:
        """The size to send now: the risk manager's verdict on the current book, capped by
        what was sized at decision time and by the smaller size a person ``chosen``."""
        approved = decision.risk.size if decision.risk is not None else None
        cap = approved if approved is not None else decision.suggested_size
        if chosen is not None:
            cap = chosen if cap is None else min(cap, chosen)
        if self.risk is None:
            if cap is not None:
                return cap, decision
            held = context.portfolio.position(decision.instrument).quantity
            opposite = held * (1 if decision.action is Action.BUY else -1) < 0
            return (abs(held) if opposite else Decimal(0)), decision
        fresh = await self.risk(
            decision.model_copy(update={"reference_price": None, "risk": None}), context
        )
        verdict = fresh.risk
        if verdict is not None and not verdict.approved:
            return f"risk now: {verdict.reason}"
        size = fresh.suggested_size or Decimal(0)
        if cap is not None:
            size = min(size, cap)
        return size, fresh

    def _order(
        self,
        decision: Decision,
        instrument: Instrument,
        side: Side,
        sized: tuple[Decimal, Decision] | str,
    ) -> Order | GateResult:
        if isinstance(sized, str):
            return GateResult(refused=sized)
        size, checked = sized
        size = instrument.round_size(size)
        if size <= 0:
            reason = checked.risk.reason if checked.risk is not None else "no size"
            return GateResult(refused=f"nothing to trade at this size now ({reason})")
        now = self.clock.now()
        return Order(
            client_order_id=client_order_id_for(decision.id),
            decision_id=decision.id,
            instrument=decision.instrument,
            side=side,
            quantity=size,
            stop_loss=checked.stop_loss,
            take_profit=checked.take_profit,
            created_at=now,
            updated_at=now,
        )

    async def _send(self, order: Order) -> GateResult:
        """Record ``order`` as submitted, then send it (called inside the caller's fence)."""
        submitted = order.transition(OrderStatus.SUBMITTED).model_copy(
            update={"updated_at": self.clock.now()}  # the gate's clock: sent at
        )
        async with self.uow_factory() as uow:
            try:
                await uow.orders.add(submitted)
            except ConflictError:  # another process recorded it first: it sends, not us
                return GateResult(order=await uow.orders.get(order.client_order_id), duplicate=True)
            await uow.commit()
        try:
            answer = await self.broker.submit_order(submitted)
        except BrokerUnavailable:
            raise  # outcome unknown: stays SUBMITTED; sync() asks the venue by client id
        except BrokerError as exc:
            failed = submitted.transition(OrderStatus.REJECTED, reject_reason=str(exc)[:500])
            await self._save(failed)
            return GateResult(order=failed, refused=f"venue refused: {exc}")
        recorded = await self._record(submitted, answer)
        if recorded.status is OrderStatus.REJECTED:
            return GateResult(
                order=recorded, refused=f"venue rejected: {recorded.reject_reason or 'no reason'}"
            )
        return GateResult(order=recorded)

    # --- the ledger --------------------------------------------------------------------------

    async def working_orders(self) -> list[Order]:
        """Orders in the ledger the venue has not finished (their exposure is pending)."""
        async with self.uow_factory() as uow:
            return await uow.orders.list(status=WORKING)

    async def _save(self, order: Order) -> None:
        async with self.uow_factory() as uow:
            await uow.orders.update(order)
            await uow.commit()

    async def _record(self, local: Order, venue: Order) -> Order:
        """Store the venue's answer and the order's fills in the ledger."""
        merged = merge_venue(local, venue)
        fills = (
            await self.broker.list_fills(local.client_order_id) if merged.filled_quantity else []
        )
        async with self.uow_factory() as uow:
            await uow.orders.update(merged)
            for fill in fills:
                await uow.fills.add(fill)
            await uow.commit()
        self._in_ledger.update(f.fill_id for f in fills)
        self.ledger_changed()
        if merged.status is OrderStatus.FILLED and local.status is not OrderStatus.FILLED:
            self.metrics.trade_executed(merged.instrument, merged.side.value)
        return merged

    async def _adopt(self, venue: Order, decision_id: str | None) -> Order:
        """Record an order the venue has but the ledger does not (e.g. a venue-side exit)."""
        # first without its fills (a crash between the two writes leaves a working order with
        # none, which the next sync completes), then the venue's state with its fills at once
        order = venue.model_copy(
            update={
                "decision_id": venue.decision_id or decision_id,
                "status": OrderStatus.ACCEPTED,
                "filled_quantity": Decimal(0),
                "average_fill_price": None,
            }
        )
        async with self.uow_factory() as uow:
            if await uow.orders.get(order.client_order_id) is None:
                await uow.orders.add(order)
                await uow.commit()
        return await self._record(order, venue)

    async def sync(self) -> list[Order]:
        """Bring the ledger up to the venue: working orders' states, and every fill the venue
        reports (idempotent by fill id), including those of venue-side protective orders.
        Returns the ledger orders that changed."""
        changed: list[Order] = []
        for order in await self.working_orders():
            venue = await self.broker.get_order(order.client_order_id)
            if venue is None:
                unanswered = (self.clock.now() - order.updated_at).total_seconds()
                if order.status is OrderStatus.SUBMITTED and unanswered > UNACKNOWLEDGED_SECONDS:
                    # a send whose outcome was unknown, which the venue still does not know:
                    # closed (never resent) so the instrument is not blocked for ever; a fill the
                    # venue reports later still reaches the ledger below
                    expired = order.transition(
                        OrderStatus.EXPIRED,
                        reject_reason=f"the venue never acknowledged it ({unanswered:.0f}s)",
                    )
                    await self._save(expired)
                    changed.append(expired)
                continue
            if (venue.status, venue.filled_quantity) != (order.status, order.filled_quantity):
                changed.append(recorded := await self._record(order, venue))
                await self._note_fill(order, recorded)
        new, orders = await self._fills_not_in_ledger()
        for coid in dict.fromkeys(f.client_order_id for f in new):
            venue = await self.broker.get_order(coid)
            if venue is None:
                continue
            local = orders.get(coid)
            changed.append(
                recorded := await self._record(local, venue)
                if local is not None
                else await self._adopt(venue, _entry_decision(coid, orders))
            )
            await self._note_fill(local, recorded)
        return changed

    async def _fills_not_in_ledger(self) -> tuple[list[Fill], dict[str, Order]]:
        """The venue's fills the ledger lacks, and the ledger's orders they belong to (or the
        entries their venue-side exits protect).

        A :class:`FillFeed` venue reports only what it recorded since the last read; any other
        venue reports all its fills. Only reported fills not known to be recorded are looked up
        in the ledger, by id (its other fills and orders are never read); a reported fill stays
        pending until it is, so one whose recording failed is tried again on the next pass.
        Known as recorded are only the fills the venue reported in this pass and those this
        gate recorded since, so memory follows the venue's report, not the ledger's history."""
        if isinstance(self.broker, FillFeed):
            reported, self._fill_mark = await self.broker.fills_since(self._fill_mark)
        else:
            reported = await self.broker.list_fills()
        known = self._in_ledger
        for fill in reported:
            if fill.fill_id not in known:
                self._unrecorded[fill.fill_id] = fill
        self._in_ledger = {f.fill_id for f in reported if f.fill_id in known}
        for fill_id in known.intersection(self._unrecorded):  # recorded since reported
            del self._unrecorded[fill_id]
        if not self._unrecorded:
            return [], {}
        async with self.uow_factory() as uow:
            recorded = await uow.fills.recorded(self._unrecorded)
            new = [f for f in self._unrecorded.values() if f.fill_id not in recorded]
            orders = await _ledger_orders(uow, new)
        self._in_ledger |= recorded
        for fill_id in recorded:
            self._unrecorded.pop(fill_id, None)
        return new, orders

    async def expire_unsent(self) -> list[Order]:
        """After a crash: ledger orders the venue never received are closed, never resent."""
        closed: list[Order] = []
        for order in await self.working_orders():
            if order.status is not OrderStatus.SUBMITTED:
                continue
            if await self.broker.get_order(order.client_order_id) is not None:
                continue
            expired = order.transition(
                OrderStatus.EXPIRED,
                reject_reason="interrupted before the order reached the venue; not resent",
            )
            await self._save(expired)
            closed.append(expired)
        return closed

    async def ledger_differences(self) -> dict[str, tuple[str, str]]:
        """``{symbol: (ledger position, venue position)}`` wherever the two disagree."""
        async with self.uow_factory() as uow:
            fills = await uow.fills.list()
        ledger = replay(self.settings.trading.initial_cash, fills)
        venue = await self.broker.get_portfolio()
        symbols = sorted(set(ledger.positions) | set(venue.positions))
        return {
            s: (str(ledger.position(s).quantity), str(venue.position(s).quantity))
            for s in symbols
            if ledger.position(s).quantity != venue.position(s).quantity
        }

    async def _notify(self, kind: EventKind, title: str, body: str, fields: dict[str, str]) -> None:
        if self.notifier is None:
            return
        try:
            await self.notifier.notify(
                Notification(kind=kind, title=title, body=body, fields=fields, ts=self.clock.now())
            )
        except Exception as exc:  # notifications never stop trading
            log.warning("notifier failed: %s", exc)


async def send_approved(
    approvals: ApprovalService, gate: ExecutionGate, *, fence: Fence | None = None
) -> list[tuple[Approval, GateResult]]:
    """Every approved decision not yet in the ledger, through the gate, oldest first; an
    approval whose order the gate or the venue refuses ends expired or failed with the reason."""
    done: list[tuple[Approval, GateResult]] = []
    for approval in await approvals.approved():
        async with gate.uow_factory() as uow:
            if await uow.orders.get(client_order_id_for(approval.decision_id)) is not None:
                continue
            decision = await uow.decisions.get(approval.decision_id)
        if decision is None:
            result = GateResult(refused=f"decision {approval.decision_id} is missing")
        else:
            result = await gate.execute(decision, approval=approval, fence=fence)
        if result.duplicate:
            continue
        settled = await approvals.settle(approval, result.refused, expired=result.expired)
        done.append((settled, result))
    return done
