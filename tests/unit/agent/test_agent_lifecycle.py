"""The agent's lifecycle on the real container (SQLite): one agent per storage, kill switch,
pause/resume, and approvals that are rejected or expire never trading."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers

from ffe_core.domain.agent import AgentState, CyclePhase
from ffe_core.domain.approvals import ApprovalStatus
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.domain.errors import ConflictError
from ffe_core.domain.orders import client_order_id_for
from ffe_core.services.agent_cycle import PAUSED_WHILE_DECIDING, STOPPED_WHILE_DECIDING
from ffe_core.services.approvals import ApprovalConflict
from ffe_entrypoints.container import Container, build_container
from ffe_entrypoints.lifecycle import shutdown, startup
from ffe_entrypoints.settings import load_settings
from tests.waiting import wait_until


class AlwaysBuy:
    """A deterministic provider, so that every cycle wants to trade."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def vote(self, context: DecisionContext) -> ProviderVote:
        return ProviderVote(
            provider=self.name, action=Action.BUY, confidence=0.9, reasoning="test: always buy"
        )


class Gated(AlwaysBuy):
    """Votes only while ``gate`` is open; ``held`` is set once a vote waits at the closed gate
    (a cycle is then known to be in progress, mid-decision)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.gate, self.held = asyncio.Event(), asyncio.Event()
        self.gate.set()

    async def vote(self, context: DecisionContext) -> ProviderVote:
        if not self.gate.is_set():
            self.held.set()
            await self.gate.wait()
        return await super().vote(context)


def make(tmp_path: Path, **env: str) -> Container:
    settings = load_settings(
        tmp_path,
        environ={
            "FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}",
            "FFE_AGENT__INSTRUMENTS": '["BTC-USD"]',
            "FFE_AGENT__INTERVAL_SECONDS": "0.05",
            **env,
        },
    )
    container = build_container(settings)
    container.decision_providers.override(
        providers.Object({"a": AlwaysBuy("a"), "b": AlwaysBuy("b")})
    )
    return container


@pytest.fixture
async def container(tmp_path: Path) -> AsyncIterator[Container]:
    c = make(tmp_path)
    await startup(c)
    yield c
    await shutdown(c)


async def test_a_second_agent_on_the_same_storage_refuses_to_start(
    container: Container, tmp_path: Path
) -> None:
    control = container.control()
    await control.start_agent("test")
    other = make(tmp_path)
    await startup(other)
    try:
        with pytest.raises(ConflictError, match="another agent is running"):
            await other.agent().acquire()
    finally:
        await shutdown(other)
        await control.stop_agent("test")
    assert (await control.agent_status()).state is AgentState.STOPPED


async def test_pause_holds_cycles_and_resume_continues(tmp_path: Path) -> None:
    gated = Gated("a")
    c = make(tmp_path)
    c.decision_providers.override(providers.Object({"a": gated, "b": AlwaysBuy("b")}))
    await startup(c)
    try:
        control = c.control()
        await control.start_agent("test")
        await wait_until(lambda: _cycles_at_least(control, 1), "a first cycle")
        gated.gate.clear()
        await wait_until(gated.held.is_set, "a cycle in progress")
        in_progress = (await control.agent_status()).cycles
        paused = await control.pause_agent("test")
        assert paused.state is AgentState.PAUSED
        gated.gate.set()  # the cycle in progress finishes (one instrument: its pass ends too)
        await wait_until(
            lambda: _cycles_at_least(control, in_progress + 1), "the cycle in progress to finish"
        )
        status = await control.agent_status()
        held = status.cycles
        assert held == in_progress + 1
        last_cycle_at = status.last_cycle_at  # when that cycle ended: what the dashboard shows
        assert last_cycle_at is not None
        await asyncio.sleep(0.4)  # time passes while paused (many intervals): no cycle starts
        status = await control.agent_status()
        assert (status.cycles, status.last_cycle_at) == (held, last_cycle_at)
        await control.resume_agent("test")
        await wait_until(lambda: _cycles_at_least(control, held + 1), "a cycle after resume")
        await control.stop_agent("test")
    finally:
        await shutdown(c)


async def _cycles_at_least(control: Any, n: int) -> bool:
    return bool((await control.agent_status()).cycles >= n)


async def test_a_pause_drops_the_decision_in_the_making_and_ends_the_pass(tmp_path: Path) -> None:
    """A pause while a provider is still voting: that decision is never acted on (nothing is
    sent, even once the provider answers), and the pass's other instruments are not decided
    until resumed; after resume the agent trades again."""
    gated = Gated("a")
    gated.gate.clear()
    c = make(tmp_path, FFE_AGENT__INSTRUMENTS='["BTC-USD", "ETH-USD"]')
    c.decision_providers.override(providers.Object({"a": gated, "b": AlwaysBuy("b")}))
    await startup(c)
    try:
        control = c.control()
        await control.start_agent("test")
        await wait_until(gated.held.is_set, "a decision waiting on the provider")
        paused = await control.pause_agent("test")
        assert paused.state is AgentState.PAUSED

        async def dropped() -> bool:
            async with c.uow_factory()() as uow:
                return any(x.note == PAUSED_WHILE_DECIDING for x in await uow.agent.list_cycles())

        await wait_until(dropped, "the decision in the making dropped")
        gated.gate.set()  # the provider answers now: too late, the agent is paused
        await wait_until(lambda: _cycles_at_least(control, 1), "the dropped cycle counted")
        async with c.uow_factory()() as uow:
            cycles = await uow.agent.list_cycles()
            orders = await uow.orders.list()
        assert [(x.instrument, x.phase, x.note) for x in cycles] == [
            ("BTC-USD", CyclePhase.FAILED, PAUSED_WHILE_DECIDING)
        ], "the pass went on to the next instrument while paused"
        assert orders == []
        await control.resume_agent("test")

        async def traded() -> bool:
            async with c.uow_factory()() as uow:
                return len(await uow.orders.list()) > 0

        await wait_until(traded, "an order after resume")
        await control.stop_agent("test")
    finally:
        gated.gate.set()
        await shutdown(c)


async def test_a_stop_does_not_wait_for_a_provider_that_never_answers(tmp_path: Path) -> None:
    """A language model that hangs (deadline 10 minutes) no longer holds a stop until its
    deadline: the decision in the making is abandoned, nothing is sent, the cycle says why."""
    gated = Gated("a")
    gated.gate.clear()  # every vote waits: the provider never answers
    c = make(tmp_path, FFE_PROVIDERS__TIMEOUT_SECONDS="600", FFE_ENSEMBLE__DEADLINE_SECONDS="600")
    c.decision_providers.override(providers.Object({"a": gated, "b": AlwaysBuy("b")}))
    await startup(c)
    try:
        control = c.control()
        await control.start_agent("test")
        await wait_until(gated.held.is_set, "a decision waiting on the provider")
        async with asyncio.timeout(10):  # was: until the provider's deadline, 600 s
            stopped = await control.stop_agent("test")
        assert stopped.state is AgentState.STOPPED
        async with c.uow_factory()() as uow:
            cycles = await uow.agent.list_cycles()
            orders = await uow.orders.list()
        assert [(x.phase, x.note) for x in cycles] == [(CyclePhase.FAILED, STOPPED_WHILE_DECIDING)]
        assert orders == [] and (await c.broker().get_portfolio()).positions == {}
        assert stopped.last_error is None, "a stop is not an error"
    finally:
        gated.gate.set()
        await shutdown(c)


async def test_kill_switch_stops_the_agent_and_blocks_start_until_reset(
    container: Container,
) -> None:
    risk = container.risk_manager()
    control = container.control()
    # The account "was" worth far more: the drawdown limit (20 %) is already exceeded.
    risk.update_equity(Decimal("1000000"), container.clock().now())
    await control.start_agent("test")
    await wait_until(lambda: _stopped(control), "the kill switch to stop the agent")
    status = await control.agent_status()
    assert status.kill_switch.tripped
    assert "drawdown" in (status.kill_switch.reason or "")
    with pytest.raises(ConflictError, match="kill switch"):
        await control.start_agent("test")
    async with container.uow_factory()() as uow:
        saved = await uow.state.get("risk_manager")
    assert saved is not None and saved["kill_switch"]["tripped"] is True
    reset = await control.reset_kill_switch("ops@test")
    assert not reset.kill_switch.tripped
    async with container.uow_factory()() as uow:
        saved = await uow.state.get("risk_manager")
    assert saved is not None and saved["kill_switch"]["tripped"] is False
    await control.start_agent("test")
    await control.stop_agent("test")


async def _stopped(control: Any) -> bool:
    return bool((await control.agent_status()).state is AgentState.STOPPED)


@pytest.mark.parametrize("outcome", ["rejected", "expired"])
async def test_rejected_or_expired_approvals_never_trade(tmp_path: Path, outcome: str) -> None:
    c = make(tmp_path, FFE_APPROVALS__POLICY="always", FFE_APPROVALS__EXPIRY_SECONDS="60")
    await startup(c)
    try:
        control = c.control()
        await control.start_agent("test")
        await wait_until(lambda: _pending(c), "a pending approval")
        await control.stop_agent("test")
        (approval,) = [a for a in await c.approval_service().find(ApprovalStatus.PENDING)][:1]
        if outcome == "rejected":
            resolved = await control.resolve_approval(approval.id, False, "bob")
            assert resolved.status is ApprovalStatus.REJECTED
        else:
            c.clock.override(providers.Object(_Later(c.clock(), timedelta(minutes=5))))
            c.approval_service().clock = c.clock()
            with pytest.raises(ApprovalConflict, match="expired") as refused:
                await control.resolve_approval(approval.id, True, "bob")
            late = refused.value.approval
            assert late.status is ApprovalStatus.EXPIRED
            assert late.decided_by is None
        c.agent().clock = c.clock()
        restarted = await control.start_agent("test")
        assert restarted.run_id is not None
        # a pass runs execute_approved before its cycles: once one is journaled, the old
        # approval has been looked at
        await wait_until(lambda: _journaled(c, restarted.run_id), "a cycle after the restart")
        await control.stop_agent("test")
        order = await c.broker().get_order(client_order_id_for(approval.decision_id))
        assert order is None, f"a {outcome} decision must never reach the broker"
    finally:
        await shutdown(c)


async def _journaled(c: Container, run_id: str) -> bool:
    async with c.uow_factory()() as uow:
        return bool(await uow.agent.list_cycles(run_id))


async def _pending(c: Container) -> bool:
    return bool(await c.approval_service().find(ApprovalStatus.PENDING))


class _Later:
    """The system clock shifted forward (an approval seen after its expiry)."""

    def __init__(self, clock: Any, shift: timedelta) -> None:
        self._clock, self._shift = clock, shift

    def now(self) -> Any:
        return self._clock.now() + self._shift

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def test_cli_resets_a_persisted_kill_switch(tmp_path: Path) -> None:
    """`ffe agent reset-kill-switch` clears the stored kill switch, recording who did it."""
    import json
    import os
    import subprocess
    import sys

    async def trip() -> None:
        c = make(tmp_path)
        await startup(c)
        risk = c.risk_manager()
        risk.update_equity(Decimal("1000000"), c.clock().now())
        risk.update_equity(Decimal("100000"), c.clock().now())
        async with c.uow_factory()() as uow:
            await uow.state.put("risk_manager", risk.state.model_dump(mode="json"))
            await uow.commit()
        await shutdown(c)

    asyncio.run(trip())
    env = {k: v for k, v in os.environ.items() if not k.startswith("FFE_")}
    env["FFE_STORAGE__URL"] = f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ffe_entrypoints.cli.main",
            "agent",
            "reset-kill-switch",
            "--by",
            "ops",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "kill switch reset by ops" in proc.stdout
    import sqlite3

    with sqlite3.connect(tmp_path / "ffe.db") as conn:
        (payload,) = conn.execute(
            "SELECT payload FROM service_state WHERE key = 'risk_manager'"
        ).fetchone()
    state = json.loads(payload)
    assert state["kill_switch"]["tripped"] is False
    assert state["kill_switch"]["reset_by"] == "ops"


class _Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.events: list[Any] = []

    async def notify(self, event: Any) -> None:
        self.events.append(event)


async def test_daily_summary_is_sent_once_per_day(container: Container) -> None:
    from ffe_core.ports.notify import EventKind

    agent = container.agent()
    recorder = _Recorder()
    agent.notifier = recorder
    assert await agent.daily_summary() is True
    assert await agent.daily_summary() is False, "a second pass the same day sends nothing"
    (summary,) = [e for e in recorder.events if e.kind is EventKind.DAILY_SUMMARY]
    assert summary.fields["equity"] == "100,000.00"
    assert summary.fields["pnl"] == "+0.00"
    assert summary.fields["trades"] == "0"
    assert summary.body == "flat"


async def test_start_up_reconciliation_reports_positions_changed_outside_ffe(
    container: Container,
) -> None:
    from ffe_core.domain.portfolio import Position
    from ffe_core.ports.notify import EventKind

    agent = container.agent()
    recorder = _Recorder()
    agent.notifier = recorder
    assert await agent.reconcile() == {}, "first start: nothing to compare with"
    account = container.settings().trading.account_id
    async with container.uow_factory()() as uow:  # a manual trade at the venue while ffe was down
        book = await uow.accounts.load(account)
        if book is None:
            book = await container.broker().get_portfolio()
        book = book.model_copy(
            update={
                "positions": {
                    "ETH-USD": Position(
                        instrument="ETH-USD", quantity=Decimal("2"), average_price=Decimal("3000")
                    )
                }
            }
        )
        await uow.accounts.save(account, book)
        await uow.commit()
    diffs = await agent.reconcile()
    assert diffs == {"ETH-USD": ("0", "2")}
    (alert,) = [e for e in recorder.events if e.kind is EventKind.ERROR]
    assert "ETH-USD: ffe saw 0, broker has 2" in alert.body
    assert await agent.reconcile() == {}, "the broker's view is then taken as the truth"
