"""ffe's Prometheus metrics, in one registry that /metrics exposes (with Litestar's own)."""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from ffe_core.services.circuit import CircuitState

_default: PrometheusMetrics | None = None


class ChangeCounter:
    """Counts changes to ffe's own metrics (every instance), so that an exposition of the
    registry rendered before the last change is known to be stale."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


CHANGES = ChangeCounter()
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class PrometheusMetrics:
    """Implements ``ffe_core.ports.metrics.Metrics`` with prometheus-client collectors.

    Metric names (the deploy dashboards and alert rules rely on them):
    ffe_decisions_total{action}, ffe_decision_latency_seconds, ffe_trades_total{instrument,side},
    ffe_agent_uptime_seconds, ffe_agent_cycle_duration_seconds, ffe_agent_running,
    ffe_circuit_breaker_state{name}, ffe_provider_calls_total{provider,outcome},
    ffe_provider_latency_seconds{provider}, ffe_provider_cost_usd_total{provider},
    ffe_portfolio_equity, ffe_drawdown_ratio, ffe_last_decision_timestamp_seconds.
    ffe_api_requests_total and ffe_api_latency_seconds come from the API's Prometheus middleware.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else REGISTRY
        r = self.registry
        self.decisions = Counter(
            "ffe_decisions_total", "Decisions made, by action", ["action"], registry=r
        )
        self.decision_latency = Histogram(
            "ffe_decision_latency_seconds",
            "Time to produce an ensemble decision",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.last_decision = Gauge(
            "ffe_last_decision_timestamp_seconds", "Unix time of the last decision", registry=r
        )
        self.trades = Counter(
            "ffe_trades_total",
            "Orders filled, by instrument and side",
            ["instrument", "side"],
            registry=r,
        )
        self.uptime = Gauge("ffe_agent_uptime_seconds", "Seconds the agent has run", registry=r)
        self.running = Gauge("ffe_agent_running", "1 while the agent runs", registry=r)
        self.cycle_duration = Histogram(
            "ffe_agent_cycle_duration_seconds",
            "Duration of one OODA cycle",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.circuit = Gauge(
            "ffe_circuit_breaker_state",
            "Circuit breaker state: 0 closed, 1 half-open, 2 open",
            ["name"],
            registry=r,
        )
        self.provider_calls = Counter(
            "ffe_provider_calls_total",
            "Decision provider calls, by outcome",
            ["provider", "outcome"],
            registry=r,
        )
        self.provider_latency = Histogram(
            "ffe_provider_latency_seconds",
            "Decision provider latency",
            ["provider"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.provider_cost = Counter(
            "ffe_provider_cost_usd_total",
            "Estimated provider cost in USD",
            ["provider"],
            registry=r,
        )
        self.equity = Gauge("ffe_portfolio_equity", "Account equity in quote currency", registry=r)
        self.drawdown = Gauge(
            "ffe_drawdown_ratio", "Current drawdown from the equity peak (0..1)", registry=r
        )
        self.parity = Gauge(
            "ffe_parity_score",
            "Today's live / backtest parity: venue fills against the fill model (0..1)",
            registry=r,
        )

    @classmethod
    def default(cls) -> PrometheusMetrics:
        """The process-wide instance on the global registry (what ``/metrics`` exposes)."""
        global _default
        if _default is None:
            _default = cls()
        return _default

    def decision_made(self, action: str, latency_seconds: float) -> None:
        CHANGES.count += 1
        self.decisions.labels(action=action).inc()
        self.decision_latency.observe(latency_seconds)
        self.last_decision.set_to_current_time()

    def provider_called(
        self, provider: str, outcome: str, latency_seconds: float, cost_usd: float
    ) -> None:
        CHANGES.count += 1
        self.provider_calls.labels(provider=provider, outcome=outcome).inc()
        self.provider_latency.labels(provider=provider).observe(latency_seconds)
        if cost_usd:
            self.provider_cost.labels(provider=provider).inc(cost_usd)

    def circuit_state(self, name: str, state: str) -> None:
        CHANGES.count += 1
        self.circuit.labels(name=name).set(CircuitState(state).gauge)

    def trade_executed(self, instrument: str, side: str) -> None:
        CHANGES.count += 1
        self.trades.labels(instrument=instrument, side=side).inc()

    def agent_cycle(self, duration_seconds: float, uptime_seconds: float) -> None:
        CHANGES.count += 1
        self.cycle_duration.observe(duration_seconds)
        self.uptime.set(uptime_seconds)

    def agent_running(self, running: bool) -> None:
        CHANGES.count += 1
        self.running.set(1 if running else 0)

    def portfolio(self, equity: Decimal, drawdown: Decimal) -> None:
        CHANGES.count += 1
        self.equity.set(float(equity))
        self.drawdown.set(float(drawdown))

    def parity_score(self, score: float) -> None:
        CHANGES.count += 1
        self.parity.set(score)
