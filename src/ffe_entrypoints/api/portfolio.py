"""Account views: status (equity, P&L, mode), positions, orders, fills."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter

from ffe_core.domain.orders import OrderStatus
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_entrypoints.api.errors import error_responses
from ffe_entrypoints.api.schemas import (
    FillList,
    OrderList,
    PositionList,
    StatusView,
)
from ffe_entrypoints.services.account_reads import AccountReads

ORDERS_SHOWN = 500
"""``GET /orders`` answers the newest this many matching orders (oldest first)."""
FILLS_SHOWN = 1000
"""``GET /fills`` answers the newest this many fills of the ledger (in recording order)."""


class PortfolioController(Controller):
    path = "/api/v1"
    tags = ["portfolio"]

    @get(
        "/status",
        summary="Portfolio value, P&L and trading mode",
        responses=error_responses(502, 503),
    )
    async def status(self, account_reads: NamedDependency[AccountReads]) -> StatusView:
        return await account_reads.status()

    @get(
        "/positions",
        summary="Open positions, marked to market",
        responses=error_responses(502, 503),
    )
    async def positions(self, account_reads: NamedDependency[AccountReads]) -> PositionList:
        return await account_reads.positions()

    @get("/orders", summary="Orders recorded in storage", responses=error_responses(400))
    async def orders(
        self,
        uow_factory: NamedDependency[UnitOfWorkFactory],
        status: FromQuery[OrderStatus | None] = None,
        instrument: Annotated[str | None, Parameter(max_length=32)] = None,
    ) -> OrderList:
        async with uow_factory() as uow:
            items = await uow.orders.list(
                status=status,
                instrument=instrument.upper() if instrument else None,
                newest=ORDERS_SHOWN,
            )
        return OrderList(items=items)

    @get("/fills", summary="Fill history (the ledger)", responses=error_responses())
    async def fills(self, uow_factory: NamedDependency[UnitOfWorkFactory]) -> FillList:
        async with uow_factory() as uow:
            items = await uow.fills.list(newest=FILLS_SHOWN)
        return FillList(items=items)
