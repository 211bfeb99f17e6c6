"""The kill switch shared through storage: a reset made in one process reaches the others, and no
process's older view overwrites a trip or undoes a reset (two SharedRiskStates on one store are
two processes)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ffe_adapters.storage.memory import InMemoryStore
from ffe_core.config import RiskSettings
from ffe_core.ports.control import AUDIT_LOGGER
from ffe_core.services.kill_switch import SharedRiskState, merge_risk_states
from ffe_core.services.risk import (
    RESETS_KEPT,
    TRIPPED_BY,
    KillSwitch,
    KillSwitchReset,
    RiskManager,
    RiskState,
)

from .factories import HOUR, TS, D

KEY = "risk_manager"
SETTINGS = RiskSettings(max_drawdown=0.2)


def process(store: InMemoryStore) -> SharedRiskState:
    return SharedRiskState(RiskManager(SETTINGS), store, KEY)


def trip(shared: SharedRiskState, at: datetime = TS) -> None:
    shared.update_equity(D("100000"), TS - HOUR)
    assert shared.update_equity(D("70000"), at)


async def stored(store: InMemoryStore) -> RiskState:
    async with store() as uow:
        saved = await uow.state.get(KEY)
    assert saved is not None
    return RiskState.model_validate(saved)


async def test_a_reset_made_in_another_process_reaches_the_server() -> None:
    store = InMemoryStore()
    server, cli = process(store), process(store)
    trip(server)
    await server.save()
    await cli.load()

    record = await cli.reset("ops", TS + HOUR)

    assert record is not None and record.by == "ops" and record.tripped_at == TS
    assert server.kill_switch().tripped, "nothing reaches the server until it looks"
    seen = await server.refresh()
    assert not seen.tripped and seen.reset_by == "ops" and seen.reset_at == TS + HOUR
    assert server.manager.state.peak_equity == D("70000"), "drawdown measured afresh"
    assert server.drawdown() == 0
    assert not server.update_equity(D("69000"), TS + 2 * HOUR), "no instant re-trip"


async def test_a_stale_view_never_overwrites_a_stored_trip() -> None:
    store = InMemoryStore()
    server, cli = process(store), process(store)
    await cli.load()  # the CLI's view: nothing tripped
    trip(server)
    await server.save()

    await cli.save()  # the stale view written back

    assert (await stored(store)).kill_switch.tripped
    assert cli.kill_switch().tripped, "the writer adopted the trip it found"


async def test_the_old_trip_in_a_servers_memory_does_not_undo_a_reset() -> None:
    store = InMemoryStore()
    server, cli = process(store), process(store)
    trip(server)
    await server.save()
    await cli.load()
    await cli.reset("ops", TS + HOUR)

    await server.save()  # its memory still holds the trip: the next pass writes it back

    assert not (await stored(store)).kill_switch.tripped
    assert not server.kill_switch().tripped


async def test_a_reset_clears_only_the_trip_it_names() -> None:
    first = KillSwitch(tripped=True, reason="first", at=TS, tripped_by=TRIPPED_BY)
    second = KillSwitch(tripped=True, reason="second", at=TS + 2 * HOUR, tripped_by=TRIPPED_BY)
    reset_first = KillSwitchReset(by="ops", at=TS + HOUR, tripped_reason="first", tripped_at=TS)
    stored_view = RiskState(kill_switch=KillSwitch(reset_by="ops", reset_at=TS + HOUR))
    stored_view = stored_view.model_copy(update={"resets": (reset_first,)})
    mine = RiskState(kill_switch=second)

    merged = merge_risk_states(mine, stored_view)

    assert merged.kill_switch == second
    assert merged.resets == (reset_first,)
    assert merge_risk_states(stored_view, RiskState(kill_switch=first)).kill_switch.tripped is False


async def test_reset_resets_what_is_stored_not_what_this_process_last_saw() -> None:
    store = InMemoryStore()
    server, cli = process(store), process(store)
    await cli.load()  # loaded before the trip
    trip(server)
    await server.save()

    record = await cli.reset("ops", TS + HOUR)

    assert record is not None and record.tripped_reason == server.kill_switch().reason
    assert not (await stored(store)).kill_switch.tripped


async def test_reset_when_nothing_is_tripped_records_nothing() -> None:
    store = InMemoryStore()
    cli = process(store)
    assert await cli.reset("ops", TS) is None
    async with store() as uow:
        assert await uow.state.get(KEY) is None


async def test_every_reset_is_kept_with_the_state_and_audited(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)
    store = InMemoryStore()
    server = process(store)
    for n in range(RESETS_KEPT + 2):
        at = TS + timedelta(days=n)
        server.manager.state = RiskState()
        trip(server, at)
        await server.save()
        await server.reset(f"ops{n}", at + HOUR)

    resets = (await stored(store)).resets
    assert len(resets) == RESETS_KEPT
    assert resets[-1].by == f"ops{RESETS_KEPT + 1}"
    assert resets[-1].tripped_reason is not None and "drawdown 30.00%" in resets[-1].tripped_reason
    records = [r for r in caplog.records if r.name == AUDIT_LOGGER]
    assert len(records) == RESETS_KEPT + 2
    last = records[-1]
    assert last.action == "kill_switch_reset"  # type: ignore[attr-defined]
    assert last.by == f"ops{RESETS_KEPT + 1}"  # type: ignore[attr-defined]
    assert "drawdown 30.00%" in last.tripped_reason  # type: ignore[attr-defined]


views = st.builds(
    lambda tripped, reset: (tripped, reset),
    st.sampled_from([None, 0, 1]),  # which trip this view holds
    st.sets(st.sampled_from([0, 1])),  # which trips this view has seen reset
)


def _state(view: tuple[int | None, set[int]]) -> RiskState:
    held, reset = view
    trips = [KillSwitch(tripped=True, reason=f"t{i}", at=TS + i * HOUR) for i in (0, 1)]
    resets = tuple(
        KillSwitchReset(
            by="ops", at=TS + (i + 0.5) * HOUR, tripped_reason=f"t{i}", tripped_at=TS + i * HOUR
        )
        for i in sorted(reset)
    )
    ks = trips[held] if held is not None else KillSwitch()
    return RiskState(last_equity=D("1"), kill_switch=ks, resets=resets)


@given(views, views)
def test_merging_keeps_every_trip_nobody_reset(
    a: tuple[int | None, set[int]], b: tuple[int | None, set[int]]
) -> None:
    merged = merge_risk_states(_state(a), _state(b))
    unreset = {held for held, _ in (a, b) if held is not None} - (a[1] | b[1])
    assert merged.kill_switch.tripped == bool(unreset)
    assert merge_risk_states(_state(b), _state(a)).kill_switch == merged.kill_switch
    assert {r.tripped_reason for r in merged.resets} == {f"t{i}" for i in a[1] | b[1]}


async def test_saving_an_unchanged_state_writes_nothing_and_still_adopts_a_stored_trip() -> None:
    store = InMemoryStore()
    agent, other = process(store), process(store)
    agent.update_equity(D("100000"), TS)
    await agent.save()
    commits = store.commits
    await agent.save()  # the agent saves after every pass: nothing moved, nothing written
    assert store.commits == commits
    agent.update_equity(D("101000"), TS + HOUR)  # a new peak
    await agent.save()
    assert store.commits == commits + 1
    assert (await stored(store)).peak_equity == D("101000")
    await other.load()
    trip(other, TS + 2 * HOUR)
    await other.save()
    await agent.save()  # the trip stored by the other process is adopted, never overwritten
    assert agent.kill_switch().tripped and (await stored(store)).kill_switch.tripped
