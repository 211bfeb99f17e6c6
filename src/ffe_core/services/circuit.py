"""A circuit breaker with visible state, driven by an injected clock (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from ffe_core.ports.clock import Clock


class CircuitState(StrEnum):
    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"

    @property
    def gauge(self) -> int:
        """Numeric value for ``ffe_circuit_breaker_state``: 0 closed, 1 half-open, 2 open."""
        return {"closed": 0, "half_open": 1, "open": 2}[self.value]


class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive failures; after ``reset_seconds`` lets one
    trial call through (half-open); a success closes it, a failure opens it again.
    """

    def __init__(
        self,
        name: str,
        clock: Clock,
        *,
        failure_threshold: int = 5,
        reset_seconds: float = 30.0,
        on_change: Callable[[str, CircuitState], None] | None = None,
    ) -> None:
        self.name = name
        self._clock = clock
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self._on_change = on_change
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self.last_error: str | None = None

    @property
    def state(self) -> CircuitState:
        if (
            self._state is CircuitState.OPEN
            and self._clock.now().timestamp() - self._opened_at >= self.reset_seconds
        ):
            self._set(CircuitState.HALF_OPEN)
        return self._state

    @property
    def failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """Whether a call may go through now."""
        return self.state is not CircuitState.OPEN

    def record_success(self) -> None:
        self._failures = 0
        self.last_error = None
        if self._state is not CircuitState.CLOSED:
            self._set(CircuitState.CLOSED)

    def record_failure(self, error: str = "") -> None:
        self._failures += 1
        self.last_error = error or self.last_error
        if self.state is CircuitState.HALF_OPEN or self._failures >= self.failure_threshold:
            self._opened_at = self._clock.now().timestamp()
            self._set(CircuitState.OPEN)

    def snapshot(self) -> dict[str, object]:
        return {
            "name": self.name,
            "state": self.state.value,
            "failures": self._failures,
            "last_error": self.last_error,
        }

    def _set(self, state: CircuitState) -> None:
        self._state = state
        if self._on_change is not None:
            self._on_change(self.name, state)
