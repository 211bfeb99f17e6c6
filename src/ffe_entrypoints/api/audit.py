"""The cost ledger (spend against budget, value for money), the decision flight recorder
(a decision's trail from input to fills, and its offline replay) and live / backtest parity."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter

from ffe_core.config import Settings
from ffe_core.domain.costs import ProviderValue, SpendReport
from ffe_core.domain.flight import DecisionTrail, ReplayReport
from ffe_core.domain.parity import ParityReport
from ffe_core.ports.providers import DecisionProvider, WeightSource
from ffe_core.scrubbing import scrub_model
from ffe_core.services.costs import CostLedger
from ffe_core.services.flight import FlightRecorder
from ffe_core.services.parity import ParityService
from ffe_entrypoints.api.errors import error_responses
from ffe_entrypoints.logging import scrub

DecisionIdParam = Annotated[str, Parameter(max_length=64)]


class CostController(Controller):
    path = "/api/v1/costs"
    tags = ["costs"]

    @get(
        "/",
        summary="Today's and this month's spend against every budget",
        responses=error_responses(),
    )
    async def spend(self, cost_ledger: NamedDependency[CostLedger]) -> SpendReport:
        return await cost_ledger.report()

    @get(
        "/value",
        summary="Value for money per provider: Brier improvement and trade P&L per dollar",
        responses=error_responses(400),
    )
    async def value(
        self,
        cost_ledger: NamedDependency[CostLedger],
        settings: NamedDependency[Settings],
        window_days: Annotated[int | None, Parameter(ge=1, le=3660)] = None,
    ) -> list[ProviderValue]:
        return await cost_ledger.value(settings.learning.learning_horizon, window_days)


class FlightController(Controller):
    path = "/api/v1/decisions"
    tags = ["decisions"]

    @get(
        "/{decision_id:str}/trail",
        summary="A decision's trail: input snapshot, prompts, votes, risk, gate, orders, fills",
        responses=error_responses(400, 404),
    )
    async def trail(
        self, flight_recorder: NamedDependency[FlightRecorder], decision_id: DecisionIdParam
    ) -> DecisionTrail:
        return scrub_model(await flight_recorder.trail(decision_id), scrub)

    @get(
        "/{decision_id:str}/replay",
        summary="Re-run a decision offline from its snapshot and stored votes; what changed",
        responses=error_responses(400, 404),
    )
    async def replay(
        self,
        flight_recorder: NamedDependency[FlightRecorder],
        weights: NamedDependency[WeightSource],
        decision_providers: NamedDependency[dict[str, DecisionProvider]],
        decision_id: DecisionIdParam,
    ) -> ReplayReport:
        return await flight_recorder.replay(decision_id, weights, decision_providers)


class ParityController(Controller):
    path = "/api/v1/parity"
    tags = ["parity"]

    @get(
        "/",
        summary="A day's live / backtest parity: venue fills against the fill model",
        responses=error_responses(400),
    )
    async def parity(
        self, parity: NamedDependency[ParityService], day: FromQuery[date | None] = None
    ) -> ParityReport:
        return await parity.report(day)
