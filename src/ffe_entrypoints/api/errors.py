"""Domain errors -> HTTP responses, in one place. Bad input is never a 500."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.openapi import ResponseSpec
from pydantic import BaseModel, ConfigDict

from ffe_core.domain.errors import (
    AuthenticationFailed,
    BrokerError,
    BrokerUnavailable,
    ConfigError,
    ConflictError,
    FfeError,
    InvalidOrder,
    InvalidTransition,
    MarketDataError,
    NotFoundError,
    RateLimited,
    RiskRejected,
    ValidationFailed,
)
from ffe_entrypoints.logging import scrub

log = logging.getLogger("ffe.api")

STATUS_BY_ERROR: tuple[tuple[type[FfeError], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidTransition, 409),
    (ValidationFailed, 400),
    (InvalidOrder, 400),
    (RiskRejected, 422),
    (RateLimited, 429),
    (AuthenticationFailed, 502),
    (BrokerUnavailable, 503),
    (MarketDataError, 503),
    (BrokerError, 502),
    (ConfigError, 500),
)


class ErrorBody(BaseModel):
    """The body of every error answer: domain errors, Litestar's HTTP errors (401, 429, bad
    input) and unexpected failures alike."""

    model_config = ConfigDict(defer_build=True)

    status_code: int
    detail: str
    extra: dict[str, Any] | list[Any] | None = None
    """Litestar's details, e.g. ``[{"message", "key", "source"}]`` for an invalid field."""


ERROR_DESCRIPTIONS = {
    400: "Malformed or invalid input (the field is named in detail or extra)",
    401: "Missing or invalid X-API-Key (when an API key is configured)",
    404: "Unknown id or instrument",
    409: "Conflict with the current state (see detail)",
    422: "Refused by the risk rules",
    429: "Rate limited (see the RateLimit-* headers)",
    502: "The broker answered with an error",
    503: "An upstream (broker, market data) is unavailable",
}
PROTECTED_ERRORS = (401, 429)
"""What every route behind the API key can answer (it is also rate limited)."""


def error_responses(*codes: int, protected: bool = True) -> dict[int, ResponseSpec]:
    """OpenAPI responses for ``codes`` (plus 401 and 429 on protected routes), all ``ErrorBody``."""
    wanted = sorted({*codes, *(PROTECTED_ERRORS if protected else ())})
    return {
        code: ResponseSpec(
            data_container=ErrorBody, description=ERROR_DESCRIPTIONS[code], generate_examples=False
        )
        for code in wanted
    }


def status_for(exc: FfeError) -> int:
    return next((code for kind, code in STATUS_BY_ERROR if isinstance(exc, kind)), 500)


def domain_error_handler(request: Request[Any, Any, Any], exc: FfeError) -> Response[Any]:
    code = status_for(exc)
    if code >= 500:
        log.warning("request %s %s failed: %s", request.method, request.url.path, exc)
    return Response({"status_code": code, "detail": scrub(str(exc))}, status_code=code)


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    body: dict[str, Any] = {"status_code": exc.status_code, "detail": exc.detail}
    if exc.extra:
        body["extra"] = exc.extra
    return Response(body, status_code=exc.status_code, headers=exc.headers)


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return Response(
        {"status_code": 500, "detail": f"internal error ({type(exc).__name__})"}, status_code=500
    )
