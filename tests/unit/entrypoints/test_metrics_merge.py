"""The API's /metrics with the agent process's families merged in."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ffe_entrypoints.services.metrics_merge import families_data, merge_expositions


def registry(
    running: float, decisions: int, equity: float | None, api_requests: int
) -> CollectorRegistry:
    r = CollectorRegistry()
    Gauge("ffe_agent_running", "1 while the agent runs", registry=r).set(running)
    Counter("ffe_decisions", "decisions", ["action"], registry=r).labels("buy").inc(decisions)
    Histogram("ffe_agent_cycle_duration_seconds", "cycle", registry=r).observe(0.1)
    if equity is not None:
        Gauge("ffe_portfolio_equity", "equity", registry=r).set(equity)
    if api_requests:
        Counter("ffe_api_requests", "requests", registry=r).inc(api_requests)
    Gauge("process_open_fds", "not ffe's: stays in its process", registry=r).set(running + 7)
    return r


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if not s.name.endswith("_created")
    }


def test_gauges_are_the_agent_process_s_and_counters_add_up() -> None:
    api = registry(running=0, decisions=2, equity=None, api_requests=5)
    agent = registry(running=1, decisions=3, equity=10_500.0, api_requests=0)

    merged = merge_expositions(api.collect(), families_data(agent.collect())).decode()

    got = samples(merged)
    assert got[("ffe_agent_running", ())] == 1
    assert got[("ffe_portfolio_equity", ())] == 10_500.0
    assert got[("ffe_decisions_total", (("action", "buy"),))] == 5
    assert got[("ffe_agent_cycle_duration_seconds_count", ())] == 2
    assert got[("ffe_api_requests_total", ())] == 5
    assert got[("process_open_fds", ())] == 7  # the API's own
    assert merged.count("# TYPE ffe_agent_running ") == 1  # one family, scrapeable


def test_without_an_agent_exposition_the_api_s_is_unchanged() -> None:
    api = registry(running=0, decisions=2, equity=None, api_requests=5)
    merged = merge_expositions(api.collect(), []).decode()
    assert samples(merged) == samples(generate_latest(api).decode())
