"""One OODA cycle for one instrument: observe the venue, decide (ensemble -> risk), act.

Acting is a journal entry, a notification and, when the decision trades, either an approval
request or the order desk (the one execution gate). A failure ends the cycle FAILED with its
reason; the loop goes on with the next instrument.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from ffe_core.domain.agent import AgentCycle, CyclePhase
from ffe_core.domain.approvals import ApprovalCard
from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.errors import FfeError
from ffe_core.domain.orders import OrderStatus
from ffe_core.ports.brokers import Broker, MarketDrivenVenue
from ffe_core.ports.clock import Clock
from ffe_core.ports.metrics import Metrics
from ffe_core.ports.notify import EventKind
from ffe_core.services.agent_journal import CycleJournal
from ffe_core.services.agent_lifecycle import AgentProgress
from ffe_core.services.agent_orders import OrderDesk
from ffe_core.services.agent_reports import Notices, rejection_key
from ffe_core.services.approvals import ApprovalService
from ffe_core.services.decisions import DecisionService

log = logging.getLogger(__name__)

CardSource = Callable[[Decision], Awaitable[ApprovalCard | None]]
"""The approval card of a decision (``services.approval_cards.ApprovalCards``)."""

STOPPED_WHILE_DECIDING = "stopped while deciding: the decision was abandoned, nothing was sent"
PAUSED_WHILE_DECIDING = "paused while deciding: the decision was abandoned, nothing was sent"


class StoppedWhileDeciding(Exception):
    """A stop or a pause came while the cycle was still deciding (a slow provider): the
    decision is dropped; the message says which."""


class CycleRunner:
    """Observes, decides and acts for one instrument at a time; journals every phase."""

    def __init__(
        self,
        decisions: DecisionService,
        broker: Broker,
        approvals: ApprovalService,
        orders: OrderDesk,
        journal: CycleJournal,
        progress: AgentProgress,
        notices: Notices,
        clock: Clock,
        metrics: Metrics,
        uptime: Callable[[], float],
        card_for: CardSource | None = None,
        halted: Callable[[], Awaitable[None]] | None = None,
        stopping: Callable[[], bool] | None = None,
    ) -> None:
        """``halted``: returns once the agent is asked to stop or pause
        (``AgentLifecycle.halted``), and ``stopping`` says whether it was a stop; deciding is
        abandoned then (see :meth:`decide`)."""
        self.decisions = decisions
        self.broker = broker
        self.approvals = approvals
        self.orders = orders
        self.journal = journal
        self.progress = progress
        self.notices = notices
        self.clock = clock
        self.metrics = metrics
        self.uptime = uptime
        self.card_for = card_for  # the risk shown on an approval (services.approval_cards)
        self.halted = halted
        self.stopping = stopping

    async def observe_pass(self) -> FfeError | None:
        """Observe once for a whole pass; a failure is handed to each of its cycles."""
        try:
            await self.observe()
        except FfeError as exc:
            return exc
        return None

    async def observe(self) -> None:
        """Let a simulated venue see the latest market, then bring the ledger up to the venue."""
        if isinstance(self.broker, MarketDrivenVenue):
            await self.broker.process_market()
        for order in await self.orders.gate.sync():
            if order.status is OrderStatus.FILLED:
                await self.notices.send(
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

    async def run(
        self, symbol: str, *, observe: bool = True, observe_failed: FfeError | None = None
    ) -> AgentCycle:
        """One OODA pass for ``symbol``; failures end the cycle as FAILED with the reason.

        ``observe=False``: the caller observed the venue for the whole pass and hands over what
        that observation raised, if anything; the cycle's journal entry is then first stored
        with its decision (one transaction a cycle, unless it trades)."""
        progress = self.progress
        assert progress.run is not None, "call run() (which acquires the run) first"
        started = time.perf_counter()
        first = CyclePhase.OBSERVE if observe or observe_failed else CyclePhase.DECIDE
        cycle = AgentCycle(
            run_id=progress.run.id,
            seq=progress.cycles,
            instrument=symbol,
            phase=first,
            started_at=self.clock.now(),
            updated_at=self.clock.now(),
        )
        if observe:  # the entry is stored before the venue is touched
            await self.journal.add(cycle)
        # else the first record stores it, in the transaction storing the decision: deciding
        # touches neither the venue nor the ledger, and a crash before it leaves nothing to finish
        progress.instrument, progress.phase = symbol, first
        decision: Decision | None = None
        try:
            if observe_failed is not None:
                raise observe_failed
            if observe:
                await self.observe()
                cycle = await self.journal.record(cycle, phase=CyclePhase.DECIDE)
            decision = await self.decide(symbol)
            progress.last_decisions = [decision, *progress.last_decisions][:20]
            cycle = cycle.model_copy(update={"decision_id": decision.id})
            cycle = await self.act(cycle, decision)
        except FfeError as exc:
            progress.last_error = f"{symbol}: {exc}"
            cycle = await self.journal.record(
                cycle, decided=decision, phase=CyclePhase.FAILED, note=str(exc)[:500]
            )
        except StoppedWhileDeciding as halted:
            cycle = await self.journal.record(cycle, phase=CyclePhase.FAILED, note=str(halted))
        finally:
            progress.cycles += 1
            progress.last_cycle_at = self.clock.now()
            self.metrics.agent_cycle(time.perf_counter() - started, self.uptime())
        return cycle

    async def decide(self, symbol: str) -> Decision:
        """The ensemble's decision, unless a stop or a pause comes first: deciding touches
        neither the venue nor the ledger, so a slow provider's call is cancelled and
        StoppedWhileDeciding raised, and the operator's stop or pause takes effect at once; a
        decision made after a pause is not acted on either. Acting is never interrupted: an
        order under way is sent and recorded before the loop ends."""
        if self.halted is None:
            return await self.decisions.decide(symbol, persist=False)
        deciding = asyncio.ensure_future(self.decisions.decide(symbol, persist=False))
        stop = asyncio.ensure_future(self.halted())
        try:
            await asyncio.wait((deciding, stop), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not deciding.done():
                deciding.cancel()
                await asyncio.gather(deciding, stop, return_exceptions=True)
        if stop.done() and not stop.cancelled():  # the stop or pause came first, or with it
            stopping = self.stopping is None or self.stopping()
            if deciding.done() and not deciding.cancelled() and deciding.exception() is not None:
                log.warning(
                    "%s: the decision failed as the agent halted: %r", symbol, deciding.exception()
                )
            raise StoppedWhileDeciding(
                STOPPED_WHILE_DECIDING if stopping else PAUSED_WHILE_DECIDING
            )
        return deciding.result()

    async def act(self, cycle: AgentCycle, decision: Decision) -> AgentCycle:
        """Act on a decision not stored yet: the first journal entry stores it too."""
        record, risk = self.journal.record, decision.risk
        if decision.action is Action.HOLD:
            note = "hold: " + decision.reasoning[:300]
            return await record(cycle, decided=decision, phase=CyclePhase.DONE, note=note)
        if risk is not None and not risk.approved:
            await self.notices.send(
                EventKind.RISK_REJECTION,
                f"Risk rejected {decision.action} {decision.instrument}",
                risk.reason,
                {"instrument": decision.instrument, "action": decision.action.value},
                repeat=rejection_key(decision.instrument, decision.action.value, risk.reason),
            )
            note = "risk rejected: " + risk.reason
            return await record(cycle, decided=decision, phase=CyclePhase.DONE, note=note)
        size = risk.size if risk is not None else decision.suggested_size
        if size is not None and size <= 0:
            note = "nothing to trade at this size"
            return await record(cycle, decided=decision, phase=CyclePhase.DONE, note=note)
        await self.notices.send(
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
            cycle = await record(cycle, decided=decision, phase=CyclePhase.ACT)
            waiting = await self.approvals.still_pending(decision)
            if waiting is not None:  # the person has not answered yet: don't ask again
                note = f"approval {waiting.id} for {decision.action} is still pending"
                return await record(cycle, phase=CyclePhase.DONE, note=note)
            card = await self.card_for(decision) if self.card_for is not None else None
            approval = await self.approvals.request(decision, card)
            return await record(
                cycle, phase=CyclePhase.AWAITING_APPROVAL, note=f"awaiting approval {approval.id}"
            )
        return await self.orders.execute(cycle, decision, stored=False)
