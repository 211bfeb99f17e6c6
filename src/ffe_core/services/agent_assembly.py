"""A TradingAgent with its collaborators: the one execution gate, marking prices for risk,
scoring due outcomes and sharing the risk state after each pass. The container calls
:func:`assemble_agent`; nothing here names an adapter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from ffe_core.config import Settings
from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.brokers import Broker
from ffe_core.ports.clock import Clock
from ffe_core.ports.lease import LeaderLease
from ffe_core.ports.live_gate import LiveGate
from ffe_core.ports.metrics import Metrics
from ffe_core.ports.notify import Notifier
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.services.agent import TradingAgent
from ffe_core.services.approval_cards import ApprovalCards
from ffe_core.services.approvals import ApprovalService
from ffe_core.services.decisions import DecisionService
from ffe_core.services.execution import ExecutionGate
from ffe_core.services.flight import FlightRecorder
from ffe_core.services.kill_switch import SharedRiskState
from ffe_core.services.learning import LearningService, outcome_price_lookup
from ffe_core.services.market_data import MarketDataService, mark_prices
from ffe_core.services.notify import FanoutNotifier
from ffe_core.services.parity import ParityService


def assemble_agent(
    settings: Settings,
    decisions: DecisionService,
    broker: Broker,
    approvals: ApprovalService,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    notifiers: Sequence[Notifier],
    metrics: Metrics,
    market_data: MarketDataService,
    risk_state: SharedRiskState,
    learning: LearningService,
    lease: LeaderLease | None,
    recorder: FlightRecorder | None = None,
    parity: ParityService | None = None,
    ledger_changed: Callable[[], None] | None = None,
    live_gate: LiveGate | None = None,
) -> TradingAgent:
    """The agent; every process on the storage shares the kill switch through ``risk_state``
    (a reset from the CLI reaches the server, and no stale view overwrites a trip)."""
    lookup = outcome_price_lookup(market_data, settings.instrument, settings.market_data.interval)

    async def prices(portfolio: Portfolio) -> dict[str, Decimal]:
        return await mark_prices(
            portfolio, settings.instrument, market_data, at_cost_when_unpriced=False
        )

    async def score_outcomes() -> None:
        await learning.score_due(clock.now(), lookup)

    measured: list[datetime] = []

    async def measure_parity() -> None:
        """Today's score on the gauge, at most every ``parity.gauge_every_seconds``."""
        now = clock.now()
        every = settings.parity.gauge_every_seconds
        if parity is None or (measured and (now - measured[-1]).total_seconds() < every):
            return
        measured[:] = [now]
        await parity.report()

    risk = risk_state.manager
    notifier = FanoutNotifier(notifiers)
    gate = ExecutionGate(
        settings,
        broker,
        uow_factory,
        clock,
        decisions,
        risk=risk,
        kill_switch=risk.kill_switch,
        notifier=notifier,
        metrics=metrics,
        recorder=recorder,
        ledger_changed=ledger_changed,
    )
    return TradingAgent(
        settings,
        decisions,
        broker,
        approvals,
        uow_factory,
        clock,
        notifier=notifier,
        metrics=metrics,
        prices=prices,
        equity_watch=risk_state,
        after_pass=[score_outcomes, risk_state.save, measure_parity],
        lease=lease,
        gate=gate,
        with_decisions=decisions,
        card_for=ApprovalCards(settings, gate, risk.var, uow_factory),
        parity=parity.report if parity is not None else None,
        live_gate=live_gate,
    )
