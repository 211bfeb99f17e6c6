"""The suite's one way to wait for something to happen: poll the condition, never the clock.

A test that sleeps a fixed time and then asserts bets that the machine was fast enough; on a
loaded machine (two shared cores, another test run beside this one) the bet is lost now and then.
These helpers instead call ``probe`` until it returns something truthy and return that value.
``within`` only bounds how long a *failing* test takes to fail; it is deliberately generous, so
it never decides whether a correct behaviour passes.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

TIMEOUT = 60.0
"""Seconds before giving up: far above any wait the code under test should need, even loaded."""
INTERVAL = 0.05


async def wait_until(
    probe: Callable[[], T | Awaitable[T]],
    what: str = "the condition",
    within: float = TIMEOUT,
    interval: float = INTERVAL,
) -> T:
    """Await (or call) ``probe`` until its result is truthy; return that result.

    Raises ``AssertionError`` naming ``what`` after ``within`` seconds.
    """
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(interval)


def wait_until_sync(
    probe: Callable[[], T],
    what: str = "the condition",
    within: float = TIMEOUT,
    interval: float = INTERVAL,
) -> T:
    """:func:`wait_until` for synchronous tests (subprocesses, threads, a sync browser)."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        time.sleep(interval)
