"""Request and response bodies at the API boundary (pydantic; Litestar derives OpenAPI from them).

Every body refuses nan and inf and carries UTC times, so what is served reads back unchanged.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ffe_core.domain.approvals import Approval
from ffe_core.domain.decisions import Decision
from ffe_core.domain.json_values import JsonData
from ffe_core.domain.market import UtcDatetime
from ffe_core.domain.orders import Fill, Order

SYMBOL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,31}$"
PROVIDER_PATTERN = r"^[a-z0-9_\-]{1,64}$"


class _Body(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", allow_inf_nan=False)


class DecisionRequest(_Body):
    instrument: str = Field(pattern=SYMBOL_PATTERN, examples=["BTC-USD"])
    providers: list[JsonData] | None = Field(default=None, max_length=32)


class DecisionPage(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    items: list[Decision]
    next_cursor: str | None


class EquityPoint(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    ts: UtcDatetime
    equity: float
    drawdown: float
    """Fraction below the running equity peak (the initial cash included), 0 at a new high."""


class StatusView(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

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
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    instrument: str
    quantity: Decimal
    average_price: Decimal
    market_price: Decimal
    market_value: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal


class PositionList(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    items: list[PositionView]


class OrderList(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    items: list[Order]


class FillList(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    items: list[Fill]


class ApprovalView(Approval):
    """An approval as served: with the size the execution gate would send now (pending only)."""

    size_now: Decimal | None = None


class ApprovalList(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    items: list[ApprovalView]


class ResolveBody(_Body):
    by: str | None = Field(default=None, max_length=64)


class ApproveBody(ResolveBody):
    size: Decimal | None = Field(
        default=None, gt=0, description="approve at this smaller size (at most the sized one)"
    )


class CircuitView(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    state: str
    failures: int
    last_error: str | None


class ProviderView(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    provider: str
    weight: float
    votes: int
    scored: int
    provisional: bool
    """Scored on fewer votes than ``PROVISIONAL_BELOW`` (30): early figures, still moving."""
    hit_rate: float | None
    brier: float | None
    pnl: float
    last_reason: str
    enabled: bool
    circuit: CircuitView | None
    demoted: str | None = None
    """Why ``costs.demote`` holds this provider at its weight floor (None: not demoted)."""


class WeightSnapshot(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    ts: UtcDatetime
    weights: dict[str, float]


class ProviderList(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    items: list[ProviderView]
    weight_history: list[WeightSnapshot]


class InstrumentView(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    symbol: str
    asset_class: str
    base: str
    quote: str
    price_increment: Decimal = Field(description="Smallest price step: how many decimals to show")
    size_increment: Decimal = Field(description="Smallest quantity step")


class InstrumentList(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    items: list[InstrumentView]
