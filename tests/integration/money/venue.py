"""A fake venue and market for the execution gate's money-invariant tests.

The venue fills market orders at the current price (or leaves them working), keeps its own
account, and records every violation it can see from the outside: an order sent twice, an entry
that leaves a position or the book past a limit, an entry while the kill switch was tripped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ffe_core.config import RiskSettings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.errors import InvalidOrder, NotFoundError
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar
from ffe_core.domain.orders import Fill, Order, OrderStatus
from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.brokers import VenueKind
from ffe_core.ports.control import KillSwitchState
from ffe_core.services.context import build_context

T0 = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass
class Clock:
    now_at: datetime = T0

    def now(self) -> datetime:
        return self.now_at


@dataclass
class Market:
    """Prices per instrument; each context is 60 one-minute bars ending at the current price."""

    instruments: dict[str, Instrument]
    clock: Clock
    prices: dict[str, Decimal] = field(default_factory=dict)

    def instrument(self, symbol: str) -> Instrument:
        return self.instruments[symbol]

    def bars(self, symbol: str) -> list[Bar]:
        last = float(self.prices[symbol])
        end = self.clock.now()
        out = []
        for i in range(60):
            # a gentle zig-zag ending at the current price, so ATR and volatility are defined
            close = last * (1 + 0.002 * ((i % 4) - 1.5) / 1.5) if i < 59 else last
            out.append(
                Bar(
                    ts=end - timedelta(minutes=59 - i),
                    open=close,
                    high=close * 1.001,
                    low=close * 0.999,
                    close=close,
                    volume=10,
                )
            )
        return out

    async def context_for(
        self, instrument: Instrument, portfolio: Portfolio | None = None
    ) -> DecisionContext:
        assert portfolio is not None, "the gate always passes the account it checks against"
        return build_context(instrument, self.bars(instrument.symbol), self.clock.now(), portfolio)


@dataclass
class FakeVenue:
    """A Broker: immediate fills at the market (``rest=True``: orders stay working)."""

    market: Market
    limits: RiskSettings
    kill_switch: KillSwitchState = field(default_factory=KillSwitchState)
    cash: Decimal = Decimal("100000")
    rest: bool = False
    reject: bool = False
    name: str = "fake"
    venue: VenueKind = VenueKind.SIMULATED
    orders: dict[str, Order] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    sent: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    book: Portfolio | None = None
    approved: dict[str, tuple[datetime, Decimal]] = field(default_factory=dict)
    """Decision id -> (decided at, reference price) of decisions sent through an approval."""
    approved_at: dict[str, datetime] = field(default_factory=dict)
    """Decision id -> when a person approved it (as the test saw the approval succeed)."""
    max_age: timedelta = timedelta(seconds=300)
    max_drift: Decimal = Decimal("0.03")

    def __post_init__(self) -> None:
        self.book = Portfolio(cash=self.cash)

    @property
    def portfolio(self) -> Portfolio:
        assert self.book is not None
        return self.book

    def equity(self) -> Decimal:
        return self.portfolio.equity(self.market.prices)

    async def submit_order(self, order: Order) -> Order:
        self.sent[order.client_order_id] += 1
        if self.sent[order.client_order_id] > 1:
            self.violations.append(f"{order.client_order_id} sent twice")
        if order.client_order_id in self.orders:
            return self.orders[order.client_order_id]
        if self.reject:
            raise InvalidOrder(f"{order.client_order_id}: venue rejected: market closed")
        working = [
            o.client_order_id
            for o in self.orders.values()
            if o.instrument == order.instrument and not o.status.is_terminal
        ]
        if working:
            self.violations.append(f"{order.client_order_id} while {working[0]} is working")
        self._check_fresh(order)
        held = self.portfolio.position(order.instrument).quantity
        entry = held == 0 or (held > 0) == (order.side.sign > 0)
        if entry and self.kill_switch.tripped:
            self.violations.append(f"entry {order.client_order_id} while the kill switch tripped")
        accepted = order.transition(
            OrderStatus.ACCEPTED, venue_order_id="v-" + order.client_order_id
        )
        self.orders[order.client_order_id] = accepted
        if not self.rest:
            self.fill(order.client_order_id)
        if entry:
            self._check_limits(order)
        return self.orders[order.client_order_id]

    def _check_fresh(self, order: Order) -> None:
        """An approved decision is never sent when approved past its age, nor long after its
        approval, nor past its price drift."""
        if order.decision_id not in self.approved:
            return
        decided, ref = self.approved[order.decision_id]
        approved = self.approved_at.get(order.decision_id)
        if approved is None:
            self.violations.append(f"{order.client_order_id}: sent but never approved")
        elif approved - decided > self.max_age:
            self.violations.append(f"{order.client_order_id}: approved after max_age")
        elif self.market.clock.now() - approved > self.max_age:
            self.violations.append(f"{order.client_order_id}: sent max_age after its approval")
        drift = abs(self.market.prices[order.instrument] - ref) / ref
        if drift > self.max_drift:
            self.violations.append(f"{order.client_order_id}: sent after a {drift:.2%} move")

    def _check_limits(self, order: Order) -> None:
        """After an entry: the position and the whole book, counting working orders as filled."""
        price = self.market.prices[order.instrument]
        book = self.portfolio
        for o in self.orders.values():
            if not o.status.is_terminal and o.remaining > 0:
                book = book.apply(
                    Fill(
                        client_order_id=o.client_order_id,
                        instrument=o.instrument,
                        side=o.side,
                        quantity=o.remaining,
                        price=self.market.prices[o.instrument],
                    )
                )
        equity = book.equity(self.market.prices)
        slack = Decimal("1.000001")
        position = abs(book.position(order.instrument).quantity) * price
        step = self.market.instrument(order.instrument).size_increment * price
        if position > Decimal(str(self.limits.max_position_fraction)) * equity * slack + step:
            self.violations.append(
                f"{order.client_order_id}: position {position:.2f} > "
                f"{self.limits.max_position_fraction} x equity {equity:.2f}"
            )
        gross = sum(
            (abs(p.quantity) * self.market.prices[s] for s, p in book.positions.items()),
            Decimal(0),
        )
        cap = min(self.limits.max_gross_exposure, self.limits.max_leverage)
        if gross > Decimal(str(cap)) * equity * slack + step:
            self.violations.append(
                f"{order.client_order_id}: gross {gross:.2f} > {cap} x {equity:.2f}"
            )

    def fill(self, client_order_id: str) -> None:
        order = self.orders[client_order_id]
        if order.status.is_terminal:
            return
        fill = Fill(
            fill_id="vf-" + client_order_id,
            client_order_id=client_order_id,
            instrument=order.instrument,
            side=order.side,
            quantity=order.remaining,
            price=self.market.prices[order.instrument],
            ts=self.market.clock.now(),
        )
        self.fills.append(fill)
        self.book = self.portfolio.apply(fill)
        self.orders[client_order_id] = order.with_fill(fill)

    def fill_all(self) -> None:
        for coid in list(self.orders):
            self.fill(coid)

    async def get_order(self, client_order_id: str) -> Order | None:
        return self.orders.get(client_order_id)

    async def cancel_order(self, client_order_id: str) -> Order:
        if client_order_id not in self.orders:
            raise NotFoundError(client_order_id)
        return self.orders[client_order_id]

    async def get_portfolio(self) -> Portfolio:
        return self.portfolio

    async def list_fills(self, client_order_id: str | None = None) -> list[Fill]:
        return [f for f in self.fills if client_order_id in (None, f.client_order_id)]

    async def close(self) -> None:
        return None
