"""The gate before live trading, as the agent sees it: may a run start now?

``trading.mode: live`` starts only when a stored walk-forward replay of the configured stack
passes the configured limits (:mod:`ffe_core.backtest.live_gate`). Where that report is kept is
an entry point's business; the agent asks this port each time a run is acquired, whichever path
asked for it (``ffe agent run``, ``ffe serve --agent``, ``POST /api/bot/start``, the agent
process under ``ffe serve``, a standby taking over the lease).
"""

from __future__ import annotations

from typing import Protocol

from ffe_core.domain.errors import ConflictError


class LiveGateRefused(ConflictError):
    """Live trading may not start: the message is one line naming the failing criteria."""


class LiveGate(Protocol):
    def refusal(self) -> str | None:
        """One line saying why a live run may not start now; None when it may (paper trading,
        a passing report, or the gate disabled by configuration)."""
        ...


NO_GATE = (
    "live trading refused by the live gate: this agent was built without one "
    "(trading.mode live needs a live gate, or live_gate.enabled: false)"
)
"""What an agent built without a gate says when asked to trade live with the gate enabled."""
