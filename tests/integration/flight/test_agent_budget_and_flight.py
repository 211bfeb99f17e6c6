"""Through the container on SQLite: a budget reached mid-run makes a priced provider abstain and
the agent trade on; every decision is recorded, explained from input to fills, and replayed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers

from ffe_core.domain.agent import CyclePhase
from ffe_core.domain.costs import CallOutcome
from ffe_core.domain.decisions import Action
from ffe_core.domain.performance import ProviderStats
from ffe_core.ports.notify import EventKind
from ffe_core.prompts import PROMPT_VERSION
from ffe_core.services.flight_explain import describe_replay, explain
from ffe_entrypoints.container import Container, build_container
from ffe_entrypoints.lifecycle import shutdown, startup
from ffe_entrypoints.settings import load_settings
from tests.unit.ensemble.test_budgets import Free, Inbox, Priced


def make(tmp_path: Path, **environ: str) -> Container:
    settings = load_settings(
        tmp_path,
        environ={
            "FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}",
            "FFE_AGENT__INSTRUMENTS": '["BTC-USD"]',
            "FFE_ENSEMBLE__AGGREGATION": "weighted_majority",
            **environ,
        },
    )
    return build_container(settings)


@pytest.fixture
async def budgeted(tmp_path: Path) -> AsyncIterator[tuple[Container, Priced, Inbox]]:
    c = make(tmp_path, FFE_COSTS__BUDGETS='{"providers": {"llm": {"daily_usd": 1.0}}}')
    llm, inbox = Priced("llm", cost=0.4), Inbox()
    c.decision_providers.override(
        providers.Object(
            {"llm": llm, "trend": Free("trend", Action.BUY, 0.7), "hold": Free("hold")}
        )
    )
    c.notifiers.override(providers.Object([inbox]))
    await startup(c)
    yield c, llm, inbox
    await shutdown(c)


async def test_a_budget_reached_mid_run_makes_the_provider_abstain_and_the_run_go_on(
    budgeted: tuple[Container, Priced, Inbox],
) -> None:
    c, llm, inbox = budgeted
    run = await c.agent().run(cycles=6, interval=0)

    async with c.uow_factory()() as uow:
        cycles = sorted(await uow.agent.list_cycles(run_id=run.id), key=lambda x: x.seq)
        decisions = [await uow.decisions.get(str(x.decision_id)) for x in cycles]
        calls = await uow.provider_calls.list(provider="llm", limit=20)
    assert [x.phase for x in cycles] == [CyclePhase.DONE] * 6, [x.note for x in cycles]
    assert llm.calls == 3  # $1.20 after three calls: the budget of $1.00 is reached
    llm_votes = [next(v for v in d.votes if v.provider == "llm") for d in decisions if d]
    assert [v.abstained for v in llm_votes] == [False] * 3 + [True] * 3
    assert all(
        "over budget: llm spent $1.2000 today" in str(v.abstain_reason) for v in llm_votes[3:]
    )
    assert sorted(c.outcome for c in calls) == [CallOutcome.OK] * 3 + [CallOutcome.OVER_BUDGET] * 3
    assert [e.kind for e in inbox.events if e.kind is EventKind.BUDGET] == [EventKind.BUDGET]

    report = await c.cost_ledger().report()
    line = next(p for p in report.providers if p.scope == "llm")
    assert line.exhausted and abs(line.spent_today_usd - 1.2) < 1e-9 and line.calls_today == 6

    # the first decision bought: its trail runs from input snapshot to the paper fill
    first = decisions[0]
    assert first is not None and first.action is Action.BUY
    trail = await c.flight_recorder().trail(first.id)
    assert trail.record is not None and trail.snapshot is not None
    assert trail.snapshot["bars"] and trail.snapshot["instrument"]["symbol"] == "BTC-USD"
    assert {s.provider: s.model for s in trail.record.providers} == {
        "llm": "fake-llm-1",
        "trend": "rules",
        "hold": "rules",
    }
    assert list(trail.prompts.values()) == ["rendered prompt"]
    assert trail.record.config["ensemble"]["aggregation"] == "weighted_majority"
    [gate] = trail.record.gate
    assert gate.sent and gate.client_order_id == trail.orders[0].client_order_id
    # the paper venue filled it at a quote (its default mode) and said which: the parity shadow's
    assert gate.quote is not None and gate.quote.symbol == "BTC-USD"
    assert trail.fills and trail.fills[0].client_order_id == gate.client_order_id
    words = "\n".join(explain(trail))
    for expected in (
        "- llm (model fake-llm-1, prompt v1 ",
        "weight 1.00) voted BUY at confidence 0.80, $0.4000 (1000+200 tokens): priced",
        "Ensemble (weighted_majority): BUY",
        "Risk approved",
        "- confidence:",
        f"sent order {gate.client_order_id}",
        f"against the quote {gate.quote.bid} / {gate.quote.ask}",
        f"Order {gate.client_order_id}: BUY",
        "- fill ",
    ):
        assert expected in words, words

    # a later decision: the refused provider's abstention is in its replay too
    late = decisions[4]
    assert late is not None
    report_late = await c.flight_recorder().replay(late.id, c.weights(), c.decision_providers())
    assert report_late.identical, describe_replay(report_late)


async def test_replay_is_identical_until_a_weight_changes(tmp_path: Path) -> None:
    c = make(tmp_path)
    await startup(c)
    try:
        decision = await c.decision_service().decide("BTC-USD")
        recorder = c.flight_recorder()
        same = await recorder.replay(decision.id, c.weights(), c.decision_providers())
        assert same.identical and same.replayed == same.recorded
        assert describe_replay(same)[-1].startswith("Identical to the recorded decision")
        record = (await recorder.trail(decision.id)).record
        assert record is not None and record.prompt_version == PROMPT_VERSION
        assert {s.provider for s in record.providers} == {"trend", "mean_reversion", "breakout"}
        assert record.providers[0].parameters  # the rules' options, e.g. trend's fast/slow

        async with c.uow_factory()() as uow:
            await uow.provider_stats.save(ProviderStats(provider="trend", weight=3.0))
            await uow.commit()
    finally:
        await shutdown(c)
    # the weight moved by a write this process's learning service did not make (the agent's
    # scoring in its own process): `ffe decisions replay` is a new process, as here
    later = make(tmp_path)
    await startup(later)
    try:
        recorder = later.flight_recorder()
        changed = await recorder.replay(decision.id, later.weights(), later.decision_providers())
        assert not changed.identical
        assert [(d.what, d.recorded, d.now) for d in changed.inputs_changed] == [
            ("weight of trend", "1.0", "3.0")
        ]
        assert "- weight of trend: 1.0 -> 3.0" in describe_replay(changed)
    finally:
        await shutdown(later)


async def test_replay_names_a_changed_config_and_rule_parameter(tmp_path: Path) -> None:
    first = make(tmp_path)
    await startup(first)
    try:
        decision = await first.decision_service().decide("BTC-USD")
    finally:
        await shutdown(first)
    later = make(tmp_path, FFE_ENSEMBLE__MAX_DISAGREEMENT="0.3", FFE_ADAPTERS__TREND='{"fast": 10}')
    await startup(later)
    try:
        report: Any = await later.flight_recorder().replay(
            decision.id, later.weights(), later.decision_providers()
        )
    finally:
        await shutdown(later)
    changes = {d.what: (d.recorded, d.now) for d in report.inputs_changed}
    assert changes["config ensemble.max_disagreement"] == ("0.5", "0.3")
    assert changes["trend parameter fast"] == ("20", "10")
    assert not report.identical
