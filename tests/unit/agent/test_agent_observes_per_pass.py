"""The agent observes the venue once per pass over its instruments, not once per instrument,
and every cycle's decision is stored with its journal entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ffe_core.domain.agent import CyclePhase
from ffe_core.ports.storage import DecisionQuery
from ffe_entrypoints.lifecycle import shutdown, startup
from tests.unit.agent.test_agent_lifecycle import make

FOUR = '["BTC-USD", "ETH-USD", "EUR-USD", "AAPL"]'


async def test_one_observation_per_pass_of_four_instruments(tmp_path: Path) -> None:
    c = make(tmp_path, FFE_AGENT__INSTRUMENTS=FOUR)
    await startup(c)
    try:
        agent = c.agent()
        observed = 0
        observe = agent.broker.process_market

        async def counting() -> Any:
            nonlocal observed
            observed += 1
            return await observe()

        agent.broker.process_market = counting
        await agent.run(cycles=8, interval=0)
        assert observed == 2  # two passes of four cycles
        async with c.uow_factory()() as uow:
            cycles = await uow.agent.list_cycles()
            stored = {d.id for d in (await uow.decisions.list(DecisionQuery(limit=50)))[0]}
        assert len(cycles) == 8
        assert {cycle.phase for cycle in cycles} <= {CyclePhase.DONE, CyclePhase.FAILED}
        assert {cycle.decision_id for cycle in cycles} <= stored
        assert None not in {cycle.decision_id for cycle in cycles}
    finally:
        await shutdown(c)


async def test_a_single_cycle_still_observes_first(tmp_path: Path) -> None:
    c = make(tmp_path)
    await startup(c)
    try:
        agent = c.agent()
        observed = 0
        observe = agent.broker.process_market

        async def counting() -> Any:
            nonlocal observed
            observed += 1
            return await observe()

        agent.broker.process_market = counting
        agent.progress.run = await agent.acquire()  # as the control plane does before a loop
        cycle = await agent.cycle("BTC-USD")
        assert observed == 1
        assert cycle.decision_id is not None
    finally:
        await shutdown(c)


async def test_the_parity_gauge_is_measured_at_most_once_an_interval(tmp_path: Path) -> None:
    """Parity replays the day's flight records: measuring it after every pass made each pass
    slower as the day went on (it was 47 % of a benchmark run); it is measured on the first
    pass and then once per ``parity.gauge_every_seconds``."""
    c = make(tmp_path, FFE_PARITY__GAUGE_EVERY_SECONDS="3600")
    await startup(c)
    try:
        agent = c.agent()  # built first: its daily summary holds the report of its own
        parity = c.parity()
        measured = 0
        report = parity.report

        async def counting(*args: Any, **kwargs: Any) -> Any:
            nonlocal measured
            measured += 1
            return await report(*args, **kwargs)

        parity.report = counting  # type: ignore[method-assign]
        await agent.run(cycles=5, interval=0)  # five passes of one instrument
        assert measured == 1
    finally:
        await shutdown(c)
