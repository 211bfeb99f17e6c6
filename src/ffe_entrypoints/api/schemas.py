"""Request and response bodies at the API boundary (pydantic; Litestar derives OpenAPI from them)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ffe_core.domain.approvals import Approval
from ffe_core.domain.decisions import Decision
from ffe_core.domain.orders import Fill, Order

SYMBOL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,31}$"
PROVIDER_PATTERN = r"^[a-z0-9_\-]{1,64}$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DecisionRequest(_Body):
    instrument: str = Field(pattern=SYMBOL_PATTERN, examples=["BTC-USD"])
    providers: list[Any] | None = Field(default=None, max_length=32)


class DecisionPage(BaseModel):
    items: list[Decision]
    next_cursor: str | None


class EquityPoint(BaseModel):
    ts: datetime
    equity: float


class StatusView(BaseModel):
    mode: Literal["paper", "live"]
    broker: str
    currency: str
    cash: Decimal
    equity: Decimal
    initial_cash: Decimal
    pnl: Decimal
    pnl_pct: float
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    gross_exposure: Decimal
    drawdown: float
    equity_curve: list[EquityPoint]


class PositionView(BaseModel):
    instrument: str
    quantity: Decimal
    average_price: Decimal
    market_price: Decimal
    market_value: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal


class PositionList(BaseModel):
    items: list[PositionView]


class OrderList(BaseModel):
    items: list[Order]


class FillList(BaseModel):
    items: list[Fill]


class ApprovalList(BaseModel):
    items: list[Approval]


class ResolveBody(_Body):
    by: str | None = Field(default=None, max_length=64)


class CircuitView(BaseModel):
    state: str
    failures: int
    last_error: str | None


class ProviderView(BaseModel):
    provider: str
    weight: float
    votes: int
    scored: int
    hit_rate: float | None
    brier: float | None
    pnl: float
    last_reason: str
    enabled: bool
    circuit: CircuitView | None


class WeightSnapshot(BaseModel):
    ts: datetime
    weights: dict[str, float]


class ProviderList(BaseModel):
    items: list[ProviderView]
    weight_history: list[WeightSnapshot]


class InstrumentView(BaseModel):
    symbol: str
    asset_class: str
    base: str
    quote: str


class InstrumentList(BaseModel):
    items: list[InstrumentView]
