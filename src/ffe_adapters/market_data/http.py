"""What every REST market-data source shares: options, the httpx client, and one guarded GET.

Each source package keeps its own wire format; this module only turns HTTP into JSON or a typed
error. 429 becomes :class:`RateLimited` (with ``Retry-After``), 408/5xx and transport failures are
retried through :func:`call_with_retry` and, if they persist, become :class:`MarketDataError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ffe_adapters.resilience import (
    RETRYABLE_STATUSES,
    TransientError,
    call_with_retry,
    parse_retry_after,
    per_minute_limiter,
)
from ffe_core.domain.errors import MarketDataError, RateLimited
from ffe_core.domain.market import Bar, Quote
from ffe_core.ports.clock import Clock, SystemClock

ErrorInspector = Callable[[int, Any], Exception | None]
"""Looks at (status, parsed body) and returns the error the provider meant, or None if fine."""


class HttpSourceOptions(BaseModel):
    """Options shared by the REST sources (``adapters.<name>.*``)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    base_url: str
    api_key: SecretStr | None = None
    requests_per_minute: float = Field(default=5.0, gt=0)
    timeout_seconds: float = Field(default=10.0, gt=0)
    retry_attempts: int = Field(default=3, ge=1, le=10)
    retry_max_wait_seconds: float = Field(default=30.0, ge=0)
    symbols: dict[str, str] = Field(default_factory=dict)
    """Overrides of the source's symbol for an ffe symbol (``{"BTC-USD": "bitcoin"}``)."""


class JsonHttp:
    """An ``httpx.AsyncClient`` on ``base_url`` with the source's quota and retry policy."""

    def __init__(
        self,
        source: str,
        options: HttpSourceOptions,
        *,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.source = source
        self.options = options
        self.limiter = per_minute_limiter(options.requests_per_minute)
        self.client = httpx.AsyncClient(
            base_url=options.base_url,
            timeout=options.timeout_seconds,
            headers=dict(headers or {}),
            transport=transport,
        )

    async def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        inspect: ErrorInspector | None = None,
    ) -> Any:
        """GET ``path`` and return its JSON, retrying what is transient; errors are typed."""

        async def once() -> Any:
            try:
                response = await self.client.get(path, params=dict(params or {}))
            except httpx.TimeoutException as exc:
                raise TransientError(f"{self.source}: timed out ({type(exc).__name__})") from exc
            except httpx.TransportError as exc:
                raise TransientError(f"{self.source}: transport error: {exc}") from exc
            return self._interpret(response, inspect)

        try:
            return await call_with_retry(
                once,
                attempts=self.options.retry_attempts,
                max_wait=self.options.retry_max_wait_seconds,
                limiter=self.limiter,
            )
        except TransientError as exc:
            raise MarketDataError(str(exc)) from exc

    def _interpret(self, response: httpx.Response, inspect: ErrorInspector | None) -> Any:
        status = response.status_code
        try:
            body: Any = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if inspect is not None:
            error = inspect(status, body)
            if error is not None:
                raise error
        if status == 429:
            raise RateLimited(
                f"{self.source}: rate limited (HTTP 429){_detail(body)}",
                retry_after=parse_retry_after(response.headers),
            )
        if status in RETRYABLE_STATUSES:
            raise TransientError(
                f"{self.source}: HTTP {status}{_detail(body)}",
                retry_after=parse_retry_after(response.headers),
            )
        if status in (401, 403):
            raise MarketDataError(
                f"{self.source}: credentials refused (HTTP {status}){_detail(body)}"
            )
        if status >= 400:
            raise MarketDataError(f"{self.source}: HTTP {status}{_detail(body)}")
        if body is None:
            raise MarketDataError(f"{self.source}: response is not JSON (HTTP {status})")
        return body

    async def close(self) -> None:
        await self.client.aclose()


def _detail(body: Any) -> str:
    """The provider's own message from an error body, if it has one we recognise."""
    if isinstance(body, dict):
        for key in ("message", "error", "error_message", "Error Message", "Note", "Information"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return f": {value[:200]}"
        status = body.get("status")
        if isinstance(status, dict):
            return _detail(status)
    return ""


def as_float(value: Any, what: str) -> float:
    """A number from a provider field (often sent as a string); malformed -> MarketDataError."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise MarketDataError(f"{what}: not a number: {_short(value)}") from None
    return number


def _short(value: Any) -> str:
    """``repr(value)``, cut so a huge field cannot flood an error message."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def make_bar(
    where: str,
    ts: datetime,
    open_: Any,
    high: Any,
    low: Any,
    close: Any,
    volume: Any = 0.0,
) -> Bar:
    """A validated Bar from provider fields; a bad row becomes MarketDataError naming ``where``."""
    values = [
        as_float(v, f"{where} {name}")
        for v, name in (
            (open_, "open"),
            (high, "high"),
            (low, "low"),
            (close, "close"),
        )
    ]
    vol = 0.0 if volume in (None, "") else as_float(volume, f"{where} volume")
    try:
        return Bar(
            ts=ts, open=values[0], high=values[1], low=values[2], close=values[3], volume=vol
        )
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or "bar"
        raise MarketDataError(f"{where}: {field}: {first['msg']}") from None


def last_closed(
    bars: list[Bar], now: datetime, interval_secs: int, *, limit: int, end: datetime | None
) -> list[Bar]:
    """What ``get_bars`` answers from a provider's ascending ``bars``: the last ``limit`` that
    had closed by ``now`` (providers often include the one still forming), none after ``end``."""
    step = timedelta(seconds=interval_secs)
    bars = [b for b in bars if b.ts + step <= now]
    if end is not None:
        bars = [b for b in bars if b.ts <= end]
    return bars[-limit:]


def from_epoch(value: Any, where: str, *, unit: float = 1.0) -> datetime:
    """UTC datetime from an epoch number in seconds (``unit=1e3`` for ms, ``1e9`` for ns)."""
    number = as_float(value, where)
    try:
        return datetime.fromtimestamp(number / unit, UTC)
    except (OverflowError, OSError, ValueError):
        raise MarketDataError(f"{where}: timestamp out of range: {value!r}") from None


def make_quote(where: str, symbol: str, ts: datetime, bid: Any, ask: Any) -> Quote:
    """A validated Quote from provider fields; nonsense (crossed, zero) becomes MarketDataError."""
    b = as_float(bid, f"{where} bid")
    a = as_float(ask, f"{where} ask")
    try:
        return Quote(symbol=symbol, ts=ts, bid=Decimal(repr(b)), ask=Decimal(repr(a)))
    except (ValidationError, InvalidOperation) as exc:
        raise MarketDataError(f"{where}: unusable quote bid={bid!r} ask={ask!r}") from exc


def key_header(options: HttpSourceOptions, header: str, prefix: str = "") -> dict[str, str]:
    """``{header: prefix + api key}``, or no header when no key is set."""
    if options.api_key is None:
        return {}
    return {header: f"{prefix}{options.api_key.get_secret_value()}"}


def pick(mapping: Any, key: str, where: str) -> Any:
    """``mapping[key]`` or a MarketDataError saying which field of which response was missing."""
    if not isinstance(mapping, dict) or key not in mapping:
        raise MarketDataError(f"{where}: missing {key!r}")
    return mapping[key]


OptionsT = TypeVar("OptionsT", bound=HttpSourceOptions)


class RestSource(Generic[OptionsT]):
    """What every REST market-data source shares: its options, a clock, one ``JsonHttp`` client
    carrying the source's auth headers (``auth_headers``), and ``close()``."""

    name = "rest"
    cacheable = True

    def __init__(
        self,
        options: OptionsT,
        *,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.options = options
        self.clock: Clock = clock or SystemClock()
        self.http = JsonHttp(
            self.name, options, headers=self.auth_headers(options), transport=transport
        )

    def auth_headers(self, options: OptionsT) -> dict[str, str]:
        """Headers that authenticate requests (none by default: some sources use a param)."""
        return {}

    async def close(self) -> None:
        await self.http.close()
