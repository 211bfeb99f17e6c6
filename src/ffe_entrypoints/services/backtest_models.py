"""What the backtest API says and accepts: the job request, the job and the strategy list, and
the :class:`BacktestJobs` the controller talks to. Kept apart from the service (its worker pool,
the strategies' parameter rules, the replay stack) so that serving the API loads none of that
until a backtest is asked for."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ffe_core.domain.json_values import JsonData, JsonReport
from ffe_core.domain.market import UtcDatetime

MAX_BARS = 5000
MAX_PARAMS = 16
MAX_GRID_PARAMS = 8
MAX_REPLAY_INSTRUMENTS = 8
ParamValue = float | int | str | bool
JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]


class BacktestRequest(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", allow_inf_nan=False)

    kind: Literal["backtest", "walk_forward", "optimize", "replay"] = "backtest"
    instrument: str = Field(default="BTC-USD", max_length=32)
    strategy: str = Field(default="sma_cross", max_length=64)
    # typed as Any for the OpenAPI document (Litestar renders a constrained dict as an array and
    # ``float | int`` as an unsatisfiable oneOf); the validators below and the strategy's rules
    # (``backtest_params``, checked at submission) keep the real constraints
    params: dict[str, Any] = Field(
        default_factory=dict, description="strategy parameters: numbers, strings or booleans"
    )
    grid: dict[str, list[Any]] = Field(
        default_factory=dict, description="values to search per parameter (optimize/walk_forward)"
    )
    cash: float = Field(default=10_000.0, gt=0, le=1e12)
    commission: float = Field(default=0.001, ge=0, lt=0.1)
    finalize: bool = Field(
        default=True,
        description="close a position open at the end and count it (backtesting.py's "
        "finalize_trades); false leaves it open, valued in the equity curve",
    )
    bars: int = Field(default=2000, ge=100, le=MAX_BARS)
    # replay (``ffe replay``'s options; the bars come from the market data chain, not files)
    instruments: list[str] = Field(
        default_factory=list,
        max_length=MAX_REPLAY_INSTRUMENTS,
        description="several instruments on one account (default: instrument): replay, or a "
        "portfolio backtest (kind backtest, two or more; entries sized by the risk settings)",
    )
    risk_stops: bool = Field(
        default=False,
        description="portfolio: stop-loss and take-profit on every entry, set as the agent's "
        "risk manager sets them (risk.atr_stop_multiple ATRs, risk.reward_risk)",
    )
    providers: list[str] | None = Field(
        default=None, max_length=16, description="replay: providers (default: enabled ones)"
    )
    aggregation: str | None = Field(default=None, max_length=32, description="replay")
    start: str | None = Field(
        default=None, max_length=32, description="replay: first decision date (--from)"
    )
    end: str | None = Field(default=None, max_length=32, description="replay: last bar date (--to)")
    # not "weights": Litestar answers 500 to an invalid body field named like a dependency
    weighting: Literal["equal", "learned"] = Field(
        default="equal", description="replay: equal or learned (stored) weights (--weights)"
    )
    approvals: Literal["auto", "skip"] = Field(
        default="auto", description="replay: held decisions approved automatically or skipped"
    )
    allow_lookahead: bool = Field(
        default=False, description="replay before a model's training cut-off (contaminated)"
    )
    yes: bool = Field(default=False, description="replay: spend on uncached LLM calls")
    max_cost: float | None = Field(default=None, ge=0, le=1e6, description="replay: USD cap")
    anonymize: bool = Field(
        default=False,
        description="replay: language models see a renamed instrument, rebased prices and "
        "shifted dates",
    )
    walk_forward: bool = Field(
        default=False,
        description="replay: also compute and store the live gate's walk-forward report (PBO, "
        "deflated Sharpe, out-of-sample return, max drawdown) of the configured stack, as ffe "
        "replay --walk-forward does",
    )

    @field_validator("params")
    @classmethod
    def _scalar_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        if len(params) > MAX_PARAMS:
            raise ValueError(f"at most {MAX_PARAMS} parameters")
        _check_scalars(params)
        return params

    @field_validator("grid")
    @classmethod
    def _scalar_grid(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        if len(grid) > MAX_GRID_PARAMS:
            raise ValueError(f"at most {MAX_GRID_PARAMS} parameters")
        for name, values in grid.items():
            _check_scalars({f"{name}[{i}]": v for i, v in enumerate(values)})
        return grid


def _check_scalars(values: Mapping[str, Any]) -> None:
    bad = [
        k
        for k, v in values.items()
        if not isinstance(v, ParamValue) or (isinstance(v, float) and not math.isfinite(v))
    ]
    if bad:
        raise ValueError(f"{', '.join(bad[:5])}: must be a finite number, string or boolean")


class BacktestJob(BaseModel):
    """A submitted backtest and, once done, its result.

    ``result`` is JSON data in which every non-finite number is None: a statistic that is
    infinite or undefined (the profit factor of a run without a losing trade, the Sharpe ratio
    of a flat equity curve) reads ``null`` in the API and comes back as None, never as a float
    that JSON cannot carry.
    """

    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    id: str
    kind: str
    status: JobStatus
    progress: float = 0.0
    error: str | None = None
    request: BacktestRequest
    created_at: UtcDatetime
    result: dict[str, JsonReport] | None = None


class StrategyInfo(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    name: str
    params: dict[str, JsonData]
    level: Literal["target", "order"] = Field(
        default="target",
        description="target: returns target positions (any kind, portfolios); order: places "
        "orders bar by bar (one instrument; backtest, optimize or walk_forward)",
    )


@runtime_checkable  # Litestar checks the injected service against it
class BacktestJobs(Protocol):
    """The backtest jobs as the API uses them (:class:`~ffe_entrypoints.services.backtests.BacktestService`)."""

    def strategies(self) -> list[StrategyInfo]: ...

    async def submit(self, request: BacktestRequest) -> BacktestJob: ...

    def list(self) -> list[BacktestJob]: ...

    def get(self, job_id: str) -> BacktestJob: ...

    def cancel(self, job_id: str) -> BacktestJob: ...
