"""Parity, measured: a shadow replay of the day's orders through the backtester's fill model on
the market the agent actually saw, beside the venue's fills.

Every order the gate sent for a decision (market, limit or stop) and every venue-side exit of
it (the stop-loss / take-profit pair) is filled in the shadow by the rules of
:mod:`ffe_core.services.fill_model`, with the configured slippage, spread and commission:

* on the **quote** the venue filled it at, when the venue said which (``QuotedFills``; the gate
  keeps it in the decision's flight record): the paper venue's default ``quote`` mode;
* otherwise on the **bars** the agent saw (its flight-recorded input snapshots): a market order
  on the first bar that opened at or after it was sent (next-bar open); a limit or stop order on
  the first bar from then that reaches its price, while it was working. The two exits of one
  entry are one-cancels-other: the first to fill wins, the stop-loss when both are reached on
  one bar. A venue that fills at quotes is judged on its quotes only: its exits that did not
  fill met quotes nobody recorded, so they are not judged.

An order scores ``1 - |slippage| / tolerance`` (at least 0) when both filled, 0 when only one
side did; one neither filled is not judged; the day's score is the mean. On the paper venue, in
either fill mode, the score is 1.0, so any divergence live is the venue's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from ffe_core.config import Settings
from ffe_core.domain.market import Bar, Quote
from ffe_core.domain.orders import Fill, FillMark, Order, OrderType, client_order_id_for
from ffe_core.domain.parity import ParityFill, ParityReport, ParityStatus
from ffe_core.ports.clock import Clock
from ffe_core.ports.metrics import Metrics, NullMetrics
from ffe_core.ports.storage import DecisionQuery, UnitOfWork, UnitOfWorkFactory
from ffe_core.services.fill_model import FillCosts, commission_for, fill_order

BARS_AFTER = timedelta(days=2)
"""How long after the day the snapshots searched for the bar an order filled on reach."""

EXIT_LEGS = ("sl", "tp")
"""A venue-side exit is named ``<entry client order id>-<leg>``, the stop-loss first."""


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def agreement(fill: ParityFill, tolerance_bps: float) -> float | None:
    """1 for an exact fill, 0 at ``tolerance_bps`` or beyond, 0 for a fill only one side made."""
    if fill.status is ParityStatus.PENDING:
        return None
    if fill.status is not ParityStatus.BOTH or fill.slippage_bps is None:
        return 0.0
    return max(0.0, 1.0 - abs(fill.slippage_bps) / tolerance_bps)


def score_day(day: date, fills: Sequence[ParityFill], tolerance_bps: float) -> ParityReport:
    judged = [(f, a) for f in fills if (a := agreement(f, tolerance_bps)) is not None]
    slips = [f.slippage_bps for f, _ in judged if f.slippage_bps is not None]
    return ParityReport(
        day=day,
        score=round(sum(a for _, a in judged) / len(judged), 6) if judged else None,
        tolerance_bps=tolerance_bps,
        judged=len(judged),
        venue_only=sum(f.status is ParityStatus.VENUE_ONLY for f in fills),
        shadow_only=sum(f.status is ParityStatus.SHADOW_ONLY for f in fills),
        mean_slippage_bps=round(sum(slips) / len(slips), 3) if slips else None,
        pnl_divergence=sum((f.pnl_divergence for f in fills), Decimal(0)),
        fills=tuple(fills),
    )


def exit_of(order: Order) -> str | None:
    """The leg (``sl`` / ``tp``) when ``order`` is a venue-side exit of its decision's entry."""
    if order.decision_id is None:
        return None
    entry = client_order_id_for(order.decision_id)
    for leg in EXIT_LEGS:
        if order.client_order_id == f"{entry}-{leg}":
            return leg
    return None


def is_entry(order: Order) -> bool:
    return order.decision_id is not None and order.client_order_id == client_order_id_for(
        order.decision_id
    )


@dataclass(frozen=True)
class Shadow:
    """What the fill model made of one order: ``price`` None when it did not fill it;
    ``judged`` False when nothing was seen yet to judge it on (pending)."""

    price: Decimal | None = None
    judged: bool = True
    quote: bool = False


PENDING = Shadow(judged=False)


class ParityService:
    """Computes a day's :class:`ParityReport` from the ledger and the flight recorder."""

    def __init__(
        self,
        settings: Settings,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.uow_factory = uow_factory
        self.clock = clock
        self.metrics = metrics or NullMetrics()
        t = settings.trading
        self.costs = FillCosts(commission_rate=t.commission, slippage=t.slippage, spread=t.spread)
        self._today = _CarriedLedger()

    async def report(self, day: date | None = None) -> ParityReport:
        """The parity of ``day`` (default: today); today's score also sets the gauge.

        The day's orders are read, not the ledger's every order; today's report (the agent's
        gauge, once a minute) reads only the fills recorded since the last one (the ledger
        before the day is kept as the quantity it leaves held), another day's reads the
        ledger once."""
        today = self.clock.now().date()
        day = day or today
        start, end = day_bounds(day)
        async with self.uow_factory() as uow:
            orders = [
                o
                for o in await uow.orders.list(created_in=(start, end))
                if is_entry(o) or exit_of(o) is not None
            ]
            if day == today:
                ledger = await self._today.read(uow, start)
            else:
                ledger = LedgerSince()
                ledger.add(await uow.fills.list(), start)
        seen = await self.bars_seen({o.instrument for o in orders}, start, end + BARS_AFTER)
        quotes = await self.quotes_met({o.decision_id for o in orders if o.decision_id})
        shadows: dict[str, Shadow] = {}
        exits: dict[str, list[Order]] = {}
        for order in orders:
            bars = seen.get(order.instrument, [])
            if exit_of(order) is None:
                opening = self._opening(order, ledger)
                shadows[order.client_order_id] = self._shadow(order, bars, quotes, opening)
            else:
                exits.setdefault(client_order_id_for(order.decision_id or ""), []).append(order)
        for entry, legs in exits.items():
            shadows |= self._exits(legs, seen.get(legs[0].instrument, []), quotes, entry)
        fills = [
            fill
            for o in orders
            if (fill := self._judge(o, ledger, shadows[o.client_order_id])) is not None
        ]
        report = score_day(day, fills, self.settings.parity.tolerance_bps)
        if day == today and report.score is not None:
            self.metrics.parity_score(report.score)
        return report

    async def bars_seen(
        self, instruments: set[str], since: datetime, until: datetime
    ) -> dict[str, list[Bar]]:
        """Every bar in the input snapshots of the decisions made in ``[since, until)``."""
        bars: dict[str, dict[datetime, Bar]] = {s: {} for s in instruments}
        async with self.uow_factory() as uow:
            for symbol in instruments:
                query = DecisionQuery(instrument=symbol, since=since, until=until, limit=10_000)
                decisions, _ = await uow.decisions.list(query)
                for decision in decisions:
                    record = await uow.flight.get(decision.id)
                    text = await uow.flight.content(record.snapshot_hash) if record else None
                    for raw in json.loads(text)["bars"] if text else ():
                        bar = Bar.model_validate(raw)
                        bars[symbol].setdefault(bar.ts, bar)
        return {s: [b[t] for t in sorted(b)] for s, b in bars.items()}

    async def quotes_met(self, decision_ids: set[str]) -> dict[str, Quote]:
        """``{client order id: quote}``: the quotes the venue said it filled these decisions'
        orders at, from their flight records."""
        quotes: dict[str, Quote] = {}
        async with self.uow_factory() as uow:
            for decision_id in sorted(decision_ids):
                record = await uow.flight.get(decision_id)
                for verdict in record.gate if record else ():
                    if verdict.quote is not None and verdict.client_order_id is not None:
                        quotes.setdefault(verdict.client_order_id, verdict.quote)
        return quotes

    # --- the shadow ------------------------------------------------------------------------

    def _fill(self, order: Order, market: Bar | Quote, opening: bool) -> Decimal | None:
        price = fill_order(order, order.quantity, market, self.costs, opening=opening)
        return None if price is None else price.price

    def _shadow(
        self, order: Order, bars: list[Bar], quotes: dict[str, Quote], opening: bool
    ) -> Shadow:
        """An entry: on the quote it met, else on the bars while it was working."""
        quote = quotes.get(order.client_order_id)
        if quote is not None:
            return Shadow(self._fill(order, quote, opening), quote=True)
        working = self._working(order, bars)
        if order.type is OrderType.MARKET:
            first = next(iter(working), None)
            return PENDING if first is None else Shadow(self._fill(order, first, opening))
        for bar in working:
            if (price := self._fill(order, bar, opening)) is not None:
                return Shadow(price)
        return Shadow() if order.status.is_terminal else PENDING

    def _exits(
        self, legs: list[Order], bars: list[Bar], quotes: dict[str, Quote], entry: str
    ) -> dict[str, Shadow]:
        """The exits of one entry, one-cancels-other (see the module docstring)."""
        legs = sorted(legs, key=lambda o: EXIT_LEGS.index(exit_of(o) or "sl"))
        if entry in quotes or any(o.client_order_id in quotes for o in legs):
            return {
                o.client_order_id: (
                    Shadow(self._fill(o, q, opening=False), quote=True)
                    if (q := quotes.get(o.client_order_id)) is not None
                    else Shadow()  # the quotes it met were not recorded: not judged
                )
                for o in legs
            }
        shadows = {o.client_order_id: Shadow() for o in legs}
        since = min(o.created_at for o in legs)
        ended = [o.updated_at for o in legs if o.status.is_terminal and not o.filled_quantity]
        until = min(ended) if len(ended) == len(legs) else None
        walked = False
        for bar in bars:
            if bar.ts < since or (until is not None and bar.ts >= until):
                continue
            walked = True
            for order in legs:
                if (price := self._fill(order, bar, opening=False)) is not None:
                    shadows[order.client_order_id] = Shadow(price)
                    return shadows
        if not walked or until is None:
            return {o.client_order_id: PENDING for o in legs}
        return shadows

    def _working(self, order: Order, bars: list[Bar]) -> list[Bar]:
        """The bars from the order's sending until it ended unfilled (if it did)."""
        ended = order.status.is_terminal and not order.filled_quantity
        return [
            b for b in bars if b.ts >= order.created_at and not (ended and b.ts >= order.updated_at)
        ]

    def _opening(self, order: Order, ledger: LedgerSince) -> bool:
        """Whether ``order`` opens or extends a position (pays the spread): the ledger's fills
        before its own first fill (before it was sent, when it has none) say what was held."""
        held = ledger.held_before(order)
        return held == 0 or (held > 0) == (order.side.sign > 0)

    # --- the judgement ---------------------------------------------------------------------

    def _judge(self, order: Order, ledger: LedgerSince, shadow: Shadow) -> ParityFill | None:
        """The order's venue fill beside the shadow's; None when neither filled it."""
        venue = ledger.fills_of(order.client_order_id)
        base = {
            "client_order_id": order.client_order_id,
            "decision_id": order.decision_id,
            "instrument": order.instrument,
            "side": order.side.value,
            "quantity": order.quantity,
            "order_type": order.type.value,
            "exit": exit_of(order) is not None,
            "quote": shadow.quote,
        }
        if not venue:
            if not shadow.judged:
                return ParityFill(**base, status=ParityStatus.PENDING)
            if shadow.price is None:
                return None
            return ParityFill(**base, status=ParityStatus.SHADOW_ONLY, shadow_price=shadow.price)
        quantity = sum((f.quantity for f in venue), Decimal(0))
        price = sum((f.price * f.quantity for f in venue), Decimal(0)) / quantity
        if shadow.price is None:
            status = ParityStatus.VENUE_ONLY if shadow.judged else ParityStatus.PENDING
            return ParityFill(**base, status=status, venue_price=price)
        instrument = self.settings.instrument(order.instrument)
        expected = instrument.round_price(shadow.price) if instrument else shadow.price
        sign = order.side.sign
        slippage = float((price - expected) / expected) * sign * 10_000
        commission = sum((f.commission for f in venue), Decimal(0))
        shadow_commission = commission_for(quantity, expected, self.costs)
        divergence = (price - expected) * quantity * sign + commission - shadow_commission
        return ParityFill(
            **base,
            status=ParityStatus.BOTH,
            venue_price=price,
            shadow_price=expected,
            slippage_bps=round(slippage, 4),
            pnl_divergence=round(divergence, 8).normalize(),
        )


LEDGER_MARGIN = timedelta(hours=1)
"""A day's fills are those from this long before the day starts (a venue's clock may lag)."""


class LedgerSince:
    """The fill ledger as one day's parity reads it: the quantity each instrument's fills from
    before ``start - LEDGER_MARGIN`` leave held, and the later fills in time order."""

    def __init__(self) -> None:
        self.start: datetime | None = None
        self.held: dict[str, Decimal] = {}
        self.recent: list[Fill] = []

    def add(self, fills: Sequence[Fill], start: datetime) -> None:
        """Take in ``fills`` (in recording order) for the day from ``start`` (a later day's
        start folds the fills it leaves behind into the quantities held)."""
        if self.start is None or start > self.start:
            self.start = start
            kept = self.recent
            self.recent = []
            self._take(kept)
        self._take(fills)
        self.recent.sort(key=lambda f: f.ts)  # stable: ties keep the recording order

    def _take(self, fills: Sequence[Fill]) -> None:
        assert self.start is not None
        cut = self.start - LEDGER_MARGIN
        for fill in fills:
            if fill.ts < cut:
                self.held[fill.instrument] = (
                    self.held.get(fill.instrument, Decimal(0)) + fill.signed_quantity
                )
            else:
                self.recent.append(fill)

    def held_before(self, order: Order) -> Decimal:
        """The quantity of ``order``'s instrument held before its first fill (before it was
        sent, when it has none)."""
        recent = self.recent
        own = next(
            (i for i, f in enumerate(recent) if f.client_order_id == order.client_order_id), None
        )
        before = (
            recent[:own] if own is not None else [f for f in recent if f.ts <= order.created_at]
        )
        since = sum(
            (f.signed_quantity for f in before if f.instrument == order.instrument), Decimal(0)
        )
        return self.held.get(order.instrument, Decimal(0)) + since

    def fills_of(self, client_order_id: str) -> list[Fill]:
        return [f for f in self.recent if f.client_order_id == client_order_id]


class _CarriedLedger:
    """Today's :class:`LedgerSince`, carried forward from the ledger's fill feed: each read
    takes only the fills recorded since the last (all of them on the first read, or after a
    fill committed late behind the last read)."""

    def __init__(self) -> None:
        self._ledger = LedgerSince()
        self._mark: FillMark | None = None
        self._lock = asyncio.Lock()  # two reports at once must not take the same fills twice

    async def read(self, uow: UnitOfWork, start: datetime) -> LedgerSince:
        async with self._lock:
            fills, mark = await uow.fills.since(self._mark)
            ledger = self._ledger
            if mark.covers(fills) or (ledger.start is not None and start < ledger.start):
                if not mark.covers(fills):  # the clock went back a day: every fill is needed
                    fills, mark = await uow.fills.since(None)
                ledger = self._ledger = LedgerSince()
            ledger.add(fills, start)
            self._mark = mark
            return ledger
