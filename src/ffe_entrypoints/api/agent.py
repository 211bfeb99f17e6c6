"""Agent control: status, start, stop, pause, resume, kill-switch reset."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency

from ffe_core.ports.control import AgentStatus, ControlPlane


def who(request: Request) -> str:  # type: ignore[type-arg]
    client = request.client.host if request.client else "unknown"
    return f"api:{client}"


class AgentController(Controller):
    path = "/api/bot"
    tags = ["agent"]

    @get("/status", summary="Agent state, uptime, current cycle, kill switch")
    async def status(self, control: NamedDependency[ControlPlane]) -> AgentStatus:
        return await control.agent_status()

    @post("/start", summary="Start the agent (409 if running)", status_code=200)
    async def start(self, control: NamedDependency[ControlPlane], request: Request) -> AgentStatus:  # type: ignore[type-arg]
        return await control.start_agent(who(request))

    @post("/stop", summary="Stop the agent after its current cycle", status_code=200)
    async def stop(self, control: NamedDependency[ControlPlane], request: Request) -> AgentStatus:  # type: ignore[type-arg]
        return await control.stop_agent(who(request))

    @post("/pause", summary="Pause between cycles", status_code=200)
    async def pause(self, control: NamedDependency[ControlPlane], request: Request) -> AgentStatus:  # type: ignore[type-arg]
        return await control.pause_agent(who(request))

    @post("/resume", summary="Resume a paused agent", status_code=200)
    async def resume(self, control: NamedDependency[ControlPlane], request: Request) -> AgentStatus:  # type: ignore[type-arg]
        return await control.resume_agent(who(request))

    @post(
        "/kill-switch/reset",
        summary="Re-allow trading after the drawdown kill switch fired (recorded, who and when)",
        status_code=200,
    )
    async def reset_kill_switch(
        self,
        control: NamedDependency[ControlPlane],
        request: Request,  # type: ignore[type-arg]
    ) -> AgentStatus:
        return await control.reset_kill_switch(who(request))
