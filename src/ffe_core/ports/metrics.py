"""Metrics as a port, so core services count things without importing a metrics library."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol, runtime_checkable


@runtime_checkable
class Metrics(Protocol):
    def decision_made(self, action: str, latency_seconds: float) -> None: ...

    def provider_called(
        self, provider: str, outcome: str, latency_seconds: float, cost_usd: float
    ) -> None: ...

    def circuit_state(self, name: str, state: str) -> None:
        """``state`` is closed, half_open or open."""
        ...

    def trade_executed(self, instrument: str, side: str) -> None: ...

    def agent_cycle(self, duration_seconds: float, uptime_seconds: float) -> None: ...

    def agent_running(self, running: bool) -> None:
        """True when the agent's loop starts, False when it ends (for any reason)."""
        ...

    def portfolio(self, equity: Decimal, drawdown: Decimal) -> None:
        """The account's marked equity and its drawdown from the peak (0..1), once a pass."""
        ...

    def parity_score(self, score: float) -> None:
        """Today's live / backtest parity score (0..1; ``ffe_core.services.parity``)."""
        ...


class NullMetrics:
    """Counts nothing (tests, CLI one-shots)."""

    def decision_made(self, action: str, latency_seconds: float) -> None:
        pass

    def provider_called(
        self, provider: str, outcome: str, latency_seconds: float, cost_usd: float
    ) -> None:
        pass

    def circuit_state(self, name: str, state: str) -> None:
        pass

    def trade_executed(self, instrument: str, side: str) -> None:
        pass

    def agent_cycle(self, duration_seconds: float, uptime_seconds: float) -> None:
        pass

    def agent_running(self, running: bool) -> None:
        pass

    def portfolio(self, equity: Decimal, drawdown: Decimal) -> None:
        pass

    def parity_score(self, score: float) -> None:
        pass
