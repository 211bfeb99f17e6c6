"""API-key guard: constant-time comparison of ``X-API-Key`` when a key is configured."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

API_KEY_HEADER = "X-API-Key"
PUBLIC_OPT = "public"


def api_key_guards(expected: str | None) -> list[Guard]:
    """The guards of the layers that need the key: none when no key is configured.

    The guard is a coroutine function (Litestar would send a plain function to a worker thread
    on every request) and is attached only to protected layers, so public routes run no guard
    at all; a handler with ``opt={"public": True}`` is exempt wherever it is mounted.
    """
    if not expected:
        return []
    expected_bytes = expected.encode()

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        if handler.opt.get(PUBLIC_OPT):
            return
        given = connection.headers.get(API_KEY_HEADER, "")
        if not hmac.compare_digest(given.encode(), expected_bytes):
            raise NotAuthorizedException(detail="missing or invalid X-API-Key")

    return [guard]
