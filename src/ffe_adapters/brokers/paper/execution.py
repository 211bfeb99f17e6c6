"""PaperBroker: a simulated venue whose every state change is one storage transaction.

The venue's book (``uow.venue_orders``, ``uow.venue_fills`` with the quote each fill met,
``uow.accounts``) lives behind the UnitOfWork, apart from ffe's ledger, which the execution gate writes from what this venue reports
exactly as for a real one. A restarted process continues where the last one stopped, and a resubmitted client order id returns the recorded
order instead of trading twice. Prices come from a MarketDataSource; execution follows
:mod:`ffe_core.services.fill_model`.

The account is a cash account: buys need cash for value plus commission; opening or extending a
short needs the same amount of free cash as collateral (proceeds of open shorts are reserved).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from decimal import Decimal

from ffe_adapters.brokers.paper.config import PaperOptions
from ffe_core.config import CoreView
from ffe_core.domain.errors import (
    InsufficientFunds,
    InvalidOrder,
    MarketDataError,
    NotFoundError,
)
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar, Quote
from ffe_core.domain.orders import Fill, FillMark, Order, OrderStatus, OrderType, Side
from ffe_core.domain.portfolio import Portfolio, TradingMode
from ffe_core.ports.brokers import VenueKind
from ffe_core.ports.clock import Clock
from ffe_core.ports.market_data import MarketDataSource
from ffe_core.ports.storage import UnitOfWork, UnitOfWorkFactory
from ffe_core.services.fill_model import FillCosts, commission_for, fill_order

log = logging.getLogger(__name__)

OPEN_STATUSES = frozenset(
    {OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED}
)

BRACKET_LEGS = ("sl", "tp")


def bracket_id(entry_client_order_id: str, leg: str) -> str:
    """The protective order's client id: the entry's with the leg appended (fits 64 chars)."""
    return f"{entry_client_order_id[:56]}-{leg}"


def is_bracket(client_order_id: str) -> bool:
    return client_order_id[-3:] in ("-sl", "-tp")


def bracket_sibling(client_order_id: str) -> str:
    return client_order_id[:-2] + ("tp" if client_order_id.endswith("sl") else "sl")


def paper_fill_id(client_order_id: str, seq: int = 1) -> str:
    """Deterministic fill id, so replaying a fill can never record it twice."""
    return "pf-" + hashlib.sha256(f"{client_order_id}:{seq}".encode()).hexdigest()[:32]


def check_funds(portfolio: Portfolio, fill: Fill, *, allow_short: bool) -> None:
    """Raise InsufficientFunds (InvalidOrder for a disabled short) if ``fill`` is unaffordable."""
    reserved = sum(
        (-p.quantity * p.average_price for p in portfolio.positions.values() if p.quantity < 0),
        Decimal(0),
    )
    pos = portfolio.position(fill.instrument).quantity
    new_q = pos + fill.signed_quantity
    if fill.side is Side.BUY:
        need = fill.quantity * fill.price + fill.commission
        available = portfolio.cash if pos < 0 else portfolio.cash - reserved
    else:
        opening = max(-new_q, Decimal(0)) - max(-pos, Decimal(0))
        if opening <= 0:
            return
        if not allow_short:
            raise InvalidOrder(f"{fill.instrument}: short selling is disabled on this account")
        need = opening * fill.price + fill.commission
        available = portfolio.cash - reserved
    if need > available:
        raise InsufficientFunds(
            f"{fill.side} {fill.quantity} {fill.instrument} @ {fill.price:.8f} needs "
            f"{need:.2f} but {max(available, Decimal(0)):.2f} is available"
        )


class PaperBroker:
    """The Broker port over simulated execution and persisted state; it declares ``FillFeed``
    (its fills since a mark) and ``QuotedFills``: in ``quote`` mode it tells the quote each
    order filled against (kept with the fill, so after a restart and to every process on the
    same storage)."""

    name = "paper"
    venue = VenueKind.SIMULATED
    mode = TradingMode.PAPER

    def __init__(
        self,
        *,
        settings: CoreView,
        uow_factory: UnitOfWorkFactory,
        market_data: MarketDataSource,
        clock: Clock,
        options: PaperOptions | None = None,
    ) -> None:
        self._settings = settings
        self._uow = uow_factory
        self._md = market_data
        self._clock = clock
        self._opts = options or PaperOptions()
        self._account_id = settings.trading.account_id
        self._costs = FillCosts(
            commission_rate=settings.trading.commission,
            commission_fixed=self._opts.commission_fixed,
            slippage=settings.trading.slippage,
            spread=settings.trading.spread,
        )

    # --- Broker port -------------------------------------------------------------------------

    async def submit_order(self, order: Order) -> Order:
        """Accept, try to fill, persist; a known client order id returns the recorded order."""
        async with self._uow() as uow:
            existing = await uow.venue_orders.get(order.client_order_id)
        if existing is not None:
            return await self._refresh(existing)
        instrument = self._instrument(order.instrument)
        if instrument.round_size(order.quantity) <= 0:
            rejected = self._accept(order, None).transition(
                OrderStatus.REJECTED,
                reject_reason=f"size {order.quantity} rounds to 0 at increment "
                f"{instrument.size_increment} (min {instrument.min_size})",
            )
            await self._record_new(rejected)
            raise InvalidOrder(f"{order.client_order_id}: {rejected.reject_reason}")
        accepted = self._accept(order, instrument)
        market = await self._market(accepted, instrument)
        async with self._uow() as uow:
            raced = await uow.venue_orders.get(accepted.client_order_id)
            if raced is not None:
                return raced
            portfolio = await self._load(uow)
            try:
                final, fill, portfolio, quote = self._execute(
                    accepted, instrument, market, portfolio
                )
            except (InsufficientFunds, InvalidOrder) as exc:
                rejected = self._stamped(
                    accepted.transition(OrderStatus.REJECTED, reject_reason=str(exc))
                )
                await uow.venue_orders.add(rejected)
                await uow.commit()
                raise
            await uow.venue_orders.add(final)
            await self._record_fill(uow, fill, portfolio, quote)
            await uow.commit()
        if fill is not None:
            await self._place_bracket(final)
        return final

    async def get_order(self, client_order_id: str) -> Order | None:
        """The recorded order, after re-checking it against the market if it is still resting."""
        async with self._uow() as uow:
            order = await uow.venue_orders.get(client_order_id)
        return None if order is None else await self._refresh(order)

    async def cancel_order(self, client_order_id: str) -> Order:
        """Cancel a resting order; a finished order is returned unchanged."""
        async with self._uow() as uow:
            order = await uow.venue_orders.get(client_order_id)
            if order is None:
                raise NotFoundError(f"order {client_order_id} not found on the paper account")
            if order.status.is_terminal:
                return order
            canceled = self._stamped(order.transition(OrderStatus.CANCELED))
            await uow.venue_orders.update(canceled)
            await uow.commit()
        return canceled

    async def get_portfolio(self) -> Portfolio:
        async with self._uow() as uow:
            return await self._load(uow)

    async def list_fills(self, client_order_id: str | None = None) -> list[Fill]:
        async with self._uow() as uow:
            return await uow.venue_fills.list(client_order_id)

    async def fills_since(self, mark: FillMark | None) -> tuple[list[Fill], FillMark]:
        """FillFeed: the fills recorded after ``mark`` (one read, see ``venue_fills.since``)."""
        async with self._uow() as uow:
            return await uow.venue_fills.since(mark)

    async def close(self) -> None:
        """Nothing to release: storage and market data belong to the container."""

    async def fill_quote(self, client_order_id: str) -> Quote | None:
        """QuotedFills: the quote the order filled against, as recorded with its fill (None
        for a bar fill, an order not filled yet, or one filled before the venue kept quotes)."""
        async with self._uow() as uow:
            return await uow.venue_fills.quote(client_order_id)

    # --- paper-specific ----------------------------------------------------------------------

    async def process_market(self) -> list[Order]:
        """Re-check every resting order against the latest market data; returns those that moved.

        Nothing rests: nothing is fetched. Otherwise the market is fetched once per instrument
        with working orders, however many of them rest there."""
        async with self._uow() as uow:
            resting = await uow.venue_orders.list(status=OPEN_STATUSES)  # oldest first
        if not resting:
            return []  # no working order, so no bracket either
        markets: dict[str, Sequence[Bar | Quote]] = {}
        changed = []
        for order in resting:
            after = await self._refresh(order, markets)
            if after.status is not order.status:
                changed.append(after)
                if after.status is OrderStatus.FILLED:
                    await self._place_bracket(after)  # settles the brackets it places
        if any(is_bracket(o.client_order_id) for o in resting):
            changed += await self._settle_brackets()  # else no protective order rested
        return changed

    # --- protective (bracket) orders ---------------------------------------------------------

    async def _place_bracket(self, entry: Order) -> None:
        """After an entry with stop-loss / take-profit fills, rest a stop and a limit exit (OCO).

        Their client order ids derive from the entry's, so placing them twice is a no-op; they
        fill by the same rules as any resting order (the stop-loss wins when both are reached).
        """
        if is_bracket(entry.client_order_id) or (
            entry.stop_loss is None and entry.take_profit is None
        ):
            return
        async with self._uow() as uow:
            position = (await self._load(uow)).position(entry.instrument).quantity
        if position == 0 or (position > 0) != (entry.side is Side.BUY):
            return  # the fill reduced or closed a position: nothing to protect
        exit_side = Side.SELL if entry.side is Side.BUY else Side.BUY
        legs = [
            ("sl", OrderType.STOP, {"stop_price": entry.stop_loss}),
            ("tp", OrderType.LIMIT, {"limit_price": entry.take_profit}),
        ]
        for leg, kind, price in legs:
            if next(iter(price.values())) is None:
                continue
            await self._rest(
                Order(
                    client_order_id=bracket_id(entry.client_order_id, leg),
                    decision_id=entry.decision_id,
                    instrument=entry.instrument,
                    side=exit_side,
                    type=kind,
                    quantity=min(entry.filled_quantity, abs(position)),
                    **price,
                )
            )
        # an exit may already be reachable (e.g. on the quote that filled the entry)
        for leg in ("sl", "tp"):
            resting = await self.get_order(bracket_id(entry.client_order_id, leg))
            if resting is not None and resting.status is OrderStatus.FILLED:
                break
        await self._settle_brackets()

    async def _rest(self, order: Order) -> None:
        instrument = self._instrument(order.instrument)
        async with self._uow() as uow:
            if await uow.venue_orders.get(order.client_order_id) is None:
                await uow.venue_orders.add(self._accept(order, instrument))
                await uow.commit()

    async def _settle_brackets(self) -> list[Order]:
        """Cancel protective orders whose sibling filled or whose position is gone (OCO). The
        open protective orders are read, and each one's sibling by its id, not the venue's
        whole order history (which was read on every pass while an exit rested)."""
        async with self._uow() as uow:
            open_exits = [
                o
                for o in await uow.venue_orders.list(status=OPEN_STATUSES)
                if is_bracket(o.client_order_id)
            ]
            siblings = {
                o.client_order_id: await uow.venue_orders.get(bracket_sibling(o.client_order_id))
                for o in open_exits
            }
            portfolio = await self._load(uow)
        canceled = []
        for order in open_exits:
            sibling = siblings[order.client_order_id]
            held = portfolio.position(order.instrument).quantity
            protects = held != 0 and (held > 0) == (order.side is Side.SELL)
            if (sibling is not None and sibling.status is OrderStatus.FILLED) or not protects:
                canceled.append(await self.cancel_order(order.client_order_id))
        return canceled

    # --- internals ---------------------------------------------------------------------------

    def _instrument(self, symbol: str) -> Instrument:
        instrument = self._settings.instrument(symbol)
        if instrument is None:
            raise InvalidOrder(f"unknown instrument {symbol!r} (not in settings.instruments)")
        return instrument

    def _accept(self, order: Order, instrument: Instrument | None) -> Order:
        """The order as the venue books it: rounded, stamped with the venue clock, ACCEPTED."""
        data = order.model_dump()
        data.update(
            status=OrderStatus.ACCEPTED,
            filled_quantity=Decimal(0),
            average_fill_price=None,
            created_at=self._clock.now(),
            venue_order_id=order.client_order_id,
        )
        if instrument is not None:
            data["quantity"] = instrument.round_size(order.quantity)
            for key in ("limit_price", "stop_price", "stop_loss", "take_profit"):
                if data[key] is not None:
                    data[key] = instrument.round_price(data[key])
        return Order.model_validate(data)

    async def _load(self, uow: UnitOfWork) -> Portfolio:
        book = await uow.accounts.load(self._account_id)
        if book is None:
            return Portfolio(cash=self._settings.trading.initial_cash, mode=TradingMode.PAPER)
        return book

    async def _record_new(self, order: Order) -> None:
        async with self._uow() as uow:
            if await uow.venue_orders.get(order.client_order_id) is None:
                await uow.venue_orders.add(order)
                await uow.commit()

    async def _record_fill(
        self, uow: UnitOfWork, fill: Fill | None, portfolio: Portfolio, quote: Quote | None
    ) -> None:
        """Record ``fill`` with the ``quote`` it met (None: a bar) and the account after it."""
        if fill is not None and await uow.venue_fills.add(fill, quote):
            await uow.accounts.save(self._account_id, portfolio)

    async def _market(
        self,
        order: Order,
        instrument: Instrument,
        fetched: dict[str, Sequence[Bar | Quote]] | None = None,
    ) -> Sequence[Bar | Quote]:
        """Bars that opened at or after acceptance (oldest first), or the latest quote.
        ``fetched``: what one pass already fetched per instrument (filled here)."""
        latest = None if fetched is None else fetched.get(instrument.symbol)
        if latest is None:
            try:
                if self._opts.market_fill == "quote":
                    latest = [await self._md.get_quote(instrument)]
                else:
                    interval = self._opts.interval or self._settings.bar_interval
                    latest = await self._md.get_bars(
                        instrument, interval, limit=self._opts.bars_lookback
                    )
            except MarketDataError as exc:
                log.warning("paper: no market data for %s (%s); order rests", order.instrument, exc)
                latest = []
            if fetched is not None:
                fetched[instrument.symbol] = latest
        if self._opts.market_fill == "quote":
            return latest
        return sorted((b for b in latest if b.ts >= order.created_at), key=lambda b: b.ts)

    def _reachable(self, order: Order, market: Sequence[Bar | Quote]) -> bool:
        """Whether ``order`` fills on some point of ``market`` (whether it opens a position
        changes the price it fills at, not whether it fills)."""
        return any(
            fill_order(order, order.remaining, point, self._costs) is not None for point in market
        )

    def _execute(
        self,
        order: Order,
        instrument: Instrument,
        market: Sequence[Bar | Quote],
        portfolio: Portfolio,
    ) -> tuple[Order, Fill | None, Portfolio, Quote | None]:
        """Fill ``order`` on the first bar / quote that reaches it; funds are checked then.
        Also returns the quote the fill met (None for a bar, or no fill)."""
        held = portfolio.position(order.instrument).quantity
        opening = held == 0 or (held > 0) == (order.side is Side.BUY)
        for point in market:
            price = fill_order(order, order.remaining, point, self._costs, opening=opening)
            if price is None:
                continue
            fill_price = instrument.round_price(price.price)
            fill = Fill(
                fill_id=paper_fill_id(order.client_order_id),
                client_order_id=order.client_order_id,
                instrument=order.instrument,
                side=order.side,
                quantity=order.remaining,
                price=fill_price,
                commission=commission_for(order.remaining, fill_price, self._costs),
                ts=point.ts,
            )
            check_funds(portfolio, fill, allow_short=self._opts.allow_short)
            quote = point if isinstance(point, Quote) else None
            return order.with_fill(fill), fill, portfolio.apply(fill), quote
        return order, None, portfolio, None

    def _stamped(self, order: Order) -> Order:
        """``order`` updated at the venue clock's now (when it ended: the parity shadow stops
        looking at the market for it there)."""
        return order.model_copy(update={"updated_at": self._clock.now()})

    async def _refresh(
        self, order: Order, fetched: dict[str, Sequence[Bar | Quote]] | None = None
    ) -> Order:
        """Try to fill a resting order; funds shortfalls at trigger time reject it."""
        if order.status not in OPEN_STATUSES:
            return order
        instrument = self._instrument(order.instrument)
        market = await self._market(order, instrument, fetched)
        if not self._reachable(order, market):
            return order  # the market has not come to it: no need to open the book
        async with self._uow() as uow:
            current = await uow.venue_orders.get(order.client_order_id)
            if current is None or current.status not in OPEN_STATUSES:
                return current or order
            portfolio = await self._load(uow)
            try:
                final, fill, portfolio, quote = self._execute(
                    current, instrument, market, portfolio
                )
            except (InsufficientFunds, InvalidOrder) as exc:
                rejected = current.transition(OrderStatus.REJECTED, reject_reason=str(exc))
                final, fill, quote = self._stamped(rejected), None, None
            if final == current:
                return current
            await uow.venue_orders.update(final)
            await self._record_fill(uow, fill, portfolio, quote)
            await uow.commit()
        return final
