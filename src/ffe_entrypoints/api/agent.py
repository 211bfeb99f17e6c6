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


def _command(path: str, summary: str, *codes: int) -> post:
    """A control command's route: a POST answering 200 with the agent's status; ``codes`` are
    the errors it can answer besides the protected routes' own."""
    return post(path, summary=summary, status_code=200, responses=error_responses(*codes))


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

    @_command("/start", "Start the agent (409 if running)", 409)
    async def start(self, control: NamedDependency[ControlPlane], request: Request) -> AgentStatus:  # type: ignore[type-arg]
        return await control.start_agent(who(request))

    @_command("/stop", "Stop the agent after its current cycle")
    async def stop(self, control: NamedDependency[ControlPlane], request: Request) -> AgentStatus:  # type: ignore[type-arg]
        return await control.stop_agent(who(request))

    @_command("/pause", "Pause between cycles (409 if not running)", 409)
    async def pause(self, control: NamedDependency[ControlPlane], request: Request) -> AgentStatus:  # type: ignore[type-arg]
        return await control.pause_agent(who(request))

    @_command("/resume", "Resume a paused agent (409 if not running)", 409)
    async def resume(self, control: NamedDependency[ControlPlane], request: Request) -> AgentStatus:  # type: ignore[type-arg]
        return await control.resume_agent(who(request))

    @_command(
        "/kill-switch/reset",
        "Re-allow trading after the drawdown kill switch fired (recorded, who and when)",
    )
    async def reset_kill_switch(
        self,
        control: NamedDependency[ControlPlane],
        request: Request,  # type: ignore[type-arg]
    ) -> AgentStatus:
        return await control.reset_kill_switch(who(request))
