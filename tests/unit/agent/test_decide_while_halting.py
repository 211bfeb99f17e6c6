"""A decision that fails in the same moment the agent halts: the halt wins, the failure is
logged, and no task is left with an exception nobody retrieved."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any, cast

import pytest

from ffe_core.services.agent_cycle import (
    STOPPED_WHILE_DECIDING,
    CycleRunner,
    StoppedWhileDeciding,
)


class FailingDecisions:
    async def decide(self, symbol: str, persist: bool = True) -> Any:
        raise RuntimeError(f"provider broke on {symbol}")


async def halted_at_once() -> None:
    return None


async def test_a_failure_finishing_with_the_halt_is_logged_not_left_unretrieved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unused = cast(Any, None)
    runner = CycleRunner(
        cast(Any, FailingDecisions()),
        *(unused,) * 8,
        uptime=lambda: 0.0,
        halted=halted_at_once,
        stopping=lambda: True,
    )
    unretrieved: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: unretrieved.append(context))
    try:
        with (
            caplog.at_level(logging.WARNING, "ffe_core.services.agent_cycle"),
            pytest.raises(StoppedWhileDeciding, match=STOPPED_WHILE_DECIDING),
        ):
            await runner.decide("BTC-USD")
        gc.collect()  # an unretrieved task exception is reported when the task is collected
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert unretrieved == []
    assert "provider broke on BTC-USD" in caplog.text
