"""The approval card: the risk a person accepts by approving, computed from the gate's view.

Exposure and VaR before -> after use the book the execution gate sees now (working orders
counted) with the order it would send now; providers' calibration is their Brier over their
last ``approvals.brier_window`` scored votes; the expected fill comes from the fill model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

from ffe_core.config import Settings
from ffe_core.domain.approvals import ApprovalCard
from ffe_core.domain.decisions import Decision
from ffe_core.domain.errors import FfeError
from ffe_core.domain.orders import Fill, Order
from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.services.execution import ExecutionGate
from ffe_core.services.fill_model import FillCosts, commission_for, slipped, with_spread
from ffe_core.services.risk_metrics import ValueAtRisk

log = logging.getLogger(__name__)

VarOf = Callable[[Portfolio], ValueAtRisk]
"""One-bar VaR of a book (``RiskManager.var``); raises ValueError without observed bars."""

OUTCOMES_SCANNED = 5000


def expected_fill(settings: Settings, order: Order, price: Decimal) -> tuple[Decimal, Decimal]:
    """``(fill price, cost)`` of a market ``order`` at ``price`` under the fill model: slippage
    always, spread on an entry (charged here as the card cannot know a reduce from the order)."""
    trading = settings.trading
    costs = FillCosts(
        commission_rate=trading.commission, slippage=trading.slippage, spread=trading.spread
    )
    fill = with_spread(order.side, slipped(order.side, price, costs), costs)
    commission = commission_for(order.quantity, fill, costs)
    return fill, commission + abs(fill - price) * order.quantity


def _var(var_of: VarOf, book: Portfolio) -> Decimal | None:
    if not book.positions:
        return Decimal(0)
    try:
        return Decimal(str(round(var_of(book).var, 2)))
    except ValueError:  # a position without observed bars: unknown, not zero
        return None


class ApprovalCards:
    """Builds the :class:`ApprovalCard` of a decision (None when the gate would send nothing)."""

    def __init__(
        self, settings: Settings, gate: ExecutionGate, var_of: VarOf, uow_factory: UnitOfWorkFactory
    ) -> None:
        self.settings = settings
        self.gate = gate
        self.var_of = var_of
        self.uow_factory = uow_factory

    async def __call__(self, decision: Decision) -> ApprovalCard | None:
        try:
            preview = await self.gate.preview(decision)
        except FfeError as exc:  # no market data now: the card is left out, the ask is not
            log.warning("approval card for %s: %s", decision.id, exc)
            return None
        if isinstance(preview, str):
            return None
        order, now = preview
        book = now.context.portfolio
        price, fill_cost = expected_fill(self.settings, order, now.price)
        after = book.apply(
            Fill(
                client_order_id=order.client_order_id,
                instrument=order.instrument,
                side=order.side,
                quantity=order.quantity,
                price=price,
            )
        )
        marks = now.marks
        agreeing = [v for v in decision.counted_votes if v.action is decision.action]
        window = self.settings.approvals.brier_window
        return ApprovalCard(
            side=order.side.value,
            exposure_before=round(book.gross_exposure(marks), 2),
            exposure_after=round(after.gross_exposure(marks), 2),
            var_before=_var(self.var_of, book),
            var_after=_var(self.var_of, after),
            agreeing=len(agreeing),
            voters=len(decision.counted_votes),
            brier=await self.recent_brier([v.provider for v in agreeing], window),
            brier_window=window,
            expected_price=price,
            expected_cost=round(fill_cost, 2),
        )

    async def recent_brier(self, providers: list[str], window: int) -> dict[str, float | None]:
        """Each provider's mean Brier over its last ``window`` scored votes (None: none yet)."""
        async with self.uow_factory() as uow:
            outcomes = await uow.outcomes.list(limit=OUTCOMES_SCANNED)
        scores: dict[str, list[float]] = {p: [] for p in providers}
        for outcome in reversed(outcomes):  # newest first
            for score in outcome.scores:
                kept = scores.get(score.provider)
                if kept is not None and len(kept) < window:
                    kept.append(score.brier)
        return {p: round(sum(s) / len(s), 4) if s else None for p, s in scores.items()}
