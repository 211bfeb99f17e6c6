"""Awaiting a coroutine under a deadline whose timer is armed only if the coroutine suspends.

``asyncio.timeout`` schedules a timer on entry and cancels it on exit (about 4 µs). A deadline
can only act where the awaited coroutine suspends: cancellation is delivered at an await that
yields to the event loop. A provider answering at once (a vote found in an in-process cache)
never does, so for it the timer can change nothing. :func:`within` runs the coroutine up to its
first suspension and arms the deadline - counted from the start - only then.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")


async def within(coro: Coroutine[Any, Any, T], seconds: float) -> T:
    """``await coro`` under ``asyncio.timeout(seconds)``: the same result, exception or
    :class:`TimeoutError`, without a timer when ``coro`` finishes without suspending."""
    deadline = asyncio.get_running_loop().time() + seconds
    try:
        yielded = coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    async with asyncio.timeout_at(deadline):
        return await _resumed(coro, yielded)


@types.coroutine
def _resumed(coro: Coroutine[Any, Any, T], yielded: Any) -> Generator[Any, Any, T]:
    """The rest of ``coro``, which already yielded ``yielded`` to the event loop: what the
    task sends or throws in is passed on, as ``await`` would, until it returns."""
    while True:
        try:
            sent = yield yielded
        except BaseException as exc:  # a cancellation (the deadline), or the task closing
            try:
                yielded = coro.throw(exc)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
        else:
            try:
                yielded = coro.send(sent)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
