"""Capabilities an adapter may declare beyond its port, as runtime-checkable Protocols.

The container and the services ask ``isinstance(adapter, Capability)``, never ``getattr``: a
plugin author finds here everything ffe will notice about an adapter (and
``ffe_adapters.hookspecs`` names which capability fits which hook).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from ffe_core.services.circuit import CircuitBreaker


@runtime_checkable
class Closable(Protocol):
    """Holds a connection, client or worker pool: closed once when the process shuts down."""

    async def close(self) -> None: ...


@runtime_checkable
class Pingable(Protocol):
    """Can be asked whether its server answers (``/health`` reports it; raises when not)."""

    async def ping(self) -> None: ...


@runtime_checkable
class Verifiable(Protocol):
    """Checks its credentials with its upstream once at start-up (Telegram's getMe): raises
    ConfigError naming the key when they are refused; an unreachable upstream is not an error."""

    async def verify(self) -> None: ...


@runtime_checkable
class WithCircuit(Protocol):
    """Calls its upstream through a circuit breaker whose state ``/health`` and the API show."""

    circuit: CircuitBreaker


@runtime_checkable
class CachePolicy(Protocol):
    """A market-data source saying whether its answers may be cached (``False``: a local source
    read directly; a source that does not declare this is cached)."""

    cacheable: bool


@runtime_checkable
class WebhookHandler(Protocol):
    """Answers a webhook request: ``(headers, body) -> (status, response body)``."""

    async def handle(
        self, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]: ...


@runtime_checkable
class InboundChannel(Protocol):
    """Hears from a person (commands, approvals) and acts through the control plane.

    ``webhook`` is the handler the API mounts at ``/api/v1/<name>/webhook`` (None when the
    channel polls); :meth:`start` begins polling or registers the webhook; :meth:`close` stops.
    """

    name: str
    webhook: WebhookHandler | None

    async def start(self) -> None: ...

    async def close(self) -> None: ...
