"""Parity, measured, end to end: an agent run on the paper venue scores 1.0 in its default
``quote`` mode (the shadow fills on the quotes the venue recorded it filled at) and filling at
the next bar's open (as the backtester does), entries and venue-side exits alike; the same run
through a venue that fills every order 25 bps worse scores 0.5, sets the ``ffe_parity_score``
gauge, and `promtool test rules` shows FfeParityDegraded firing on the scraped series (and
silent on the paper one)."""

from __future__ import annotations

import logging
import shutil
import subprocess
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from dependency_injector import providers
from deploy_support import ALERT_RULES
from prometheus_client import CollectorRegistry
from tests.unit.agent.test_agent_lifecycle import make

from ffe_adapters.brokers.paper.execution import PaperBroker
from ffe_adapters.telemetry.prometheus import PrometheusMetrics
from ffe_core.domain.market import Quote
from ffe_core.domain.orders import Fill, Order, OrderStatus, Side
from ffe_core.domain.parity import ParityReport, ParityStatus
from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.brokers import VenueKind
from ffe_core.ports.clock import ManualClock
from ffe_entrypoints.container import Container
from ffe_entrypoints.lifecycle import shutdown, startup

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LABELS = '{job="ffe-backend", instance="backend:8000"}'
SLIP = Decimal("0.0025")  # 25 bps, half of parity.tolerance_bps' default 50


class SlippingVenue:
    """The paper venue, reporting every fill ``SLIP`` worse than it made it (a venue's
    slippage the fill model does not expect)."""

    name = "slipping-paper"
    venue = VenueKind.SIMULATED

    def __init__(self, inner: PaperBroker) -> None:
        self.inner = inner

    def _worse(self, side: Side, price: Decimal) -> Decimal:
        return (price * (1 + SLIP * side.sign)).quantize(Decimal("0.01"))

    def _order(self, order: Order | None) -> Order | None:
        if order is None or order.average_fill_price is None:
            return order
        return order.model_copy(
            update={"average_fill_price": self._worse(order.side, order.average_fill_price)}
        )

    async def submit_order(self, order: Order) -> Order:
        answer = self._order(await self.inner.submit_order(order))
        assert answer is not None
        return answer

    async def get_order(self, client_order_id: str) -> Order | None:
        return self._order(await self.inner.get_order(client_order_id))

    async def cancel_order(self, client_order_id: str) -> Order:
        return await self.inner.cancel_order(client_order_id)

    async def get_portfolio(self) -> Portfolio:
        return await self.inner.get_portfolio()

    async def list_fills(self, client_order_id: str | None = None) -> list[Fill]:
        fills = await self.inner.list_fills(client_order_id)
        return [f.model_copy(update={"price": self._worse(f.side, f.price)}) for f in fills]

    async def fill_quote(self, client_order_id: str) -> Quote | None:
        return await self.inner.fill_quote(client_order_id)  # the quote is true, the fill worse

    async def process_market(self) -> list[Order]:
        changed = [self._order(o) for o in await self.inner.process_market()]
        return [o for o in changed if o is not None]

    async def close(self) -> None:
        await self.inner.close()


async def run_agent(
    tmp_path: Path, slipping: bool, cycles: int = 10, market_fill: str | None = None
) -> tuple[ParityReport, float | None]:
    """An hour-per-cycle agent run on the bundled data (a ManualClock, so each cycle sees a new
    bar) with the paper venue in its default fill mode (or ``market_fill``); the day's parity
    and the gauge."""
    fill_mode = {"FFE_ADAPTERS__PAPER__MARKET_FILL": market_fill} if market_fill else {}
    container: Container = make(
        tmp_path, FFE_ADAPTERS__BUNDLED__SECONDS_PER_BAR="3600", **fill_mode
    )
    clock = ManualClock(T0)
    container.clock.override(providers.Object(clock))
    registry = CollectorRegistry()
    container.metrics.override(providers.Object(PrometheusMetrics(registry)))
    if slipping:
        paper = container.venue
        container.broker.override(providers.Singleton(SlippingVenue, paper))
    await startup(container)
    try:
        await container.agent().run(
            cycles=cycles, interval=0, on_cycle=lambda _: clock.advance(3600)
        )
        report = await container.parity().report(T0.date())
    finally:
        await shutdown(container)
    return report, registry.get_sample_value("ffe_parity_score")


@pytest.mark.parametrize("market_fill", [None, "next_bar_open"])
async def test_paper_parity_is_perfect_over_an_agent_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, market_fill: str | None
) -> None:
    caplog.set_level(logging.INFO, logger="ffe.notify")
    report, gauge = await run_agent(tmp_path, False, 16, market_fill)  # past midnight
    assert report.judged >= 2, report
    assert report.score == 1.0
    assert {f.status for f in report.fills} == {ParityStatus.BOTH}
    # the default mode is judged on the recorded quotes, the other on the bars the agent saw
    assert {f.quote for f in report.fills} == {market_fill is None}
    assert any(f.exit for f in report.fills), "a venue-side exit (stop-loss) is judged too"
    assert all(f.slippage_bps == 0 and f.pnl_divergence == 0 for f in report.fills)
    assert gauge == 1.0
    # the next day's summary carries the day's parity
    summaries = [
        r.__dict__["event_fields"]
        for r in caplog.records
        if r.__dict__.get("event_kind") == "daily_summary"
    ]
    assert {"parity": f"1.000 ({report.judged} fills judged)"} in [
        {"parity": f["parity"]} for f in summaries if "parity" in f
    ], summaries


async def test_paper_parity_stays_perfect_when_another_process_syncs_the_venue_fills(
    tmp_path: Path,
) -> None:
    """The run of ``run_agent``, one cycle per process on the same storage: after each cycle the
    venue fills what the next hour's quote reaches and the process ends before its gate syncs
    (a crash, or another process moving the venue), so the next process's gate records those
    fills, with the quotes the venue kept with them."""
    clock = ManualClock(T0)
    unsynced: set[str] = set()
    for _ in range(16):
        container: Container = make(tmp_path, FFE_ADAPTERS__BUNDLED__SECONDS_PER_BAR="3600")
        container.clock.override(providers.Object(clock))
        await startup(container)
        try:
            await container.agent().run(cycles=1, interval=0)
            clock.advance(3600)
            venue = container.venue()
            assert isinstance(venue, PaperBroker)
            filled = [o for o in await venue.process_market() if o.status is OrderStatus.FILLED]
            unsynced |= {o.client_order_id for o in filled}
        finally:
            await shutdown(container)
    container = make(tmp_path, FFE_ADAPTERS__BUNDLED__SECONDS_PER_BAR="3600")
    container.clock.override(providers.Object(clock))
    await startup(container)
    try:
        await container.agent().gate.sync()
        report = await container.parity().report(T0.date())
    finally:
        await shutdown(container)
    later = [f for f in report.fills if f.client_order_id in unsynced]
    assert any(f.exit for f in later), "a venue-side exit was synced by a later process"
    assert {(f.status, f.quote) for f in later} == {(ParityStatus.BOTH, True)}, later
    assert report.judged >= 2, report
    assert report.score == 1.0, report


async def test_a_slipping_venue_lowers_the_score_and_fires_the_alert(tmp_path: Path) -> None:
    clean, clean_gauge = await run_agent(tmp_path / "paper", slipping=False)
    report, gauge = await run_agent(tmp_path / "slipping", slipping=True)
    assert report.judged >= 2, report
    assert report.score is not None and 0.4 < report.score < 0.6
    assert report.mean_slippage_bps is not None and 24 < report.mean_slippage_bps < 26
    assert report.pnl_divergence > 0
    assert gauge == report.score
    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed (apt-get install -y prometheus provides it)")
    assert clean.score == clean_gauge == 1.0
    tests = {
        "rule_files": [str(ALERT_RULES)],
        "evaluation_interval": "15s",
        "tests": [
            {
                "name": "the gauge as scraped from each run, held for 15 minutes",
                "interval": "1m",
                "input_series": [
                    {"series": f"ffe_parity_score{LABELS}", "values": f"{gauge:g}x15"},
                    {
                        "series": 'ffe_parity_score{job="ffe-backend", instance="paper:8000"}',
                        "values": f"{clean_gauge:g}x15",
                    },
                ],
                "alert_rule_test": [
                    {"eval_time": "5m", "alertname": "FfeParityDegraded", "exp_alerts": []},
                    {
                        "eval_time": "12m",
                        "alertname": "FfeParityDegraded",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "warning",
                                    "job": "ffe-backend",
                                    "instance": "backend:8000",
                                },
                                "exp_annotations": annotations(gauge),
                            }
                        ],
                    },
                ],
            }
        ],
    }
    path = tmp_path / "parity_test.yml"
    path.write_text(yaml.safe_dump(tests, sort_keys=False), encoding="utf-8")
    result = promtool_test_rules(path)
    assert result.returncode == 0, result.stdout + result.stderr


def promtool_test_rules(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", "test", "rules", path.name],
        capture_output=True,
        text=True,
        cwd=path.parent,
        timeout=120,
    )


def annotations(score: float) -> dict[str, str]:
    """FfeParityDegraded's annotations as they render on backend:8000 at ``score``."""
    rule = next(
        r
        for group in yaml.safe_load(ALERT_RULES.read_text(encoding="utf-8"))["groups"]
        for r in group["rules"]
        if r.get("alert") == "FfeParityDegraded"
    )
    found = dict(rule["annotations"])
    found["summary"] = (
        found["summary"]
        .replace("{{ $labels.instance }}", "backend:8000")
        .replace('{{ printf "%.3f" $value }}', f"{score:.3f}")
    )
    return found
