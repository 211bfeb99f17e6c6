"""Domain errors -> HTTP responses, in one place. Bad input is never a 500."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException

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
