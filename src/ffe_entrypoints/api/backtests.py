"""Backtest jobs (submit, status, result) and the strategies they can use."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from pydantic import BaseModel

from ffe_entrypoints.services.backtests import (
    BacktestJob,
    BacktestRequest,
    BacktestService,
    StrategyInfo,
)


class JobList(BaseModel):
    items: list[BacktestJob]


class StrategyList(BaseModel):
    items: list[StrategyInfo]


class BacktestController(Controller):
    path = "/api/v1"
    tags = ["backtests"]

    @get("/strategies", summary="Backtest strategies (built-in and from plugins)")
    async def strategies(self, backtest_service: NamedDependency[BacktestService]) -> StrategyList:
        return StrategyList(items=backtest_service.strategies())

    @post("/backtests", summary="Submit a backtest, optimisation or walk-forward", status_code=202)
    async def submit(
        self, data: JSONBody[BacktestRequest], backtest_service: NamedDependency[BacktestService]
    ) -> BacktestJob:
        return await backtest_service.submit(data)

    @get("/backtests", summary="Recent backtest jobs")
    async def list_jobs(self, backtest_service: NamedDependency[BacktestService]) -> JobList:
        return JobList(
            items=[j.model_copy(update={"result": None}) for j in backtest_service.list()]
        )

    @get("/backtests/{job_id:str}", summary="One job: status, progress, result")
    async def get_job(
        self,
        backtest_service: NamedDependency[BacktestService],
        job_id: Annotated[str, Parameter(max_length=64)],
    ) -> BacktestJob:
        return backtest_service.get(job_id)
