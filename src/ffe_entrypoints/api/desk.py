"""The desk: cancel a working order, flatten one position or all of them.

Each action goes through the control plane to the one execution gate (never to the broker
directly) and is audited with the caller. Like the agent's routes, their rate-limit budgets stay
in process memory (``CONTROL_OPT``), so a dead Redis cannot keep an operator from flattening.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import Parameter
from pydantic import BaseModel, ConfigDict

from ffe_core.domain.orders import Order
from ffe_core.ports.control import ControlPlane, FlattenResult
from ffe_entrypoints.api.agent import who
from ffe_entrypoints.api.errors import error_responses
from ffe_entrypoints.api.ratelimit import CONTROL_OPT
from ffe_entrypoints.api.schemas import SYMBOL_PATTERN

OrderId = Annotated[str, Parameter(max_length=64)]
Symbol = Annotated[str, Parameter(pattern=SYMBOL_PATTERN)]


class FlattenList(BaseModel):
    model_config = ConfigDict(defer_build=True, allow_inf_nan=False)

    items: list[FlattenResult]


class DeskController(Controller):
    path = "/api/v1"
    tags = ["desk"]
    opt = {CONTROL_OPT: True}

    @post(
        "/orders/{client_order_id:str}/cancel",
        summary="Cancel a working order at its venue (404 unknown, 409 finished, with the reason)",
        status_code=200,
        responses=error_responses(400, 404, 409, 502),
    )
    async def cancel_order(
        self,
        control: NamedDependency[ControlPlane],
        request: Request,  # type: ignore[type-arg]
        client_order_id: OrderId,
    ) -> Order:
        return await control.cancel_order(client_order_id, who(request))

    @post(
        "/positions/flatten",
        summary="Flatten every open position (one result per position: sent, or why not)",
        status_code=200,
        responses=error_responses(409, 502, 503),
    )
    async def flatten_all(
        self,
        control: NamedDependency[ControlPlane],
        request: Request,  # type: ignore[type-arg]
    ) -> FlattenList:
        return FlattenList(items=await control.flatten_all(who(request)))

    @post(
        "/positions/{instrument:str}/flatten",
        summary="Flatten one position (404 none held, 409 with the gate's reason if not sent)",
        status_code=200,
        responses=error_responses(400, 404, 409, 502, 503),
    )
    async def flatten_position(
        self,
        control: NamedDependency[ControlPlane],
        request: Request,  # type: ignore[type-arg]
        instrument: Symbol,
    ) -> FlattenResult:
        return await control.flatten_position(instrument, who(request))
