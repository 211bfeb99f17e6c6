"""Approvals: list, approve, reject. Only a pending approval can be resolved: anything else is a
409 naming its true state; an approval is sent through the execution gate once committed."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, Parameter

from ffe_core.domain.approvals import Approval, ApprovalStatus
from ffe_core.ports.control import ControlPlane
from ffe_core.services.approvals import ApprovalService
from ffe_entrypoints.api.agent import who
from ffe_entrypoints.api.schemas import ApprovalList, ResolveBody

ApprovalId = Annotated[str, Parameter(max_length=64)]


class ApprovalController(Controller):
    path = "/api/v1/approvals"
    tags = ["approvals"]

    @get("/", summary="List approvals")
    async def list_approvals(
        self,
        approval_service: NamedDependency[ApprovalService],
        status: FromQuery[ApprovalStatus | None] = None,
    ) -> ApprovalList:
        return ApprovalList(items=await approval_service.find(status))

    @post("/{approval_id:str}/approve", summary="Approve a pending decision", status_code=200)
    async def approve(
        self,
        control: NamedDependency[ControlPlane],
        request: Request,  # type: ignore[type-arg]
        approval_id: ApprovalId,
        data: JSONBody[ResolveBody | None] = None,
    ) -> Approval:
        by = (data.by if data and data.by else None) or who(request)
        return await control.resolve_approval(approval_id, True, by)

    @post("/{approval_id:str}/reject", summary="Reject a pending decision", status_code=200)
    async def reject(
        self,
        control: NamedDependency[ControlPlane],
        request: Request,  # type: ignore[type-arg]
        approval_id: ApprovalId,
        data: JSONBody[ResolveBody | None] = None,
    ) -> Approval:
        by = (data.by if data and data.by else None) or who(request)
        return await control.resolve_approval(approval_id, False, by)
