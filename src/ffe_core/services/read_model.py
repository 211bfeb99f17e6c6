"""Read models: a value the API serves many times between the changes that alter it.

:class:`Refreshing` holds one such value and rebuilds it only when told that what it reads
changed in this process (:meth:`Refreshing.invalidate`) or when it is older than ``max_age``
seconds (changes made by another process on the same storage); a change this process can apply
itself is applied to the held value (:meth:`Refreshing.amend`). Readers of a stale value wait
for one shared rebuild instead of each running their own; a failed rebuild raises to its
callers and leaves the next read to try again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Refreshing(Generic[T]):
    """One value, rebuilt on change or age, never per read."""

    def __init__(
        self,
        build: Callable[[], Awaitable[T]],
        *,
        max_age: float = 1.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._build = build
        self._max_age = max_age
        self._now = now
        self._value: T | None = None
        self._built_at = float("-inf")
        self._version = 0
        self._built_version = -1
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """What the value reads changed: the next read rebuilds (a rebuild under way when
        this is called does not count as fresh)."""
        self._version += 1

    def amend(self, change: Callable[[T], T]) -> None:
        """What the value reads changed here in a way ``change`` applies to it: a current value
        is replaced by ``change(value)`` without a rebuild (its age still counts from the
        build, so other processes' changes are seen as before); any other is invalidated."""
        if self._fresh() is None or self._value is None:
            self.invalidate()
            return
        self._value = change(self._value)

    def _fresh(self) -> T | None:
        if self._built_version != self._version or self._now() - self._built_at >= self._max_age:
            return None
        return self._value

    async def get(self) -> T:
        """The value, rebuilt first if it changed or grew old."""
        value = self._fresh()
        if value is not None:
            return value
        async with self._lock:
            value = self._fresh()
            if value is None:
                version, started = self._version, self._now()
                value = await self._build()
                self._value, self._built_version, self._built_at = value, version, started
            return value
