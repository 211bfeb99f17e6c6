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


async def test_the_pass_reads_the_account_once_for_the_positions_and_the_kill_switch(
    tmp_path: Path,
) -> None:
    c = make(tmp_path)
    await startup(c)
    try:
        agent = c.agent()
        reads = 0
        seen: list[tuple[str, int, object]] = []  # (who, reads so far, portfolio handed over)
        get_portfolio, remember, check = (
            agent.broker.get_portfolio,
            agent.seen.remember,
            agent.guard.check,
        )

        async def counted() -> Any:
            nonlocal reads
            reads += 1
            return await get_portfolio()

        async def remembering(*args: Any) -> Any:
            seen.append(("remember", reads, args[0] if args else None))
            return await remember(*args)

        async def checking(*args: Any) -> Any:
            seen.append(("check", reads, args[0] if args else None))
            return await check(*args)

        agent.broker.get_portfolio = counted
        agent.seen.remember = remembering  # type: ignore[method-assign]
        agent.guard.check = checking  # type: ignore[method-assign]
        await agent.run(cycles=3, interval=0)
        ends = [s for s in seen if s[2] is not None]  # the end of each pass
        assert [who for who, _, _ in ends] == ["remember", "check"] * 3
        for (_, _, account), (_, _, checked) in zip(ends[::2], ends[1::2], strict=True):
            assert checked is account, "the kill switch read the account again"
        # per pass: the read handed to both, and once a day the daily summary's own
        assert [
            after - before
            for (_, before, _), (_, after, _) in zip(ends[::2], ends[1::2], strict=True)
        ][1:] == [0, 0]
    finally:
        await shutdown(c)
