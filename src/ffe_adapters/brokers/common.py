"""What every venue broker shares: blocking SDK calls off the event loop, and idempotent submit.

Venue SDKs (coinbase-advanced-py, oandapyV20) block and never retry, so each call runs in a
worker thread under a hard deadline, and submission follows one rule: ask the venue by client
order id before (re)sending, so a timeout or a crash can never place an order twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

from ffe_adapters.resilience import call_with_retry
from ffe_core.domain.errors import BrokerUnavailable, RateLimited
from ffe_core.domain.orders import Order

T = TypeVar("T")


async def run_blocking(fn: Callable[[], T], *, deadline: float, venue: str) -> T:
    """Run a blocking SDK call in a thread; past ``deadline`` seconds the call is abandoned."""
    try:
        with anyio.fail_after(deadline):
            return await anyio.to_thread.run_sync(fn, abandon_on_cancel=True)
    except TimeoutError as exc:
        raise BrokerUnavailable(f"{venue}: no answer within {deadline:g}s") from exc


async def read_with_retry(fn: Callable[[], Awaitable[T]], *, attempts: int, max_wait: float) -> T:
    """A read-only venue call, retried on 5xx / timeouts / 429 (honouring Retry-After)."""
    return await call_with_retry(
        fn, attempts=attempts, max_wait=max_wait, retry_on=(BrokerUnavailable, RateLimited)
    )


async def submit_idempotently(
    *,
    lookup: Callable[[], Awaitable[Order | None]],
    create: Callable[[], Awaitable[Order]],
    attempts: int,
    backoff: float,
) -> Order:
    """Look the order up by client id; create it only if the venue has never seen it.

    After an unknown outcome (timeout, 5xx) the venue is asked again before any resend; a 429
    means the request was refused, so it is resent after the advised wait.
    """
    found = await lookup()
    if found is not None:
        return found
    error: Exception | None = None
    for attempt in range(max(attempts, 1)):
        if error is not None:
            delay = error.retry_after if isinstance(error, RateLimited) else None
            await anyio.sleep(backoff * 2**attempt if delay is None else delay)
        try:
            return await create()
        except RateLimited as exc:
            error = exc
        except BrokerUnavailable as exc:
            error = exc
            found = await lookup()
            if found is not None:
                return found
    assert error is not None
    raise error
