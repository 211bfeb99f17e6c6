"""Parity, measured: a shadow replay of the day's orders through the backtester's fill model on
the bars the agent actually saw (its flight-recorded input snapshots), beside the venue's fills.

Each market order the gate sent for a decision is filled in the shadow on the first bar the
agent saw that opened at or after the order was sent (the backtester's next-bar-open rule), with
the configured slippage, spread and commission. An order scores ``1 - |slippage| / tolerance``
(at least 0) when both filled, 0 when only one side did; the day's score is the mean. On a
paper venue filling at the next bar's open the score is 1.0, so any divergence live is the
venue's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from ffe_core.config import Settings
from ffe_core.domain.market import Bar
from ffe_core.domain.orders import Fill, Order, OrderType, client_order_id_for
from ffe_core.domain.parity import ParityFill, ParityReport, ParityStatus
from ffe_core.domain.portfolio import replay
from ffe_core.ports.clock import Clock
from ffe_core.ports.metrics import Metrics, NullMetrics
from ffe_core.ports.storage import DecisionQuery, UnitOfWorkFactory
from ffe_core.services.fill_model import FillCosts, simulate_fill

BARS_AFTER = timedelta(days=2)
"""How long after the day the snapshots searched for the bar an order filled on reach."""


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

    async def report(self, day: date | None = None) -> ParityReport:
        """The parity of ``day`` (default: today); today's score also sets the gauge."""
        today = self.clock.now().date()
        day = day or today
        start, end = day_bounds(day)
        async with self.uow_factory() as uow:
            orders = [
                o
                for o in await uow.orders.list()
                if o.decision_id is not None
                and o.client_order_id == client_order_id_for(o.decision_id)
                and o.type is OrderType.MARKET
                and start <= o.created_at < end
            ]
            ledger = sorted(await uow.fills.list(), key=lambda f: f.ts)
        seen = await self.bars_seen({o.instrument for o in orders}, start, end + BARS_AFTER)
        fills = [self._judge(o, ledger, seen.get(o.instrument, [])) for o in orders]
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

    def _judge(self, order: Order, ledger: list[Fill], bars: list[Bar]) -> ParityFill:
        venue = [f for f in ledger if f.client_order_id == order.client_order_id]
        before = [f for f in ledger if f.ts < order.created_at]
        held = replay(self.settings.trading.initial_cash, before).position(order.instrument)
        opening = held.quantity == 0 or (held.quantity > 0) == (order.side.sign > 0)
        bar = next((b for b in bars if b.ts >= order.created_at), None)
        shadow = (
            None
            if bar is None
            else simulate_fill(
                side=order.side,
                order_type=OrderType.MARKET,
                quantity=order.quantity,
                market=bar,
                costs=self.costs,
                opening=opening,
            )
        )
        base = {
            "client_order_id": order.client_order_id,
            "decision_id": order.decision_id,
            "instrument": order.instrument,
            "side": order.side.value,
            "quantity": order.quantity,
        }
        if not venue:
            if shadow is None:
                return ParityFill(**base, status=ParityStatus.PENDING)
            return ParityFill(**base, status=ParityStatus.SHADOW_ONLY, shadow_price=shadow.price)
        quantity = sum((f.quantity for f in venue), Decimal(0))
        price = sum((f.price * f.quantity for f in venue), Decimal(0)) / quantity
        if shadow is None:
            status = ParityStatus.VENUE_ONLY if bar is not None else ParityStatus.PENDING
            return ParityFill(**base, status=status, venue_price=price)
        instrument = self.settings.instrument(order.instrument)
        expected = instrument.round_price(shadow.price) if instrument else shadow.price
        sign = order.side.sign
        slippage = float((price - expected) / expected) * sign * 10_000
        commission = sum((f.commission for f in venue), Decimal(0))
        shadow_commission = quantity * expected * self.costs.commission_rate
        divergence = (price - expected) * quantity * sign + commission - shadow_commission
        return ParityFill(
            **base,
            status=ParityStatus.BOTH,
            venue_price=price,
            shadow_price=expected,
            slippage_bps=round(slippage, 4),
            pnl_divergence=round(divergence, 8).normalize(),
        )
