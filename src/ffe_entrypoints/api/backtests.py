"""Backtest jobs (submit, status, result, cancel) and the strategies they can use."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from pydantic import BaseModel, ConfigDict

from ffe_entrypoints.api.errors import error_responses
from ffe_entrypoints.services.backtest_models import (
    BacktestJob,
    BacktestJobs,
    BacktestRequest,
    StrategyInfo,
)


class JobList(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    items: list[BacktestJob]


class StrategyList(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    items: list[StrategyInfo]


class BacktestController(Controller):
    path = "/api/v1"
    tags = ["backtests"]

    @get(
        "/strategies",
        summary="Backtest strategies (built-in and from plugins)",
        responses=error_responses(),
    )
    async def strategies(self, backtest_service: NamedDependency[BacktestJobs]) -> StrategyList:
        return StrategyList(items=backtest_service.strategies())

    @post(
        "/backtests",
        summary="Submit a backtest, optimisation or walk-forward",
        status_code=202,
        description=(
            "Checked at once (400 names the parameter or the exceeded limit; 429 when "
            "backtests.max_queued jobs already wait) and run in a worker process; poll the job."
        ),
        responses=error_responses(400, 404),
    )
    async def submit(
        self, data: JSONBody[BacktestRequest], backtest_service: NamedDependency[BacktestJobs]
    ) -> BacktestJob:
        return await backtest_service.submit(data)

    @get("/backtests", summary="Recent backtest jobs", responses=error_responses())
    async def list_jobs(self, backtest_service: NamedDependency[BacktestJobs]) -> JobList:
        return JobList(
            items=[j.model_copy(update={"result": None}) for j in backtest_service.list()]
        )

    @get(
        "/backtests/{job_id:str}",
        summary="One job: status, progress, result",
        responses=error_responses(400, 404),
    )
    async def get_job(
        self,
        backtest_service: NamedDependency[BacktestJobs],
        job_id: Annotated[str, Parameter(max_length=64)],
    ) -> BacktestJob:
        return backtest_service.get(job_id)

    @delete(
        "/backtests/{job_id:str}",
        summary="Cancel a job: a queued one never starts, a running one is stopped",
        status_code=200,
        responses=error_responses(400, 404, 409),
    )
    async def cancel_job(
        self,
        backtest_service: NamedDependency[BacktestJobs],
        job_id: Annotated[str, Parameter(max_length=64)],
    ) -> BacktestJob:
        return backtest_service.cancel(job_id)
