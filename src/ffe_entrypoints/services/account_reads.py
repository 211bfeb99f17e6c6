"""The account views the API serves (status, positions): the account read model, marked now.

One object per request instead of four injected dependencies: Litestar resolves independent
dependencies in a task group, which cost more than the view itself once the read model
removed the storage round trips."""

from __future__ import annotations

from decimal import Decimal

from ffe_core.config import Settings
from ffe_core.domain.decisions import utcnow
from ffe_core.drawdown import drawdown
from ffe_core.ports.brokers import Broker
from ffe_core.ports.market_data import MarketDataSource
from ffe_core.services.account_view import AccountView
from ffe_core.services.market_data import mark_prices
from ffe_entrypoints.api.schemas import EquityPoint, PositionList, PositionView, StatusView


class AccountReads:
    """Status and positions from the account read model and current marks."""

    def __init__(
        self,
        settings: Settings,
        view: AccountView,
        market_data: MarketDataSource,
        broker: Broker,
    ) -> None:
        self._settings = settings
        self._view = view
        self._market_data = market_data
        self._broker = broker

    async def status(self) -> StatusView:
        """Equity, P&L, exposure, drawdown and the equity curve, marked now."""
        settings = self._settings
        snap = await self._view.snapshot()
        portfolio = snap.portfolio
        marks = await mark_prices(portfolio, settings.instrument, self._market_data)
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
        now = float(equity)
        peak = max(snap.peak, now)
        fall = drawdown(now, peak) if peak else 0.0
        deepest = max(snap.drawdown, fall)
        curve = [EquityPoint(ts=p.ts, equity=p.equity, drawdown=p.drawdown) for p in snap.curve]
        curve.append(EquityPoint(ts=utcnow(), equity=now, drawdown=fall))
        pnl = equity - initial
        return StatusView(
            mode=settings.trading.mode.value,
            broker=self._broker.name,
            currency=portfolio.currency,
            cash=portfolio.cash,
            equity=equity,
            initial_cash=initial,
            pnl=pnl,
            pnl_pct=float(pnl / initial * 100),
            realized_pnl=realized,
            unrealized_pnl=unrealized,
            gross_exposure=portfolio.gross_exposure(marks),
            drawdown=round(deepest, 6),
            equity_curve=curve[-500:],
        )

    async def positions(self) -> PositionList:
        """Open positions, marked now."""
        settings = self._settings
        portfolio = (await self._view.snapshot()).portfolio
        marks = await mark_prices(portfolio, settings.instrument, self._market_data)
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
