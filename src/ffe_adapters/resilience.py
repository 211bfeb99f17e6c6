"""Shared outgoing-call hygiene for HTTP adapters: retry with backoff honouring Retry-After,
rate limits per service, and mapping of HTTP statuses to typed domain errors.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from ffe_core.domain.errors import RateLimited

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class TransientError(Exception):
    """A failure worth retrying (timeout, 5xx, 429); ``retry_after`` in seconds if the server said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), else None."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _wait(max_wait: float) -> Callable[[RetryCallState], float]:
    backoff = wait_exponential_jitter(initial=0.5, max=max_wait)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = exc.retry_after if isinstance(exc, TransientError | RateLimited) else None
        if after is not None:
            return float(min(after, max_wait))
        return float(backoff(state))

    return wait


async def call_with_retry(
    fn: Callable[[], Awaitable[T]],
    *,
    attempts: int = 3,
    max_wait: float = 30.0,
    limiter: AsyncLimiter | None = None,
    retry_on: tuple[type[BaseException], ...] = (TransientError, RateLimited),
) -> T:
    """Call ``fn`` under ``limiter``, retrying ``retry_on`` errors with jittered backoff.

    A server's ``retry_after`` (seconds) replaces the backoff for that attempt, capped at
    ``max_wait``. The last error propagates after ``attempts`` tries.
    """
    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=_wait(max_wait),
        retry=retry_if_exception(lambda e: isinstance(e, retry_on)),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            if limiter is not None:
                async with limiter:
                    return await fn()
            return await fn()
    raise AssertionError("unreachable")  # pragma: no cover


def per_minute_limiter(requests_per_minute: float) -> AsyncLimiter:
    """An outgoing quota of ``requests_per_minute``, smoothed over the minute."""
    return AsyncLimiter(max_rate=requests_per_minute, time_period=60.0)
