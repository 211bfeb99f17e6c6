"""The autonomous agent: an OODA loop over the configured instruments.

Observe (market, account) -> Orient (context, memory) -> Decide (ensemble -> risk) -> Act (order or
approval request). Every cycle is journaled with its phase before the next step, and every order's
client order id is derived from its decision, so a crash resumes without repeating an order:
before anything is (re)sent the broker is asked by that id.

:class:`TradingAgent` is the facade the control plane, CLI and runner use; the work is done by its
collaborators: :class:`~ffe_core.services.agent_lifecycle.AgentLifecycle` (the run and its lease),
:class:`~ffe_core.services.agent_cycle.CycleRunner` (one cycle),
:class:`~ffe_core.services.agent_orders.OrderDesk` (orders through the execution gate),
:class:`~ffe_core.services.agent_kill_switch.KillSwitchGuard` and the reports.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from ffe_core.config import Settings
from ffe_core.domain.agent import AgentCycle, AgentRun
from ffe_core.domain.errors import FfeError
from ffe_core.domain.portfolio import TradingMode
from ffe_core.ports.brokers import Broker
from ffe_core.ports.clock import Clock
from ffe_core.ports.control import KillSwitchState
from ffe_core.ports.lease import LeaderLease, lease_holder
from ffe_core.ports.live_gate import NO_GATE, LiveGate, LiveGateRefused
from ffe_core.ports.metrics import Metrics, NullMetrics
from ffe_core.ports.notify import EventKind, Notifier
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.services.agent_cycle import CardSource, CycleRunner
from ffe_core.services.agent_journal import CycleJournal, WrittenWithDecisions
from ffe_core.services.agent_kill_switch import EquityWatch, KillSwitchGuard
from ffe_core.services.agent_lifecycle import AgentLifecycle, AgentProgress
from ffe_core.services.agent_orders import OrderDesk
from ffe_core.services.agent_reports import (
    DailySummary,
    Notices,
    ParityOf,
    Prices,
    remember_positions,
)
from ffe_core.services.approvals import ApprovalService
from ffe_core.services.decisions import DecisionService
from ffe_core.services.execution import ExecutionGate

log = logging.getLogger(__name__)


class TradingAgent:
    """Runs the loop; each step is a collaborator's job."""

    def __init__(
        self,
        settings: Settings,
        decisions: DecisionService,
        broker: Broker,
        approvals: ApprovalService,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        *,
        notifier: Notifier | None = None,
        metrics: Metrics | None = None,
        equity_watch: EquityWatch | None = None,
        holder: str | None = None,
        prices: Prices | None = None,
        lease: LeaderLease | None = None,
        after_pass: Sequence[Callable[[], Awaitable[None]]] = (),
        gate: ExecutionGate | None = None,
        with_decisions: WrittenWithDecisions | None = None,
        card_for: CardSource | None = None,
        parity: ParityOf | None = None,
        live_gate: LiveGate | None = None,
    ) -> None:
        self.settings = settings
        self.live_gate = live_gate
        self.decisions = decisions
        self.broker = broker
        self.uow_factory = uow_factory
        self.metrics = metrics = metrics or NullMetrics()
        self.after_pass = list(after_pass)  # e.g. score outcomes, persist risk state
        self.progress = progress = AgentProgress()
        self.notices = notices = Notices(notifier)
        self.lifecycle = life = AgentLifecycle(
            settings, uow_factory, clock, metrics, progress,
            holder=holder or lease_holder(), lease=lease,  # holder: unique per agent instance
        )  # fmt: skip
        self.guard = KillSwitchGuard(
            broker, clock, metrics, notices,
            watch=equity_watch, prices=prices, persist=self._after_pass,
        )  # fmt: skip
        # every order goes through the gate; by default one with the decisions' own risk check
        gate = gate or ExecutionGate(
            settings, broker, uow_factory, clock, decisions, risk=decisions.risk,
            kill_switch=self.guard.state, notifier=notifier, metrics=metrics,
        )  # fmt: skip
        journal = CycleJournal(uow_factory, clock, progress, with_decisions)
        self.orders = orders = OrderDesk(
            gate, broker, approvals, uow_factory, clock, journal, progress, notices,
            fence=life.fence,
        )  # fmt: skip
        self.cycles = CycleRunner(
            decisions, broker, approvals, orders, journal, progress, notices, clock, metrics,
            uptime=life.uptime, card_for=card_for,
            halted=life.halted, stopping=lambda: life.stopping,
        )  # fmt: skip
        self.summary = DailySummary(
            settings, broker, uow_factory, clock, notices, prices, parity=parity
        )

    @property
    def gate(self) -> ExecutionGate:
        return self.orders.gate

    @property
    def holder(self) -> str:
        return self.lifecycle.holder

    @property
    def lease(self) -> LeaderLease | None:
        return self.lifecycle.lease

    @lease.setter
    def lease(self, lease: LeaderLease | None) -> None:
        self.lifecycle.lease = lease

    @property
    def notifier(self) -> Notifier | None:
        return self.notices.notifier

    @notifier.setter
    def notifier(self, notifier: Notifier | None) -> None:
        self.notices.notifier = notifier

    # the loop ------------------------------------------------------------------------------

    async def acquire(self) -> AgentRun:
        """Register this run (see :meth:`AgentLifecycle.acquire`): one agent, one run. In
        ``trading.mode: live`` the live gate is asked first; every way of starting the agent
        comes through here, so a refusal (LiveGateRefused) holds on all of them."""
        why = self.live_refusal()
        if why is not None:
            raise LiveGateRefused(why)
        return await self.lifecycle.acquire()

    def live_refusal(self) -> str | None:
        """Why a live run may not start now (None in paper mode or when it may)."""
        if self.settings.trading.mode is not TradingMode.LIVE:
            return None
        if self.live_gate is not None:
            return self.live_gate.refusal()
        return NO_GATE if self.settings.live_gate.enabled else None

    async def recover(self) -> list[AgentCycle]:
        """Finish cycles a crash interrupted, never resending an order."""
        return await self.orders.recover()

    async def run(
        self,
        cycles: int | None = None,
        interval: float | None = None,
        on_cycle: Callable[[AgentCycle], Awaitable[None] | None] | None = None,
        *,
        run: AgentRun | None = None,
    ) -> AgentRun:
        """Run until stopped (or ``cycles`` cycles); one cycle is one instrument's OODA pass.

        ``run`` is a run already registered with :meth:`acquire` (the control plane acquires
        first so that a refusal reaches the caller); otherwise it is acquired here.
        """
        run = run or await self.acquire()
        life, progress = self.lifecycle, self.progress
        life.begin(run)
        reason = "stopped"

        def enough() -> bool:
            return cycles is not None and progress.cycles >= cycles

        try:
            await self.recover()
            await self.reconcile()
            await self.guard.check()
            pause = self.settings.agent.interval_seconds if interval is None else interval
            while not life.stopping:
                await life.resumed()
                await life.heartbeat()
                if not life.paused:  # a pause since: approved orders wait for the resume too
                    await self.execute_approved()
                observed = await self.cycles.observe_pass()
                for symbol in self.settings.agent.instruments:
                    if life.stopping or life.paused or enough():
                        break
                    cycle = await self.cycle(symbol, observe=False, observe_failed=observed)
                    if on_cycle is not None:
                        maybe = on_cycle(cycle)
                        if maybe is not None:
                            await maybe
                await self._after_pass()
                await remember_positions(self.broker, self.uow_factory)
                await self.daily_summary()
                if await self.guard.check():
                    reason = "kill switch: " + (self.kill_switch().reason or "drawdown limit")
                    break
                if enough():
                    break
                await life.sleep(pause)
            await self.gate.sync()  # a clean stop leaves the ledger level with the venue
        except Exception as exc:
            reason = f"error: {type(exc).__name__}: {exc}"
            progress.last_error = reason
            await self.notices.send(EventKind.ERROR, "Agent stopped on an error", reason)
            raise
        finally:
            await life.finish(run, reason)
        return run

    async def cycle(
        self, symbol: str, *, observe: bool = True, observe_failed: FfeError | None = None
    ) -> AgentCycle:
        """One OODA pass for ``symbol`` (:meth:`CycleRunner.run`); ``run`` calls this, so a
        wrapper set on the instance (tracing) sees every cycle."""
        return await self.cycles.run(symbol, observe=observe, observe_failed=observe_failed)

    async def _after_pass(self) -> None:
        for hook in self.after_pass:
            try:
                await hook()
            except Exception as exc:  # bookkeeping never stops trading
                log.warning("after-pass hook %r failed: %s", hook, exc)

    # control ---------------------------------------------------------------------------------

    def stop(self) -> None:
        """Prompt and safe (:meth:`AgentLifecycle.stop`): a decision in the making is dropped,
        an order under way is finished; then the loop ends."""
        self.lifecycle.stop()

    def pause(self) -> None:
        self.lifecycle.pause()

    def resume(self) -> None:
        self.lifecycle.resume()

    def uptime(self) -> float:
        return self.lifecycle.uptime()

    def kill_switch(self) -> KillSwitchState:
        return self.guard.state()

    async def reset_kill_switch(self, by: str) -> KillSwitchState:
        """A person re-allows trading: recorded, audited, stored (:meth:`KillSwitchGuard.reset`)."""
        return await self.guard.reset(by)

    async def refresh_kill_switch(self) -> KillSwitchState:
        """The kill switch as stored now (a reset or trip made by another process)."""
        return await self.guard.refresh()

    # orders and reports ----------------------------------------------------------------------

    async def execute_approved(self) -> list[str]:
        """Send approved decisions through the gate (:meth:`OrderDesk.execute_approved`)."""
        return await self.orders.execute_approved()

    async def reconcile(self) -> dict[str, tuple[str, str]]:
        """Compare the venue with what ffe last saw and with the ledger; report differences."""
        return await self.orders.reconcile()

    async def daily_summary(self) -> bool:
        """Once per UTC day: equity, P&L, positions and trades so far; True when sent now."""
        return await self.summary.send_once_a_day()
