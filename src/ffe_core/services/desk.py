"""The operator's desk: cancel a working order, flatten one position or all of them.

Nothing here talks to a venue: a cancel goes through :meth:`ExecutionGate.cancel` and a flatten
is a decision (the opposite side, the whole position, by the person named) that the gate checks
and sends like any other. A flatten asks no approval (the person *is* the approval, behind the
dashboard's confirmation), the kill switch lets it through because it reduces, and the risk
manager sizes it as an exit. Every action is written to the audit log with who asked.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.errors import ConflictError, NotFoundError
from ffe_core.domain.orders import Order
from ffe_core.ports.brokers import Broker
from ffe_core.ports.clock import Clock
from ffe_core.ports.control import AUDIT_LOGGER, FlattenResult
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.services.execution import ExecutionGate, Fence

_audit = logging.getLogger(AUDIT_LOGGER)

MANUAL = "manual"
"""The ``aggregation`` of a decision a person made at the desk (no votes behind it)."""


def flatten_decision(instrument: str, held: Decimal, by: str, clock: Clock) -> Decision:
    """The decision that closes ``held`` of ``instrument``: the opposite side, all of it."""
    return Decision(
        instrument=instrument,
        action=Action.SELL if held > 0 else Action.BUY,
        confidence=1.0,
        suggested_size=abs(held),
        reasoning=f"flatten requested by {by}",
        aggregation=MANUAL,
        created_at=clock.now(),
    )


class Desk:
    """Operator actions over one execution gate, inside the agent's fence (the leader's)."""

    def __init__(
        self,
        gate: ExecutionGate,
        broker: Broker,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        fence: Fence,
    ) -> None:
        self.gate = gate
        self.broker = broker
        self.uow_factory = uow_factory
        self.clock = clock
        self.fence = fence

    async def cancel(self, client_order_id: str, by: str) -> Order:
        """Cancel one working order (NotFoundError, ConflictError with the reason)."""
        try:
            order = await self.gate.cancel(client_order_id, fence=self.fence)
        except (NotFoundError, ConflictError) as exc:
            _audit.info("%s: cancel of order %s refused: %s", by, client_order_id, exc)
            raise
        _audit.warning("%s canceled order %s (%s)", by, client_order_id, order.instrument)
        return order

    async def flatten(self, instrument: str, by: str) -> FlattenResult:
        """Close the position in ``instrument``: NotFoundError when there is none, ConflictError
        with the gate's or the venue's reason when nothing was sent."""
        symbol = instrument.upper()
        held = (await self.broker.get_portfolio()).position(symbol).quantity
        if held == 0:
            raise NotFoundError(f"no open position in {symbol}")
        result = await self._close(symbol, held, by)
        if not result.sent:
            raise ConflictError(f"flatten {symbol} not sent: {result.refused}")
        return result

    async def flatten_all(self, by: str) -> list[FlattenResult]:
        """Close every open position; each result says what was sent or why not."""
        portfolio = await self.broker.get_portfolio()
        return [
            await self._close(symbol, position.quantity, by)
            for symbol, position in sorted(portfolio.positions.items())
            if not position.is_flat
        ]

    async def _close(self, symbol: str, held: Decimal, by: str) -> FlattenResult:
        decision = flatten_decision(symbol, held, by, self.clock)
        async with self.uow_factory() as uow:  # stored first: the order names its decision
            await uow.decisions.add(decision)
            await uow.commit()
        result = await self.gate.execute(decision, fence=self.fence)
        outcome = FlattenResult(
            instrument=symbol,
            held=held,
            decision_id=decision.id,
            sent=result.sent,
            order=result.order,
            refused=result.refused,
        )
        if outcome.sent and result.order is not None:
            coid = result.order.client_order_id
            _audit.warning("%s flattened %s (held %s): order %s", by, symbol, held, coid)
        else:
            _audit.info("%s: flatten %s (held %s) not sent: %s", by, symbol, held, result.refused)
        return outcome
