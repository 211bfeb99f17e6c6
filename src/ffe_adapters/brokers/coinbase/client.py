"""The one place Coinbase SDK calls run: in a thread, with venue errors made typed."""

from __future__ import annotations

import json
from multiprocessing import AuthenticationError
from typing import Any

import requests
from coinbase.rest import RESTClient

from ffe_adapters.brokers.common import run_blocking
from ffe_adapters.resilience import parse_retry_after
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

_CLOSED_MARKERS = ("DISABLED", "CANCEL_ONLY", "LIMIT_ONLY", "POST_ONLY", "HALT", "UNTRADABLE")
ORDER_CALLS = frozenset({"create_order"})
"""SDK calls whose 4xx answer is the venue rejecting an order; any other call's 4xx says which
call failed (a candle or lookup request is not an order)."""


def classify(code: str, message: str) -> BrokerError:
    """A Coinbase error code / failure reason as a typed domain error."""
    upper = code.upper()
    text = f"coinbase rejected the order: {code or 'error'}: {message}".rstrip(": ")
    if "INSUFFICIENT_FUND" in upper or "INSUFFICIENT_LEDGER_BALANCE" in upper:
        return InsufficientFunds(text)
    if any(marker in upper for marker in _CLOSED_MARKERS):
        return MarketClosed(text)
    return InvalidOrder(text)


def map_http_error(response: requests.Response, method: str) -> Exception:
    """An HTTP error answer to SDK call ``method`` as a typed domain error with the venue's own
    message."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code = str(body.get("error") or "")
    message = str(body.get("message") or body.get("error_details") or response.text[:200])
    if status in (401, 403):
        return AuthenticationFailed(f"coinbase refused the API key ({status}): {message}")
    if status == 429:
        return RateLimited(
            f"coinbase rate limit (429): {message}", parse_retry_after(dict(response.headers))
        )
    if status >= 500:
        return BrokerUnavailable(f"coinbase unavailable ({status}): {message}")
    if status == 404:
        return NotFoundError(f"coinbase: not found: {message}")
    if method in ORDER_CALLS:
        return classify(code, message)
    return BrokerError(f"coinbase {method} failed (HTTP {status}): {code or 'error'}: {message}")


class CoinbaseClient:
    """Wraps ``RESTClient``: every method answers a plain dict or raises a domain error."""

    def __init__(self, rest: RESTClient, *, timeout: float) -> None:
        self._rest = rest
        self._timeout = timeout

    async def call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        fn = getattr(self._rest, method)

        def run() -> dict[str, Any]:
            answer = fn(**kwargs)
            return answer.to_dict() if hasattr(answer, "to_dict") else dict(answer)

        try:
            return await run_blocking(run, deadline=self._timeout + 1, venue="coinbase")
        except requests.HTTPError as exc:
            if exc.response is None:
                raise BrokerUnavailable(f"coinbase: {exc}") from exc
            raise map_http_error(exc.response, method) from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise BrokerUnavailable(f"coinbase: {type(exc).__name__}: {exc}") from exc
        except AuthenticationError as exc:
            raise AuthenticationFailed(f"coinbase: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise BrokerUnavailable(f"coinbase answered something that is not JSON: {exc}") from exc

    def close(self) -> None:
        self._rest.session.close()
