"""The wire between the API process and the agent process: one JSON line each way per call over
a Unix socket in a directory only this user can enter.

The agent process serves :func:`serve_link` over its ``ControlService``; the API process asks
through :class:`AgentLink`. Domain errors cross the wire by name and are raised again on the API
side (a refused start is a 409 whichever process refused it).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY

from ffe_core.domain.errors import (
    BrokerError,
    BrokerUnavailable,
    ConflictError,
    FfeError,
    InvalidTransition,
    MarketDataError,
    NotFoundError,
    ValidationFailed,
)
from ffe_core.ports.live_gate import LiveGateRefused
from ffe_core.services.control import ControlService
from ffe_entrypoints.services.metrics_merge import families_data

log = logging.getLogger(__name__)

RAISED_AGAIN: dict[str, type[FfeError]] = {
    e.__name__: e
    for e in (
        ConflictError,
        LiveGateRefused,
        NotFoundError,
        InvalidTransition,
        ValidationFailed,
        BrokerError,
        BrokerUnavailable,
        MarketDataError,
    )
}


def wire_name(exc: FfeError) -> str:
    """The error's name on the wire: the nearest class the API process raises again (a
    subclass it does not know, e.g. StaleLeader, crosses as its ConflictError, never as a
    bare FfeError that the API would answer with 500)."""
    for cls in type(exc).__mro__:
        if cls.__name__ in RAISED_AGAIN:
            return cls.__name__
    return type(exc).__name__


LINE_LIMIT = 4 * 1024 * 1024  # a metrics exposition fits


class AgentUnreachable(FfeError):
    """The agent process did not answer (it died, or has not started)."""


Handler = Callable[[dict[str, Any]], Awaitable[Any]]


def handlers(control: ControlService) -> dict[str, Handler]:
    """What the API process may ask of the agent process, by operation name."""

    async def status(a: dict[str, Any]) -> Any:
        return (await control.agent_status(refresh=False)).model_dump(mode="json")

    async def standby(a: dict[str, Any]) -> Any:
        control.start_standby(a["by"], float(a["retry_seconds"]))
        return await status(a)

    async def resolve(a: dict[str, Any]) -> Any:
        size = Decimal(a["size"]) if a.get("size") is not None else None
        approval = await control.resolve_approval(
            a["approval_id"], bool(a["approve"]), a["by"], size
        )
        return approval.model_dump(mode="json")

    def lifecycle(method: Callable[[str], Awaitable[Any]]) -> Handler:
        async def call(a: dict[str, Any]) -> Any:
            return (await method(a["by"])).model_dump(mode="json")

        return call

    async def cancel(a: dict[str, Any]) -> Any:
        return (await control.cancel_order(a["client_order_id"], a["by"])).model_dump(mode="json")

    async def flatten(a: dict[str, Any]) -> Any:
        return (await control.flatten_position(a["instrument"], a["by"])).model_dump(mode="json")

    async def flatten_all(a: dict[str, Any]) -> Any:
        return [r.model_dump(mode="json") for r in await control.flatten_all(a["by"])]

    async def metrics(a: dict[str, Any]) -> Any:
        return families_data(REGISTRY.collect())  # ffe_*: the API's process_* are the server's

    return {
        "status": status,
        "start": lifecycle(control.start_agent),
        "stop": lifecycle(control.stop_agent),
        "pause": lifecycle(control.pause_agent),
        "resume": lifecycle(control.resume_agent),
        "reset_kill_switch": lifecycle(control.reset_kill_switch),
        "standby": standby,
        "resolve_approval": resolve,
        "cancel_order": cancel,
        "flatten_position": flatten,
        "flatten_all": flatten_all,
        "metrics": metrics,
    }


async def serve_link(control: ControlService, path: Path) -> asyncio.AbstractServer:
    """Answer the API process on ``path`` (each connection: one request line, one answer line)."""
    table = handlers(control)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = json.loads(await reader.readline())
            try:
                reply: dict[str, Any] = {"ok": await table[request["op"]](request)}
            except FfeError as exc:
                reply = {"error": wire_name(exc), "detail": str(exc)}
            except Exception as exc:  # reported to the caller, never kills the agent process
                log.exception("agent link: %s failed", request.get("op"))
                reply = {"error": type(exc).__name__, "detail": str(exc)}
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        finally:
            writer.close()

    return await asyncio.start_unix_server(answer, path=str(path), limit=LINE_LIMIT)


class AgentLink:
    """The API side of the wire: ``await link.call("stop", by="api:…")``."""

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        self.path = path
        self.timeout = timeout

    async def call(self, op: str, **args: Any) -> Any:
        """The operation's answer; a domain error raised there is raised here; AgentUnreachable
        when nothing answers on the socket within the timeout."""
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_unix_connection(
                    str(self.path), limit=LINE_LIMIT
                )
                try:
                    writer.write(json.dumps({"op": op, **args}).encode() + b"\n")
                    await writer.drain()
                    line = await reader.readline()
                finally:
                    writer.close()
        except (OSError, TimeoutError) as exc:
            raise AgentUnreachable(
                f"the agent process did not answer ({type(exc).__name__})"
            ) from exc
        if not line:
            raise AgentUnreachable("the agent process closed the connection without answering")
        reply = json.loads(line)
        if "error" in reply:
            raise RAISED_AGAIN.get(reply["error"], FfeError)(reply["detail"])
        return reply["ok"]
