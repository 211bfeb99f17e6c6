"""``within``: ``await`` under a deadline whose timer is armed only once the coroutine suspends."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from ffe_core.config import EnsembleSettings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.services.deadline import within
from ffe_core.services.ensemble import Ensemble
from tests.unit.ensemble.fakes import context as make_context

T = TypeVar("T")


class CountingLoop(asyncio.SelectorEventLoop):
    """Counts the timers scheduled on it; its clock can be moved forward by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.timers = 0
        self.skew = 0.0

    def call_at(self, when: float, callback: Any, *args: Any, context: Any = None) -> Any:
        self.timers += 1
        return super().call_at(when, callback, *args, context=context)

    def time(self) -> float:
        return super().time() + self.skew


def run(main: Callable[[], Awaitable[T]]) -> tuple[T, int]:
    """``main()``'s result on a fresh counting loop, and how many timers were scheduled."""
    with asyncio.Runner(loop_factory=CountingLoop) as runner:
        loop = runner.get_loop()
        assert isinstance(loop, CountingLoop)
        before = loop.timers

        async def wrapped() -> T:
            return await main()

        out = runner.run(wrapped())
        return out, loop.timers - before


async def at_once() -> str:
    return "answered"


def test_a_coroutine_that_never_suspends_arms_no_timer() -> None:
    assert run(lambda: within(at_once(), 5.0)) == ("answered", 0)

    # what asyncio.timeout costs: a timer per call
    async def timed() -> str:
        async with asyncio.timeout(5.0):
            return await at_once()

    assert run(timed) == ("answered", 1)


def test_a_coroutine_that_suspends_gets_what_the_loop_sends_and_is_held_to_the_deadline() -> None:
    async def suspends() -> int:
        loop = asyncio.get_running_loop()
        first: asyncio.Future[int] = loop.create_future()
        loop.call_soon(first.set_result, 41)
        value = await first
        await asyncio.sleep(0)  # a bare yield to the loop passes through too
        return value + 1

    assert run(lambda: within(suspends(), 5.0)) == (42, 1)


def test_the_deadline_cancels_a_suspended_coroutine_which_sees_the_cancellation() -> None:
    seen: list[str] = []

    async def waits_forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    async def main() -> None:
        with pytest.raises(TimeoutError):
            await within(waits_forever(), 0.01)

    run(main)
    assert seen == ["cancelled"]


def test_the_deadline_counts_from_the_start_not_from_the_first_suspension() -> None:
    async def slow_then_waits() -> str:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, CountingLoop)
        loop.skew += 10.0  # ten seconds pass before the first await
        await asyncio.Event().wait()
        return "never"

    async def main() -> bool:
        try:
            await within(slow_then_waits(), 5.0)
        except TimeoutError:
            return True
        return False

    assert run(main)[0]


def test_an_error_before_or_after_suspending_propagates_unchanged() -> None:
    async def fails_at_once() -> None:
        raise ValueError("at once")

    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise KeyError("later")

    async def main() -> list[str]:
        caught = []
        for coro in (fails_at_once(), fails_later()):
            try:
                await within(coro, 5.0)
            except (ValueError, KeyError) as exc:
                caught.append(type(exc).__name__)
        return caught

    assert run(main)[0] == ["ValueError", "KeyError"]


class Instant:
    """An awaiting provider that never suspends (as one answered from an in-process cache)."""

    name = "instant"

    async def vote(self, context: DecisionContext) -> ProviderVote:
        return ProviderVote(provider=self.name, action=Action.BUY, confidence=0.7)


def test_the_ensemble_asks_a_provider_that_answers_at_once_without_a_timer() -> None:
    ensemble = Ensemble({"instant": Instant()}, EnsembleSettings(quorum=1))
    decision, timers = run(lambda: ensemble.decide(make_context()))
    assert decision.action is Action.BUY and not decision.votes[0].abstained
    assert timers == 0
