"""Agent control: status, start, stop, pause, resume, kill-switch reset.

These routes depend on the control plane alone: their rate-limit budgets stay in process memory
(``CONTROL_OPT``), so a dead or slow Redis, cache or market-data source cannot keep an operator
from stopping the agent.
"""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency

from ffe_core.ports.control import AgentStatus, ControlPlane
from ffe_entrypoints.api.errors import error_responses
from ffe_entrypoints.api.ratelimit import CONTROL_OPT


def who(request: Request) -> str:  # type: ignore[type-arg]
    """The audit name of the caller: its address as ``TrustedProxyMiddleware`` left it (the
    socket's peer unless that peer is a trusted proxy)."""
    client = request.client.host if request.client else "unknown"
    return f"api:{client}"


class AgentController(Controller):
    path = "/api/bot"
    tags = ["agent"]
    opt = {CONTROL_OPT: True}

    @get(
        "/status",
        summary="Agent state, uptime, current cycle, kill switch",
        responses=error_responses(),
    )
    async def status(self, control: NamedDependency[ControlPlane]) -> AgentStatus:
        return await control.agent_status()

    @post(
        "/start",
        summary="Start the agent (409 if running)",
        status_code=200,
        responses=error_responses(409),
    )
    async def start(self, control: NamedDependency[ControlPlane], request: Request) -> AgentStatus:  # type: ignore[type-arg]
        return await control.start_agent(who(request))

    @post(
        "/stop",
        summary="Stop the agent after its current cycle",
        status_code=200,
        responses=error_responses(),
    )
    async def stop(self, control: NamedDependency[ControlPlane], request: Request) -> AgentStatus:  # type: ignore[type-arg]
        return await control.stop_agent(who(request))

    @post(
        "/pause",
        summary="Pause between cycles (409 if not running)",
        status_code=200,
        responses=error_responses(409),
    )
    async def pause(self, control: NamedDependency[ControlPlane], request: Request) -> AgentStatus:  # type: ignore[type-arg]
        return await control.pause_agent(who(request))

    @post(
        "/resume",
        summary="Resume a paused agent (409 if not running)",
        status_code=200,
        responses=error_responses(409),
    )
    async def resume(self, control: NamedDependency[ControlPlane], request: Request) -> AgentStatus:  # type: ignore[type-arg]
        return await control.resume_agent(who(request))

    @post(
        "/kill-switch/reset",
        summary="Re-allow trading after the drawdown kill switch fired (recorded, who and when)",
        status_code=200,
        responses=error_responses(),
    )
    async def reset_kill_switch(
        self,
        control: NamedDependency[ControlPlane],
        request: Request,  # type: ignore[type-arg]
    ) -> AgentStatus:
        return await control.reset_kill_switch(who(request))
