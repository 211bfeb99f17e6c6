"""Account views: status (equity, P&L, mode), positions, orders, fills."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter

from ffe_core.config import Settings
from ffe_core.domain.decisions import utcnow
from ffe_core.domain.orders import OrderStatus
from ffe_core.domain.portfolio import replay
from ffe_core.drawdown import max_drawdown
from ffe_core.ports.brokers import Broker
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.services.market_data import MarketDataService, mark_prices
from ffe_entrypoints.api.errors import error_responses
from ffe_entrypoints.api.schemas import (
    EquityPoint,
    FillList,
    OrderList,
    PositionList,
    PositionView,
    StatusView,
)


class PortfolioController(Controller):
    path = "/api/v1"
    tags = ["portfolio"]

    @get(
        "/status",
        summary="Portfolio value, P&L and trading mode",
        responses=error_responses(502, 503),
    )
    async def status(
        self,
        broker: NamedDependency[Broker],
        settings: NamedDependency[Settings],
        market_data: NamedDependency[MarketDataService],
        uow_factory: NamedDependency[UnitOfWorkFactory],
    ) -> StatusView:
        portfolio = await broker.get_portfolio()
        marks = await mark_prices(portfolio, settings.instrument, market_data)
        equity = portfolio.equity(marks)
        initial = settings.trading.initial_cash
        realized = sum((p.realized_pnl for p in portfolio.positions.values()), Decimal(0))
        unrealized = sum(
            (
                p.unrealized_pnl(marks.get(s, p.average_price))
                for s, p in portfolio.positions.items()
            ),
            Decimal(0),
        )
        async with uow_factory() as uow:
            fills = await uow.fills.list()
        curve: list[EquityPoint] = []
        book = replay(initial, [])
        for fill in fills:
            book = book.apply(fill)
            value = float(book.equity({fill.instrument: fill.price}))
            curve.append(EquityPoint(ts=fill.ts, equity=value))
        drawdown = max_drawdown([float(initial), *(p.equity for p in curve), float(equity)])
        curve.append(EquityPoint(ts=utcnow(), equity=float(equity)))
        pnl = equity - initial
        return StatusView(
            mode=settings.trading.mode.value,
            broker=broker.name,
            currency=portfolio.currency,
            cash=portfolio.cash,
            equity=equity,
            initial_cash=initial,
            pnl=pnl,
            pnl_pct=float(pnl / initial * 100),
            realized_pnl=realized,
            unrealized_pnl=unrealized,
            gross_exposure=portfolio.gross_exposure(marks),
            drawdown=round(drawdown, 6),
            equity_curve=curve[-500:],
        )

    @get(
        "/positions",
        summary="Open positions, marked to market",
        responses=error_responses(502, 503),
    )
    async def positions(
        self,
        broker: NamedDependency[Broker],
        settings: NamedDependency[Settings],
        market_data: NamedDependency[MarketDataService],
    ) -> PositionList:
        portfolio = await broker.get_portfolio()
        marks = await mark_prices(portfolio, settings.instrument, market_data)
        items = [
            PositionView(
                instrument=s,
                quantity=p.quantity,
                average_price=p.average_price,
                market_price=marks[s],
                market_value=p.market_value(marks[s]),
                unrealized_pnl=p.unrealized_pnl(marks[s]),
                realized_pnl=p.realized_pnl,
            )
            for s, p in sorted(portfolio.positions.items())
            if not p.is_flat
        ]
        return PositionList(items=items)

    @get("/orders", summary="Orders recorded in storage", responses=error_responses(400))
    async def orders(
        self,
        uow_factory: NamedDependency[UnitOfWorkFactory],
        status: FromQuery[OrderStatus | None] = None,
        instrument: Annotated[str | None, Parameter(max_length=32)] = None,
    ) -> OrderList:
        async with uow_factory() as uow:
            items = await uow.orders.list(
                status=status, instrument=instrument.upper() if instrument else None
            )
        return OrderList(items=items[-500:])

    @get("/fills", summary="Fill history (the ledger)", responses=error_responses())
    async def fills(self, uow_factory: NamedDependency[UnitOfWorkFactory]) -> FillList:
        async with uow_factory() as uow:
            items = await uow.fills.list()
        return FillList(items=items[-1000:])
