"""Approvals: list, approve, reject. Only a pending approval can be resolved: anything else is a
409 naming its true state; an approval is sent through the execution gate once committed."""

from __future__ import annotations

import contextlib
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, Parameter

from ffe_core.domain.approvals import Approval, ApprovalStatus
from ffe_core.domain.errors import FfeError
from ffe_core.ports.control import ControlPlane
from ffe_core.services.approvals import ApprovalService
from ffe_entrypoints.api.agent import who
from ffe_entrypoints.api.errors import error_responses
from ffe_entrypoints.api.schemas import ApprovalList, ApprovalView, ApproveBody, ResolveBody

ApprovalId = Annotated[str, Parameter(max_length=64)]


class ApprovalController(Controller):
    path = "/api/v1/approvals"
    tags = ["approvals"]

    @get("/", summary="List approvals", responses=error_responses(400))
    async def list_approvals(
        self,
        approval_service: NamedDependency[ApprovalService],
        control: NamedDependency[ControlPlane],
        status: FromQuery[ApprovalStatus | None] = None,
    ) -> ApprovalList:
        items = []
        for approval in await approval_service.find(status):
            size_now = None
            if approval.status is ApprovalStatus.PENDING:
                with contextlib.suppress(FfeError):  # no market data now: the size is unknown
                    size_now = await control.size_now(approval)
            items.append(ApprovalView(**approval.model_dump(), size_now=size_now))
        return ApprovalList(items=items)

    @post(
        "/{approval_id:str}/approve",
        summary="Approve a pending decision",
        status_code=200,
        responses=error_responses(400, 404, 409),
    )
    async def approve(
        self,
        control: NamedDependency[ControlPlane],
        request: Request,  # type: ignore[type-arg]
        approval_id: ApprovalId,
        data: JSONBody[ApproveBody | None] = None,
    ) -> Approval:
        by = (data.by if data and data.by else None) or who(request)
        size = data.size if data is not None else None
        return await control.resolve_approval(approval_id, True, by, size)

    @post(
        "/{approval_id:str}/reject",
        summary="Reject a pending decision",
        status_code=200,
        responses=error_responses(400, 404, 409),
    )
    async def reject(
        self,
        control: NamedDependency[ControlPlane],
        request: Request,  # type: ignore[type-arg]
        approval_id: ApprovalId,
        data: JSONBody[ResolveBody | None] = None,
    ) -> Approval:
        by = (data.by if data and data.by else None) or who(request)
        return await control.resolve_approval(approval_id, False, by)
