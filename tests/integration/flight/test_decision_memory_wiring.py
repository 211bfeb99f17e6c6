"""Through the container: the decision memory each prompt shows (a read model in the learning
service) includes at once every decision this process stores, by the agent's cycle (stored with
its journal entry) or by a direct decide."""

from __future__ import annotations

from pathlib import Path

from ffe_entrypoints.lifecycle import shutdown, startup
from tests.integration.flight.test_agent_budget_and_flight import make


async def test_decisions_this_process_stores_are_in_the_memory_at_once(tmp_path: Path) -> None:
    c = make(tmp_path)
    await startup(c)
    try:
        learning = c.learning()
        assert await learning.past_decisions("BTC-USD", 5) == []  # the read model is built
        await c.agent().run(cycles=1, interval=0)
        [by_agent] = c.agent().progress.last_decisions
        memory = await learning.past_decisions("BTC-USD", 5)
        assert [m.created_at for m in memory] == [by_agent.created_at]
        direct = await c.decision_service().decide("BTC-USD")
        memory = await learning.past_decisions("BTC-USD", 5)
        assert [m.created_at for m in memory] == [direct.created_at, by_agent.created_at]
    finally:
        await shutdown(c)
