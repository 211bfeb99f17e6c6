"""Backtest jobs for the API and dashboard: submitted, run off the event loop, polled for results.

Jobs live in memory (they are reproducible from their request); the numba kernels release the
GIL, so a job runs in a worker thread without stalling the API.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ffe_core.backtest.data import Bars, make_bars
from ffe_core.backtest.search import best, grid, run_search
from ffe_core.backtest.simulator import FillConfig, RunResult, simulate
from ffe_core.backtest.stats import Calendar, compute_stats, json_ready
from ffe_core.backtest.strategies import spec_for
from ffe_core.backtest.walk_forward import walk_forward
from ffe_core.config import Settings
from ffe_core.domain.decisions import new_id
from ffe_core.domain.errors import NotFoundError, ValidationFailed
from ffe_core.ports.market_data import MarketDataSource

MAX_JOBS = 200
MAX_GRID_POINTS = 5000  # a search larger than this is refused rather than left to run for hours
MAX_PARAMS = 16
MAX_GRID_PARAMS = 8
ParamValue = float | int | str | bool


class BacktestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["backtest", "walk_forward", "optimize"] = "backtest"
    instrument: str = Field(default="BTC-USD", max_length=32)
    strategy: str = Field(default="sma_cross", max_length=64)
    # typed as Any for the OpenAPI document (Litestar renders a constrained dict as an array and
    # ``float | int`` as an unsatisfiable oneOf); the validators below keep the real constraints
    params: dict[str, Any] = Field(
        default_factory=dict, description="strategy parameters: numbers, strings or booleans"
    )
    grid: dict[str, list[Any]] = Field(
        default_factory=dict, description="values to search per parameter (optimize/walk_forward)"
    )
    cash: float = Field(default=10_000.0, gt=0, le=1e12)
    commission: float = Field(default=0.001, ge=0, lt=0.1)
    bars: int = Field(default=2000, ge=100, le=5000)

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
    bad = [k for k, v in values.items() if not isinstance(v, ParamValue)]
    if bad:
        raise ValueError(f"{', '.join(bad[:5])}: must be a number, string or boolean")


class BacktestJob(BaseModel):
    id: str
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float = 0.0
    error: str | None = None
    request: BacktestRequest
    created_at: datetime
    result: dict[str, Any] | None = None


class StrategyInfo(BaseModel):
    name: str
    params: dict[str, Any]


def _clean(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _series(bars: Bars, values: np.ndarray, key: str, offset: int = 0) -> list[dict[str, Any]]:
    times = bars.time
    step = max(1, len(values) // 500)
    out = []
    for i in range(0, len(values), step):
        ts = (
            datetime.fromtimestamp(int(times[offset + i]) / 1e9, UTC).isoformat()
            if times is not None
            else str(offset + i)
        )
        out.append({"ts": ts, key: _clean(float(values[i]))})
    return out


def _drawdown(equity: np.ndarray) -> np.ndarray:
    peak = np.maximum.accumulate(equity)
    return np.where(peak > 0, equity / peak - 1, 0.0)


class BacktestService:
    def __init__(
        self,
        settings: Settings,
        market_data: MarketDataSource,
        strategies: Callable[[], Mapping[str, Callable[..., Any]]],
    ) -> None:
        self.settings = settings
        self.market_data = market_data
        self._strategies = strategies
        self.jobs: dict[str, BacktestJob] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def strategies(self) -> list[StrategyInfo]:
        out = []
        for name, fn in sorted(self._strategies().items()):
            params = {
                p.name: p.default
                for p in list(inspect.signature(fn).parameters.values())[5:]
                if p.default is not inspect.Parameter.empty
            }
            out.append(StrategyInfo(name=name, params=params))
        return out

    def get(self, job_id: str) -> BacktestJob:
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"unknown backtest job {job_id!r}")
        return job

    def list(self) -> list[BacktestJob]:
        return sorted(self.jobs.values(), key=lambda j: j.created_at, reverse=True)

    async def submit(self, request: BacktestRequest) -> BacktestJob:
        strategy = self._strategies().get(request.strategy)
        if strategy is None:
            known = ", ".join(sorted(self._strategies()))
            raise ValidationFailed(f"strategy: unknown {request.strategy!r} (known: {known})")
        instrument = self.settings.instrument(request.instrument)
        if instrument is None:
            raise NotFoundError(f"unknown instrument {request.instrument!r}")
        accepted = set(list(inspect.signature(strategy).parameters)[5:])
        unknown = sorted((set(request.params) | set(request.grid)) - accepted)
        if unknown:
            raise ValidationFailed(
                f"params: {request.strategy} takes no {', '.join(unknown)} "
                f"(it takes {', '.join(sorted(accepted)) or 'nothing'})"
            )
        if request.kind != "backtest" and not (request.grid or spec_for(request.strategy).grid):
            raise ValidationFailed("grid: give parameter values to search")
        points = math.prod(
            len(v) for v in {**spec_for(request.strategy).grid, **request.grid}.values()
        )
        if request.kind != "backtest" and points > MAX_GRID_POINTS:
            raise ValidationFailed(
                f"grid: {points} parameter combinations; at most {MAX_GRID_POINTS}"
            )
        job = BacktestJob(
            id=new_id(),
            kind=request.kind,
            status="queued",
            request=request,
            created_at=datetime.now(UTC),
        )
        if len(self.jobs) >= MAX_JOBS:
            oldest = min(self.jobs.values(), key=lambda j: j.created_at)
            self.jobs.pop(oldest.id)
        self.jobs[job.id] = job
        raw = await self.market_data.get_bars(
            instrument, self.settings.market_data.interval, limit=request.bars
        )
        bars = make_bars(
            [b.open for b in raw],
            [b.high for b in raw],
            [b.low for b in raw],
            [b.close for b in raw],
            [b.volume for b in raw],
            np.array([b.ts.replace(tzinfo=None) for b in raw], dtype="datetime64[ns]"),
        )
        task = asyncio.create_task(self._run(job.id, bars, strategy))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def _update(self, job_id: str, **changes: Any) -> None:
        job = self.jobs.get(job_id)
        if job is not None:
            self.jobs[job_id] = job.model_copy(update=changes)

    async def _run(self, job_id: str, bars: Bars, strategy: Callable[..., Any]) -> None:
        self._update(job_id, status="running")
        request = self.jobs[job_id].request
        try:
            result = await asyncio.to_thread(self._compute, job_id, request, bars, strategy)
        except Exception as exc:
            self._update(job_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:500])
            return
        self._update(job_id, status="done", progress=1.0, result=result)

    def _progress(self, job_id: str) -> Callable[[int, int], None]:
        def report(done: int, total: int) -> None:
            self._update(job_id, progress=round(done / max(total, 1), 4))

        return report

    def _compute(
        self, job_id: str, request: BacktestRequest, bars: Bars, strategy: Callable[..., Any]
    ) -> dict[str, Any]:
        cfg = FillConfig(cash=request.cash, commission=request.commission, unit_step=0.0)
        spec = spec_for(request.strategy)
        if request.kind == "backtest":
            try:
                target = strategy(
                    bars.open, bars.high, bars.low, bars.close, bars.volume, **request.params
                )
            except TypeError as exc:
                raise ValidationFailed(f"params: {exc}") from None
            run = simulate(bars, target, cfg)
            stats = compute_stats(run, bars, warmup=spec.warmup(request.params))
            return self._payload(run.equity, bars, stats, run, None)
        space = {**spec.grid, **request.grid}
        candidates = grid(space, spec.constraint)
        if not candidates:
            raise ValidationFailed("grid: no parameter combination satisfies the constraint")
        if request.kind == "optimize":
            evaluations = run_search(
                bars,
                strategy,
                candidates,
                cfg,
                progress=self._progress(job_id),
                warmup=spec.warmup,
                calendar=Calendar.of(bars),
            )
            top = best(evaluations)
            target = strategy(bars.open, bars.high, bars.low, bars.close, bars.volume, **top.params)
            run = simulate(bars, target, cfg)
            stats = compute_stats(run, bars, warmup=spec.warmup(top.params))
            keys = list(space)
            heatmap = None
            if len(keys) >= 2:
                xs, ys = sorted(set(space[keys[0]])), sorted(set(space[keys[1]]))
                z: list[list[float | None]] = [[None] * len(xs) for _ in ys]
                for ev in evaluations:
                    xi, yi = xs.index(ev.params[keys[0]]), ys.index(ev.params[keys[1]])
                    prev = z[yi][xi]
                    score = _clean(ev.score)
                    if score is not None and (prev is None or score > prev):
                        z[yi][xi] = score
                heatmap = {"x_param": keys[0], "y_param": keys[1], "x": xs, "y": ys, "z": z}
            payload = self._payload(run.equity, bars, stats, run, heatmap)
            payload["best_params"] = top.params
            return payload
        n = len(bars)
        result = walk_forward(
            bars,
            strategy,
            candidates,
            cfg,
            in_sample=max(50, n * 2 // 5),
            out_of_sample=max(20, n // 5),
            warmup=spec.warmup,
            progress=self._progress(job_id),
        )
        payload = self._payload(result.equity, bars, result.stats, None, None, result.oos_start)
        payload["windows"] = [
            {
                "params": w.params,
                "in_sample_score": _clean(w.in_sample_score),
                "oos_return_pct": _clean(w.oos_return_pct),
            }
            for w in result.windows
        ]
        payload["pbo"] = _clean(result.pbo)
        payload["deflated_sharpe"] = _clean(result.deflated_sharpe)
        return payload

    def _payload(
        self,
        equity: np.ndarray,
        bars: Bars,
        stats: Mapping[str, Any],
        run: RunResult | None,
        heatmap: dict[str, Any] | None,
        offset: int = 0,
    ) -> dict[str, Any]:
        trades: list[dict[str, Any]] = []
        if run is not None and bars.time is not None:
            t = run.trades
            for i in range(len(t)):
                trades.append(
                    {
                        "entry_time": datetime.fromtimestamp(
                            int(bars.time[t.entry_bar[i]]) / 1e9, UTC
                        ).isoformat(),
                        "exit_time": datetime.fromtimestamp(
                            int(bars.time[t.exit_bar[i]]) / 1e9, UTC
                        ).isoformat(),
                        "size": float(t.size[i]),
                        "entry_price": float(t.entry_price[i]),
                        "exit_price": float(t.exit_price[i]),
                        "pnl": float(t.pnl[i]),
                        "return_pct": float(t.return_pct[i] * 100),
                    }
                )
        stats_json = {
            k: (_clean(v) if isinstance(v, float) else v)
            for k, v in json_ready(dict(stats)).items()
        }
        return {
            "stats": stats_json,
            "equity": _series(bars, equity, "equity", offset),
            "drawdown": _series(
                bars, _drawdown(np.asarray(equity, dtype=np.float64)), "drawdown", offset
            ),
            "trades": trades[-500:],
            "heatmap": heatmap,
        }
