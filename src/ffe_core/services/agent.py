"""The autonomous agent: an OODA loop over the configured instruments.

Observe (market, account) -> Orient (context, memory) -> Decide (ensemble -> risk) -> Act (order or
approval request). Every cycle is journaled with its phase before the next step, and every order's
client order id is derived from its decision, so a crash resumes without repeating an order:
before anything is (re)sent the broker is asked by that id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from ffe_core.config import Settings
from ffe_core.domain.agent import AgentCycle, AgentRun, AgentState, CyclePhase
from ffe_core.domain.decisions import Action, Decision, utcnow
from ffe_core.domain.errors import ConflictError, FfeError
from ffe_core.domain.orders import OrderStatus, client_order_id_for
from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.brokers import Broker, MarketDrivenVenue
from ffe_core.ports.clock import Clock
from ffe_core.ports.control import KillSwitchState
from ffe_core.ports.lease import (
    LeaderLease,
    LeaseKeeper,
    StaleLeader,
    holder_is_gone,
    lease_holder,
)
from ffe_core.ports.metrics import Metrics, NullMetrics
from ffe_core.ports.notify import EventKind, Notification, Notifier
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.services.agent_reports import (
    reconcile_positions,
    remember_positions,
    summarize_day,
)
from ffe_core.services.approvals import ApprovalService
from ffe_core.services.decisions import DecisionService
from ffe_core.services.execution import ExecutionGate, GateResult, send_approved
from ffe_core.services.kill_switch import SharedRiskState, audit_reset
from ffe_core.services.risk import KillSwitchReset

log = logging.getLogger(__name__)


class EquityWatch(Protocol):
    """What the agent needs of the risk manager between decisions: the drawdown kill switch."""

    def update_equity(self, equity: Decimal, now: datetime) -> bool:
        """Record equity; True when this update tripped the kill switch."""
        ...

    def kill_switch(self) -> KillSwitchState: ...

    def reset_kill_switch(self, by: str, now: datetime) -> None:
        """Re-allow entries; drawdown is measured afresh from current equity."""
        ...

    def drawdown(self) -> Decimal:
        """Fall of the last recorded equity from its peak (0..1)."""
        ...


@dataclass
class AgentProgress:
    """What the agent is doing now (served by the control plane)."""

    state: AgentState = AgentState.STOPPED
    run: AgentRun | None = None
    cycles: int = 0
    last_cycle_at: datetime | None = None
    started_monotonic: float = 0.0
    phase: CyclePhase | None = None
    instrument: str | None = None
    last_error: str | None = None
    last_decisions: list[Decision] = field(default_factory=list)


class TradingAgent:
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
        prices: Callable[[Portfolio], Awaitable[dict[str, Decimal]]] | None = None,
        lease: LeaderLease | None = None,
        after_pass: Sequence[Callable[[], Awaitable[None]]] = (),
        gate: ExecutionGate | None = None,
        on_stored: Callable[[Decision], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.decisions = decisions
        self.broker = broker
        self.approvals = approvals
        self.uow_factory = uow_factory
        self.clock = clock
        self.notifier = notifier
        self.metrics = metrics or NullMetrics()
        self.equity_watch = equity_watch
        self.holder = holder or lease_holder()  # unique per agent instance (host:pid:random)
        self.prices = prices
        self.after_pass = list(after_pass)  # e.g. score outcomes, persist risk state
        self.lease = lease  # several processes on one storage: only the lease holder acts
        self.on_stored = on_stored  # e.g. the flight recorder, once a cycle's decision is stored
        self._keeper: LeaseKeeper | None = None
        self._acquiring = False  # an acquire() under way: a second one is refused at once
        self._run_id: str | None = None  # the run acquired and not finished yet
        self.progress = AgentProgress()
        self._stop = asyncio.Event()
        self._resume = asyncio.Event()
        self._resume.set()
        # every order goes through the gate; by default one with the decisions' own risk check
        self.gate = gate or ExecutionGate(
            settings,
            broker,
            uow_factory,
            clock,
            decisions,
            risk=decisions.risk,
            kill_switch=self.kill_switch,
            notifier=notifier,
            metrics=self.metrics,
        )
        self._summary_day: date | None = None  # the UTC day whose summary was last sent
        self.last_reconciliation: dict[str, tuple[str, str]] = {}

    # lifecycle ---------------------------------------------------------------------------

    @property
    def lease_seconds(self) -> float:
        return max(30.0, 3 * self.settings.agent.interval_seconds)

    async def acquire(self) -> AgentRun:
        """Register this run; refuses while another live agent holds the same storage, and
        while this agent already has a run (or is acquiring one): one agent, one run.

        With a leader lease, the lease decides instead: refused while another holds it, and a
        run left by a previous holder is taken over.
        """
        if self._acquiring or self._run_id is not None:
            raise ConflictError(
                f"the agent is already running (run {self._run_id})"
                if self._run_id
                else "the agent is already starting"
            )
        self._acquiring = True  # set before the first await: concurrent callers see it
        try:
            self._stop.clear()  # a stop requested after this point (even before run()) holds
            await self._drop_lease()  # a keeper left behind must never renew beside ours
            if self.lease is not None:
                self._keeper = await LeaseKeeper.take(self.lease, on_lost=self.stop)
            try:
                run = await self._register_run()
            except BaseException:
                await self._drop_lease()
                raise
            self._run_id = run.id
            return run
        finally:
            self._acquiring = False

    async def _register_run(self) -> AgentRun:
        now = self.clock.now()
        async with self.uow_factory() as uow:
            active = await uow.agent.active_run()
            closed: set[str] = set()
            while active is not None and active.id not in closed:  # every run left running
                if active.holder != self.holder and self._keeper is None:
                    age = (now - active.heartbeat_at).total_seconds()
                    if age < self.lease_seconds and not holder_is_gone(active.holder):
                        raise ConflictError(
                            f"another agent is running on this storage (holder "
                            f"{active.holder}, heartbeat {age:.0f}s ago)"
                        )
                await uow.agent.update_run(
                    active.model_copy(
                        update={
                            "state": AgentState.STOPPED,
                            "stopped_at": now,
                            "stop_reason": "taken over after its process stopped",
                        }
                    )
                )
                closed.add(active.id)
                active = await uow.agent.active_run()
            run = AgentRun(holder=self.holder, started_at=now, heartbeat_at=now)
            await uow.agent.add_run(run)
            await uow.commit()
        return run

    async def recover(self) -> list[AgentCycle]:
        """Finish cycles a crash interrupted: an order journaled in ACT is looked up, never resent;
        ledger orders the venue never received are closed, and the ledger catches up with it."""
        await self.gate.expire_unsent()
        await self.gate.sync()
        fixed: list[AgentCycle] = []
        async with self.uow_factory() as uow:
            cycles = await uow.agent.list_cycles(limit=500)
        for cycle in cycles:
            if cycle.phase not in (
                CyclePhase.OBSERVE,
                CyclePhase.ORIENT,
                CyclePhase.DECIDE,
                CyclePhase.ACT,
            ):
                continue
            note = "interrupted before acting; not resumed"
            if cycle.phase is CyclePhase.ACT and cycle.client_order_id:
                order = await self.broker.get_order(cycle.client_order_id)
                note = (
                    f"recovered: broker has order {order.client_order_id} ({order.status})"
                    if order is not None
                    else "interrupted before the order reached the broker; not resent (stale)"
                )
            done = cycle.model_copy(
                update={
                    "phase": CyclePhase.DONE if "recovered" in note else CyclePhase.FAILED,
                    "note": note,
                    "updated_at": self.clock.now(),
                }
            )
            async with self.uow_factory() as uow:
                closed = await uow.agent.close_cycle(done)
                await uow.commit()
            if closed:  # else its own process (paused, not dead) ended it meanwhile
                fixed.append(done)
        return fixed

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
        self.progress = AgentProgress(
            state=AgentState.RUNNING, run=run, started_monotonic=time.monotonic()
        )
        self.metrics.agent_cycle(0.0, 0.0)
        self.metrics.agent_running(True)
        reason = "stopped"
        try:
            await self.recover()
            await self.reconcile()
            await self._check_kill_switch()
            pause = self.settings.agent.interval_seconds if interval is None else interval
            while not self._stop.is_set():
                await self._resume.wait()
                await self._heartbeat()
                await self.execute_approved()
                observed = await self._observe_pass()
                for symbol in self.settings.agent.instruments:
                    if self._stop.is_set() or (
                        cycles is not None and self.progress.cycles >= cycles
                    ):
                        break
                    cycle = await self.cycle(symbol, observe=False, observe_failed=observed)
                    if on_cycle is not None:
                        maybe = on_cycle(cycle)
                        if maybe is not None:
                            await maybe
                await self._after_pass()
                await self._remember_positions()
                await self.daily_summary()
                if await self._check_kill_switch():
                    reason = "kill switch: " + (self.kill_switch().reason or "drawdown limit")
                    break
                if cycles is not None and self.progress.cycles >= cycles:
                    break
                await self._sleep(pause)
            await self.gate.sync()  # a clean stop leaves the ledger level with the venue
        except Exception as exc:
            reason = f"error: {type(exc).__name__}: {exc}"
            self.progress.last_error = reason
            await self._notify(EventKind.ERROR, "Agent stopped on an error", reason)
            raise
        finally:
            await self._finish(run, reason)
        return run

    def stop(self) -> None:
        """Graceful: the current cycle finishes, then the loop ends."""
        self._stop.set()
        self._resume.set()

    def pause(self) -> None:
        if self.progress.state is AgentState.RUNNING:
            self._resume.clear()
            self.progress.state = AgentState.PAUSED

    def resume(self) -> None:
        if self.progress.state is AgentState.PAUSED:
            self.progress.state = AgentState.RUNNING
        self._resume.set()

    def kill_switch(self) -> KillSwitchState:
        return self.equity_watch.kill_switch() if self.equity_watch else KillSwitchState()

    async def reset_kill_switch(self, by: str) -> KillSwitchState:
        """A person re-allows trading after a kill switch: recorded (who, when, why it had
        tripped), audited and persisted at once. With shared state the reset is made against
        the stored switch, so it reaches every process and never clears a trip unseen here."""
        watch, now = self.equity_watch, self.clock.now()
        if isinstance(watch, SharedRiskState):
            record = await watch.reset(by, now)
        elif watch is not None and (before := watch.kill_switch()).tripped:
            watch.reset_kill_switch(by, now)
            record = KillSwitchReset(
                by=by, at=now, tripped_reason=before.reason, tripped_at=before.at
            )
            audit_reset(record)
            await self._after_pass()  # persists the risk state
        else:
            record = None
        if record is not None:
            log.warning("kill switch reset by %s (it had tripped: %s)", by, record.tripped_reason)
            await self._notify(
                EventKind.KILL_SWITCH,
                "Kill switch reset",
                f"reset by {by}; it had tripped: {record.tripped_reason or 'no reason recorded'}",
            )
        return self.kill_switch()

    async def refresh_kill_switch(self) -> KillSwitchState:
        """The kill switch as stored now: adopts a reset or trip another process stored (the
        CLI, another server). A storage error keeps the switch as known here."""
        watch = self.equity_watch
        if isinstance(watch, SharedRiskState):
            was = watch.kill_switch()
            try:
                now = await watch.refresh()
            except Exception as exc:
                log.warning("could not read the stored kill switch: %s", exc)
                return was
            if was.tripped and not now.tripped:
                log.warning("kill switch reset by %s (seen in storage)", now.reset_by)
        return self.kill_switch()

    def uptime(self) -> float:
        if self.progress.state is AgentState.STOPPED:
            return 0.0
        return time.monotonic() - self.progress.started_monotonic

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _after_pass(self) -> None:
        for hook in self.after_pass:
            try:
                await hook()
            except Exception as exc:  # bookkeeping never stops trading
                log.warning("after-pass hook %s failed: %s", getattr(hook, "__name__", hook), exc)

    async def _heartbeat(self) -> None:
        run = self.progress.run
        if run is None:
            return
        run = run.model_copy(
            update={"heartbeat_at": self.clock.now(), "state": self.progress.state}
        )
        async with self.uow_factory() as uow:
            current = await uow.agent.active_run()
            if current is not None and current.id != run.id:
                raise ConflictError(f"this agent's run was taken over by {current.holder}")
            await uow.agent.update_run(run)
            await uow.commit()
        self.progress.run = run

    async def _finish(self, run: AgentRun, reason: str) -> None:
        """Close the run's row and give the lease up; the lease and the run are let go even when
        storage fails here, so neither a keeper nor a claim outlives the run."""
        current = self.progress.run or run
        try:
            async with self.uow_factory() as uow:
                await uow.agent.update_run(
                    current.model_copy(
                        update={
                            "state": AgentState.STOPPED,
                            "stopped_at": self.clock.now(),
                            "stop_reason": reason,
                        }
                    )
                )
                await uow.commit()
        finally:
            await self._drop_lease()
            self._run_id = None
            self.progress.state = AgentState.STOPPED
        self.metrics.agent_cycle(0.0, 0.0)
        self.metrics.agent_running(False)

    # one cycle -------------------------------------------------------------------------------

    async def _journal(
        self, cycle: AgentCycle, *, decided: Decision | None = None, **changes: object
    ) -> AgentCycle:
        """Record the cycle's next phase; ``decided``, the cycle's decision, is stored in the
        same transaction unless an earlier entry stored it, so a cycle never names a decision
        that is not there."""
        updated = cycle.model_copy(update={**changes, "updated_at": self.clock.now()})
        async with self.uow_factory() as uow:
            if decided is not None:
                with contextlib.suppress(ConflictError):  # stored with an earlier phase
                    await uow.decisions.add(decided)
            await uow.agent.update_cycle(updated)
            await uow.commit()
        if decided is not None and self.on_stored is not None:
            await self.on_stored(decided)
        phase = updated.phase
        self.progress.phase = phase
        return updated

    async def _observe_pass(self) -> FfeError | None:
        """Observe once for a whole pass; a failure is handed to each of its cycles."""
        try:
            await self._observe()
        except FfeError as exc:
            return exc
        return None

    async def cycle(
        self, symbol: str, *, observe: bool = True, observe_failed: FfeError | None = None
    ) -> AgentCycle:
        """One OODA pass for ``symbol``; failures end the cycle as FAILED with the reason.

        ``observe=False``: the caller observed the venue for the whole pass (``run`` does, once
        for all instruments) and hands over what that observation raised, if anything."""
        assert self.progress.run is not None, "call run() (which acquires the run) first"
        started = time.perf_counter()
        first = CyclePhase.OBSERVE if observe or observe_failed else CyclePhase.DECIDE
        cycle = AgentCycle(
            run_id=self.progress.run.id,
            seq=self.progress.cycles,
            instrument=symbol,
            phase=first,
            started_at=self.clock.now(),
            updated_at=self.clock.now(),
        )
        async with self.uow_factory() as uow:
            await uow.agent.add_cycle(cycle)
            await uow.commit()
        self.progress.instrument, self.progress.phase = symbol, first
        decision: Decision | None = None
        try:
            if observe_failed is not None:
                raise observe_failed
            if observe:
                await self._observe()
                cycle = await self._journal(cycle, phase=CyclePhase.DECIDE)
            decision = await self.decisions.decide(symbol, persist=False)
            self.progress.last_decisions = [decision, *self.progress.last_decisions][:20]
            cycle = cycle.model_copy(update={"decision_id": decision.id})
            cycle = await self._act(cycle, decision)
        except FfeError as exc:
            self.progress.last_error = f"{symbol}: {exc}"
            cycle = await self._journal(
                cycle, decided=decision, phase=CyclePhase.FAILED, note=str(exc)[:500]
            )
        finally:
            self.progress.cycles += 1
            self.progress.last_cycle_at = self.clock.now()
            self.metrics.agent_cycle(time.perf_counter() - started, self.uptime())
        return cycle

    async def _observe(self) -> None:
        """Let a simulated venue see the latest market, then bring the ledger up to the venue."""
        if isinstance(self.broker, MarketDrivenVenue):
            await self.broker.process_market()
        for order in await self.gate.sync():
            if order.status is OrderStatus.FILLED:
                await self._notify(
                    EventKind.FILL,
                    f"Filled {order.side} {order.instrument}",
                    f"{order.filled_quantity} @ {order.average_fill_price}",
                    {
                        "instrument": order.instrument,
                        "side": order.side.value,
                        "size": str(order.filled_quantity),
                        "price": str(order.average_fill_price),
                    },
                )

    async def _act(self, cycle: AgentCycle, decision: Decision) -> AgentCycle:
        """Act on a decision not stored yet: the first journal entry stores it too."""
        risk = decision.risk
        if decision.action is Action.HOLD:
            return await self._journal(
                cycle,
                decided=decision,
                phase=CyclePhase.DONE,
                note="hold: " + decision.reasoning[:300],
            )
        if risk is not None and not risk.approved:
            await self._notify(
                EventKind.RISK_REJECTION,
                f"Risk rejected {decision.action} {decision.instrument}",
                risk.reason,
                {"instrument": decision.instrument, "action": decision.action.value},
            )
            return await self._journal(
                cycle, decided=decision, phase=CyclePhase.DONE, note="risk rejected: " + risk.reason
            )
        size = risk.size if risk is not None else decision.suggested_size
        if size is not None and size <= 0:
            return await self._journal(
                cycle, decided=decision, phase=CyclePhase.DONE, note="nothing to trade at this size"
            )
        await self._notify(
            EventKind.DECISION,
            f"{decision.action} {decision.instrument}",
            decision.reasoning[:500],
            {
                "instrument": decision.instrument,
                "action": decision.action.value,
                "size": str(size),
                "confidence": f"{decision.confidence:.2f}",
            },
        )
        notional = risk.notional if risk is not None else None
        if notional is None and size is not None and decision.reference_price is not None:
            notional = size * decision.reference_price
        if self.approvals.needs_approval(notional):
            # the approval names the decision: store it (with the ACT phase) before asking
            cycle = await self._journal(cycle, decided=decision, phase=CyclePhase.ACT)
            waiting = await self.approvals.still_pending(decision)
            if waiting is not None:  # the person has not answered yet: don't ask again
                return await self._journal(
                    cycle,
                    phase=CyclePhase.DONE,
                    note=f"approval {waiting.id} for {decision.action} is still pending",
                )
            approval = await self.approvals.request(decision)
            return await self._journal(
                cycle, phase=CyclePhase.AWAITING_APPROVAL, note=f"awaiting approval {approval.id}"
            )
        return await self._execute(cycle, decision, stored=False)

    async def _execute(
        self, cycle: AgentCycle, decision: Decision, *, stored: bool = True
    ) -> AgentCycle:
        """Hand ``decision`` to the execution gate and journal what it did; the order's id is
        journaled (with the decision, when ``stored`` is False) before anything is sent."""
        cycle = await self._journal(
            cycle,
            decided=None if stored else decision,
            phase=CyclePhase.ACT,
            client_order_id=client_order_id_for(decision.id),
        )
        result = await self.gate.execute(decision, fence=self.fence)
        note = _gate_note(result)
        if result.order is not None and result.order.status is OrderStatus.REJECTED:
            self.progress.last_error = f"{decision.instrument}: {result.refused}"
            return await self._journal(cycle, phase=CyclePhase.FAILED, note=note)
        return await self._journal(cycle, phase=CyclePhase.DONE, note=note)

    def fence(self) -> AbstractAsyncContextManager[None]:
        """With a lease: proceed only while our fencing token is current (else StaleLeader)."""
        if self._keeper is not None:
            return self._keeper.fenced()
        if self.lease is not None:
            raise StaleLeader(f"not the leader: lease {self.lease.name!r} is not held")
        return contextlib.nullcontext()

    async def _drop_lease(self) -> None:
        if self._keeper is not None:
            await self._keeper.stop()
            self._keeper = None

    async def execute_approved(self) -> list[str]:
        """Send approved decisions not yet in the ledger through the gate (which re-checks them
        now); one the gate or the venue refuses ends its approval expired or failed."""
        if self.progress.run is None:
            return []
        sent: list[str] = []
        for approval, result in await send_approved(self.approvals, self.gate, fence=self.fence):
            now = self.clock.now()
            async with self.uow_factory() as uow:
                await uow.agent.add_cycle(
                    AgentCycle(
                        run_id=self.progress.run.id,
                        seq=self.progress.cycles,
                        instrument=approval.instrument,
                        phase=CyclePhase.DONE,
                        decision_id=approval.decision_id,
                        client_order_id=client_order_id_for(approval.decision_id),
                        note="approved; " + _gate_note(result),
                        started_at=now,
                        updated_at=now,
                    )
                )
                await uow.commit()
            if result.sent and result.order is not None:
                sent.append(result.order.client_order_id)
        return sent

    async def reconcile(self) -> dict[str, tuple[str, str]]:
        """Before the first order: compare the venue's positions with those ffe last saw and with
        the ledger's fills; report every difference (one notification)."""
        diffs, known = await reconcile_positions(self.broker, self.uow_factory)
        ledger = await self.gate.ledger_differences()
        self.last_reconciliation = diffs
        lines = (
            [f"{s}: ffe saw {a}, broker has {b}" for s, (a, b) in diffs.items()] if known else []
        )
        lines += [f"{s}: ledger fills give {a}, venue has {b}" for s, (a, b) in ledger.items()]
        if lines:
            text = "; ".join(lines)
            log.warning("reconciliation: %s", text)
            await self._notify(EventKind.ERROR, "Positions differ from the broker", text)
        return diffs

    async def _remember_positions(self) -> None:
        await remember_positions(self.broker, self.uow_factory)

    async def daily_summary(self) -> bool:
        """Once per UTC day (first pass of the day): equity, P&L, positions and trades so far."""
        today = self.clock.now().date()
        if self._summary_day == today:
            return False
        self._summary_day = today
        title, body, fields = await summarize_day(
            self.settings, self.broker, self.uow_factory, today, self.prices
        )
        await self._notify(EventKind.DAILY_SUMMARY, title, body, fields)
        return True

    async def _check_kill_switch(self) -> bool:
        if self.equity_watch is None:
            return False
        # tripped: a reset made elsewhere (the CLI, another process) counts from this pass on
        if self.equity_watch.kill_switch().tripped and (await self.refresh_kill_switch()).tripped:
            return True
        portfolio = await self.broker.get_portfolio()
        prices = await self.prices(portfolio) if self.prices else {}
        equity = portfolio.equity(prices)
        tripped = self.equity_watch.update_equity(equity, self.clock.now())
        self.metrics.portfolio(equity, self.equity_watch.drawdown())
        if tripped:
            state = self.equity_watch.kill_switch()
            if isinstance(self.equity_watch, SharedRiskState):
                try:  # stored at once: every process (and a restart) sees the trip
                    await self.equity_watch.save()
                except Exception as exc:
                    log.warning("could not store the kill switch trip: %s", exc)
            log.warning("kill switch tripped: %s", state.reason)
            await self._notify(EventKind.KILL_SWITCH, "Kill switch tripped", state.reason or "")
            return True
        return False

    async def _notify(
        self, kind: EventKind, title: str, body: str = "", fields: dict[str, str] | None = None
    ) -> None:
        if self.notifier is None:
            return
        try:
            await self.notifier.notify(
                Notification(kind=kind, title=title, body=body, fields=fields or {}, ts=utcnow())
            )
        except Exception as exc:  # notifications never stop trading
            log.warning("notifier failed: %s", exc)


def _gate_note(result: GateResult) -> str:
    """The cycle journal's line for what the gate did."""
    if result.duplicate:
        status = result.order.status if result.order is not None else "unknown"
        return f"order already sent ({status}); not resent"
    if result.refused is not None:
        return f"not sent: {result.refused}"[:500]
    assert result.order is not None
    return f"order {result.order.status}: {result.order.side} {result.order.quantity}"
