"""PaperBroker: a simulated venue whose every state change is one storage transaction.

Orders, fills and the cash/positions ledger live behind the UnitOfWork, so a restarted process
continues where the last one stopped, and a resubmitted client order id returns the recorded
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
from ffe_core.config import Settings
from ffe_core.domain.errors import (
    InsufficientFunds,
    InvalidOrder,
    MarketDataError,
    NotFoundError,
)
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar, Quote
from ffe_core.domain.orders import Fill, Order, OrderStatus, Side
from ffe_core.domain.portfolio import Portfolio, TradingMode
from ffe_core.ports.clock import Clock
from ffe_core.ports.market_data import MarketDataSource
from ffe_core.ports.storage import UnitOfWork, UnitOfWorkFactory
from ffe_core.services.fill_model import FillCosts, commission_for, simulate_fill

log = logging.getLogger(__name__)

OPEN_STATUSES = (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


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
    """The Broker port over simulated execution and persisted state."""

    name = "paper"
    mode = TradingMode.PAPER

    def __init__(
        self,
        *,
        settings: Settings,
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
            existing = await uow.orders.get(order.client_order_id)
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
            raced = await uow.orders.get(accepted.client_order_id)
            if raced is not None:
                return raced
            portfolio = await self._load(uow)
            try:
                final, fill, portfolio = self._execute(accepted, instrument, market, portfolio)
            except (InsufficientFunds, InvalidOrder) as exc:
                rejected = accepted.transition(OrderStatus.REJECTED, reject_reason=str(exc))
                await uow.orders.add(rejected)
                await uow.commit()
                raise
            await uow.orders.add(final)
            await self._record_fill(uow, fill, portfolio)
            await uow.commit()
        return final

    async def get_order(self, client_order_id: str) -> Order | None:
        """The recorded order, after re-checking it against the market if it is still resting."""
        async with self._uow() as uow:
            order = await uow.orders.get(client_order_id)
        return None if order is None else await self._refresh(order)

    async def cancel_order(self, client_order_id: str) -> Order:
        """Cancel a resting order; a finished order is returned unchanged."""
        async with self._uow() as uow:
            order = await uow.orders.get(client_order_id)
            if order is None:
                raise NotFoundError(f"order {client_order_id} not found on the paper account")
            if order.status.is_terminal:
                return order
            canceled = order.transition(OrderStatus.CANCELED)
            await uow.orders.update(canceled)
            await uow.commit()
        return canceled

    async def get_portfolio(self) -> Portfolio:
        async with self._uow() as uow:
            return await self._load(uow)

    async def list_fills(self, client_order_id: str | None = None) -> list[Fill]:
        async with self._uow() as uow:
            return await uow.fills.list(client_order_id)

    async def close(self) -> None:
        """Nothing to release: storage and market data belong to the container."""

    # --- paper-specific ----------------------------------------------------------------------

    async def process_market(self) -> list[Order]:
        """Re-check every resting order against the latest market data; returns those that moved."""
        async with self._uow() as uow:
            resting = [o for s in OPEN_STATUSES for o in await uow.orders.list(status=s)]
        changed = []
        for order in resting:
            after = await self._refresh(order)
            if after.status is not order.status:
                changed.append(after)
        return changed

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
            if await uow.orders.get(order.client_order_id) is None:
                await uow.orders.add(order)
                await uow.commit()

    async def _record_fill(self, uow: UnitOfWork, fill: Fill | None, portfolio: Portfolio) -> None:
        if fill is not None and await uow.fills.add(fill):
            await uow.accounts.save(self._account_id, portfolio)

    async def _market(self, order: Order, instrument: Instrument) -> Sequence[Bar | Quote]:
        """Bars that opened at or after acceptance (oldest first), or the latest quote."""
        try:
            if self._opts.market_fill == "quote":
                return [await self._md.get_quote(instrument)]
            interval = self._opts.interval or self._settings.market_data.interval
            bars = await self._md.get_bars(instrument, interval, limit=self._opts.bars_lookback)
        except MarketDataError as exc:
            log.warning("paper: no market data for %s (%s); order rests", order.instrument, exc)
            return []
        return sorted((b for b in bars if b.ts >= order.created_at), key=lambda b: b.ts)

    def _execute(
        self,
        order: Order,
        instrument: Instrument,
        market: Sequence[Bar | Quote],
        portfolio: Portfolio,
    ) -> tuple[Order, Fill | None, Portfolio]:
        """Fill ``order`` on the first bar / quote that reaches it; funds are checked then."""
        held = portfolio.position(order.instrument).quantity
        opening = held == 0 or (held > 0) == (order.side is Side.BUY)
        for point in market:
            price = simulate_fill(
                side=order.side,
                order_type=order.type,
                quantity=order.remaining,
                market=point,
                costs=self._costs,
                limit_price=order.limit_price,
                stop_price=order.stop_price,
                opening=opening,
            )
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
            return order.with_fill(fill), fill, portfolio.apply(fill)
        return order, None, portfolio

    async def _refresh(self, order: Order) -> Order:
        """Try to fill a resting order; funds shortfalls at trigger time reject it."""
        if order.status not in OPEN_STATUSES:
            return order
        instrument = self._instrument(order.instrument)
        market = await self._market(order, instrument)
        if not market:
            return order
        async with self._uow() as uow:
            current = await uow.orders.get(order.client_order_id)
            if current is None or current.status not in OPEN_STATUSES:
                return current or order
            portfolio = await self._load(uow)
            try:
                final, fill, portfolio = self._execute(current, instrument, market, portfolio)
            except (InsufficientFunds, InvalidOrder) as exc:
                final, fill = current.transition(OrderStatus.REJECTED, reject_reason=str(exc)), None
            if final == current:
                return current
            await uow.orders.update(final)
            await self._record_fill(uow, fill, portfolio)
            await uow.commit()
        return final
