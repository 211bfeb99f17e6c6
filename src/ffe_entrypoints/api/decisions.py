"""Decisions: create one now, list with filters and cursor pagination, fetch by id.

Stored decisions are scrubbed again as they are served: a row written before a secret was
known (or by an older version) must not hand it out. The list serves the stored JSON as it is
when the scrubber finds nothing to change in the page, and validates and scrubs it otherwise."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, MediaType, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, Parameter

from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.errors import NotFoundError, ValidationFailed
from ffe_core.ports.storage import DecisionQuery, UnitOfWorkFactory
from ffe_core.scrubbing import scrub_decision
from ffe_core.services.decisions import DecisionService
from ffe_entrypoints.api.errors import error_responses
from ffe_entrypoints.api.schemas import DecisionPage, DecisionRequest
from ffe_entrypoints.logging import scrub
from ffe_entrypoints.services.decision_feed import DecisionFeed


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValidationFailed(f"{name}: timestamp needs a timezone (e.g. 2026-01-01T00:00:00Z)")
    return value


class DecisionController(Controller):
    path = "/api/v1/decisions"
    tags = ["decisions"]

    @post(
        "/",
        summary="Make a decision now",
        status_code=201,
        responses=error_responses(400, 404, 503),
    )
    async def create(
        self, data: JSONBody[DecisionRequest], decision_service: NamedDependency[DecisionService]
    ) -> Decision:
        providers = data.providers
        if providers is not None and not all(isinstance(p, str) for p in providers):
            raise ValidationFailed("providers: must be a list of provider names")
        return await decision_service.decide(data.instrument, providers)

    @get("/", summary="List decisions, newest first", responses=error_responses(400))
    async def list_decisions(
        self,
        decision_feed: NamedDependency[DecisionFeed],
        instrument: Annotated[str | None, Parameter(max_length=32)] = None,
        action: FromQuery[Action | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Parameter(max_length=128)] = None,
    ) -> Response[DecisionPage]:
        query = DecisionQuery(
            instrument=instrument.upper() if instrument else None,
            action=action,
            since=_aware(since, "since"),
            until=_aware(until, "until"),
            limit=limit,
            cursor=cursor,
        )
        served: Response[Any] = Response(await decision_feed.page(query), media_type=MediaType.JSON)
        return served

    @get(
        "/{decision_id:str}",
        summary="One decision with its votes",
        responses=error_responses(400, 404),
    )
    async def get_decision(
        self,
        uow_factory: NamedDependency[UnitOfWorkFactory],
        decision_id: Annotated[str, Parameter(max_length=64)],
    ) -> Decision:
        async with uow_factory() as uow:
            decision = await uow.decisions.get(decision_id)
        if decision is None:
            raise NotFoundError(f"unknown decision {decision_id!r}")
        return scrub_decision(decision, scrub)
