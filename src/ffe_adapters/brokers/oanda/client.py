"""The one place oandapyV20 calls run: in a thread, with v20 errors made typed."""

from __future__ import annotations

import json
from typing import Any

import requests
from oandapyV20 import API
from oandapyV20.endpoints.apirequest import APIRequest
from oandapyV20.exceptions import V20Error

from ffe_adapters.brokers.common import run_blocking
from ffe_core.domain.errors import (
    AuthenticationFailed,
    BrokerError,
    BrokerUnavailable,
    InsufficientFunds,
    InvalidOrder,
    MarketClosed,
    NotFoundError,
    RateLimited,
)

_CLOSED = ("MARKET_HALTED", "INSTRUMENT_NOT_TRADEABLE", "ACCOUNT_NOT_ACTIVE", "ACCOUNT_LOCKED")
_FUNDS = ("INSUFFICIENT_MARGIN", "INSUFFICIENT_LIQUIDITY", "MARGIN")


def classify(reason: str, message: str) -> BrokerError:
    """An OANDA reject / cancel reason as a typed domain error."""
    text = f"oanda rejected the order: {reason or 'error'}: {message}".rstrip(": ")
    if reason in _CLOSED:
        return MarketClosed(text)
    if any(marker in reason for marker in _FUNDS):
        return InsufficientFunds(text)
    return InvalidOrder(text)


def map_v20_error(exc: V20Error) -> Exception:
    status = int(exc.code)
    try:
        body = json.loads(exc.msg)
    except (TypeError, ValueError):
        body = {}
    body = body if isinstance(body, dict) else {}
    message = str(body.get("errorMessage") or exc.msg)[:300]
    reject = body.get("orderRejectTransaction") or {}
    reason = str(reject.get("rejectReason") or body.get("errorCode") or "")
    if status in (401, 403):
        return AuthenticationFailed(f"oanda refused the access token ({status}): {message}")
    if status == 429:
        return RateLimited(f"oanda rate limit (429): {message}")
    if status >= 500:
        return BrokerUnavailable(f"oanda unavailable ({status}): {message}")
    if status == 404 and not reject:
        return NotFoundError(f"oanda: {reason or 'not found'}: {message}")
    return classify(reason, message)


class OandaClient:
    """Wraps ``oandapyV20.API``: ``request(endpoint)`` answers a dict or raises a domain error."""

    def __init__(self, api: API, *, account_id: str | None, timeout: float) -> None:
        self._api = api
        self.account_id = account_id
        self._timeout = timeout

    async def request(self, endpoint: APIRequest) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            return dict(self._api.request(endpoint))

        try:
            return await run_blocking(run, deadline=self._timeout + 1, venue="oanda")
        except V20Error as exc:
            raise map_v20_error(exc) from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise BrokerUnavailable(f"oanda: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self._api.close()
