"""API-key guard: constant-time comparison of ``X-API-Key`` when a key is configured."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler

API_KEY_HEADER = "X-API-Key"
PUBLIC_OPT = "public"


def api_key_guard(expected: str | None) -> Any:
    """A guard for every route; routes with ``opt={"public": True}`` are exempt."""
    expected_bytes = expected.encode() if expected else None

    def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if expected_bytes is None or handler.opt.get(PUBLIC_OPT):
            return
        given = connection.headers.get(API_KEY_HEADER, "")
        if not hmac.compare_digest(given.encode(), expected_bytes):
            raise NotAuthorizedException(detail="missing or invalid X-API-Key")

    return guard
