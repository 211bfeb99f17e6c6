"""The cost ledger and its budgets: every call recorded, a provider past a budget abstains with
the reason (the quorum rule decides), one notification per budget and period, fail closed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ffe_adapters.storage.memory import InMemoryStore
from ffe_core.config import Budget, BudgetSettings, CostSettings, EnsembleSettings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.costs import CallOutcome, SpendTotal
from ffe_core.domain.decisions import Action, Decision, ProviderVote
from ffe_core.domain.flight import ProviderSpec
from ffe_core.domain.outcomes import DecisionOutcome, VoteScore
from ffe_core.ports.clock import ManualClock
from ffe_core.ports.notify import EventKind, Notification
from ffe_core.ports.providers import CallPlan
from ffe_core.services.costs import CostLedger, value_for_money
from ffe_core.services.ensemble import Ensemble
from tests.unit.ensemble.fakes import Fixed, context

T0 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


class Priced:
    """A language-model-like provider: each call costs ``cost`` dollars (deterministic)."""

    def __init__(self, name: str, cost: float, action: Action = Action.BUY) -> None:
        self.name, self.cost, self.action = name, cost, action
        self.calls = 0

    def call_plan(self, context: DecisionContext) -> CallPlan:
        spec = ProviderSpec(
            provider=self.name,
            model="fake-llm-1",
            prompt_version="1",
            prompt_hash=hashlib.sha256(b"rendered prompt").hexdigest(),
            input_usd_per_mtok=3.0,
            output_usd_per_mtok=15,
        )
        return CallPlan(spec, "rendered prompt")

    async def vote(self, context: DecisionContext) -> ProviderVote:
        self.calls += 1
        return ProviderVote(
            provider=self.name,
            model="fake-llm-1",
            action=self.action,
            confidence=0.8,
            reasoning="priced",
            tokens_in=1000,
            tokens_out=200,
            cost_usd=self.cost,
        )


class Free(Fixed):
    """A rules provider that says it costs nothing."""

    def call_plan(self, context: DecisionContext) -> CallPlan:
        return CallPlan(ProviderSpec(provider=self.name, model="rules"))


class Inbox:
    name = "inbox"

    def __init__(self) -> None:
        self.events: list[Notification] = []

    async def notify(self, event: Notification) -> None:
        self.events.append(event)


def ledger(
    store: InMemoryStore, clock: ManualClock, inbox: Inbox, budgets: BudgetSettings
) -> CostLedger:
    return CostLedger(CostSettings(budgets=budgets), store, clock, notifier=inbox)


def ensemble(costs: CostLedger, llm: Priced, quorum: int = 2) -> Ensemble:
    providers = {"llm": llm, "trend": Free("trend", Action.BUY, 0.7), "hold": Free("hold")}
    settings = EnsembleSettings(aggregation="weighted_majority", quorum=quorum)
    return Ensemble(providers, settings, costs=costs)


async def test_a_provider_past_its_daily_budget_abstains_and_the_others_decide() -> None:
    store, clock, inbox = InMemoryStore(), ManualClock(T0), Inbox()
    budgets = BudgetSettings(providers={"llm": Budget(daily_usd=1.0)})
    llm = Priced("llm", cost=0.4)
    e = ensemble(ledger(store, clock, inbox, budgets), llm)

    decisions = []
    for _ in range(5):
        decisions.append(await e.decide(context()))
        clock.advance(60)

    assert llm.calls == 3  # $0.40, $0.80, $1.20: the fourth decision finds the budget reached
    for d in decisions[:3]:
        assert not next(v for v in d.votes if v.provider == "llm").abstained
    for d in decisions[3:]:
        vote = next(v for v in d.votes if v.provider == "llm")
        assert vote.abstained and vote.abstain_reason is not None
        assert vote.abstain_reason.startswith("over budget: llm spent $1.2000 today")
        assert "costs.budgets.providers.llm.daily_usd is $1.00" in vote.abstain_reason
        assert len(d.counted_votes) == 2  # trend and hold still answer: quorum decides
        assert "llm abstained (over budget" in d.reasoning
    assert [e.kind for e in inbox.events] == [EventKind.BUDGET]  # once, not per decision
    assert "llm spent $1.2000 today" in inbox.events[0].body

    async with store() as uow:
        calls = await uow.provider_calls.list(provider="llm", limit=10)
        totals = {t.provider: t for t in await uow.provider_calls.totals(T0)}
    assert [c.outcome for c in reversed(calls)] == [CallOutcome.OK] * 3 + [
        CallOutcome.OVER_BUDGET
    ] * 2
    assert {c.decision_id for c in calls} == {d.id for d in decisions}
    assert abs(totals["llm"].cost_usd - 1.2) < 1e-9
    assert (totals["llm"].tokens_in, totals["llm"].tokens_out) == (3000, 600)
    assert totals["trend"].calls == 5 and totals["trend"].cost_usd == 0.0


async def test_quorum_not_met_without_the_refused_provider_holds_with_the_reason() -> None:
    store, clock, inbox = InMemoryStore(), ManualClock(T0), Inbox()
    budgets = BudgetSettings(providers={"llm": Budget(daily_usd=0.0)})
    llm = Priced("llm", cost=0.4)
    e = ensemble(ledger(store, clock, inbox, budgets), llm, quorum=3)

    d = await e.decide(context())

    assert llm.calls == 0
    assert d.action is Action.HOLD
    assert "quorum not met, 2 of 3" in d.reasoning and "over budget" in d.reasoning


async def test_the_overall_budget_holds_priced_providers_only_and_a_new_day_frees_them() -> None:
    store, clock, inbox = InMemoryStore(), ManualClock(T0), Inbox()
    llm = Priced("llm", cost=0.6)
    e = ensemble(ledger(store, clock, inbox, BudgetSettings(daily_usd=1.0)), llm)

    await e.decide(context())
    await e.decide(context())
    third = await e.decide(context())

    assert llm.calls == 2
    refused = {v.provider: v.abstain_reason for v in third.votes if v.abstained}
    assert list(refused) == ["llm"]  # free providers cannot overspend: still asked
    assert "all priced providers together spent $1.2000 today" in (refused["llm"] or "")
    assert "costs.budgets.daily_usd is $1.00" in (refused["llm"] or "")

    clock.advance(9 * 3600 + 1)  # past midnight UTC: a new daily budget
    fourth = await e.decide(context())
    assert llm.calls == 3 and not fourth.votes[0].abstained


async def test_the_monthly_budget_counts_every_day_of_the_month() -> None:
    store, clock, inbox = InMemoryStore(), ManualClock(T0), Inbox()
    llm = Priced("llm", cost=1.0)
    costs = ledger(store, clock, inbox, BudgetSettings(providers={"llm": Budget(monthly_usd=2)}))
    e = ensemble(costs, llm)
    await e.decide(context())
    clock.advance(86400)
    await e.decide(context())
    clock.advance(86400)
    d = await e.decide(context())
    assert llm.calls == 2
    assert "this month (UTC), costs.budgets.providers.llm.monthly_usd" in str(
        d.votes[0].abstain_reason
    )
    report = await costs.report()
    line = next(p for p in report.providers if p.scope == "llm")
    assert (line.spent_today_usd, line.spent_month_usd, line.exhausted) == (0.0, 2.0, True)
    assert report.total.spent_month_usd == 2.0 and report.total.daily_budget_usd is None


async def test_the_alert_is_sent_once_per_period_even_from_a_fresh_process() -> None:
    store, clock = InMemoryStore(), ManualClock(T0)
    budgets = BudgetSettings(providers={"llm": Budget(daily_usd=0.0)})
    first, second = Inbox(), Inbox()
    await ensemble(ledger(store, clock, first, budgets), Priced("llm", 0.1)).decide(context())
    await ensemble(ledger(store, clock, second, budgets), Priced("llm", 0.1)).decide(context())
    assert len(first.events) == 1 and second.events == []
    clock.advance(86400)
    await ensemble(ledger(store, clock, second, budgets), Priced("llm", 0.1)).decide(context())
    assert len(second.events) == 1  # a new day, a new period


async def test_budgets_fail_closed_when_the_ledger_cannot_be_read() -> None:
    store, clock, inbox = InMemoryStore(), ManualClock(T0), Inbox()
    costs = ledger(store, clock, inbox, BudgetSettings(daily_usd=10.0))

    class Broken:
        def __call__(self) -> object:
            raise ConnectionError("database down")

    costs.uow_factory = Broken()  # type: ignore[assignment]
    llm = Priced("llm", cost=0.1)
    d = await ensemble(costs, llm).decide(context())
    assert llm.calls == 0
    assert "cost ledger cannot be read" in str(d.votes[0].abstain_reason)
    assert not d.votes[1].abstained  # a free provider is not held


async def test_without_budgets_nothing_is_refused_and_every_call_is_recorded() -> None:
    store, clock, inbox = InMemoryStore(), ManualClock(T0), Inbox()
    llm = Priced("llm", cost=5.0)
    e = ensemble(ledger(store, clock, inbox, BudgetSettings()), llm)
    d = await e.decide(context())
    assert llm.calls == 1 and not d.votes[0].abstained
    async with store() as uow:
        calls = await uow.provider_calls.list(decision_id=d.id)
    assert sorted(c.provider for c in calls) == ["hold", "llm", "trend"]
    llm_call = next(c for c in calls if c.provider == "llm")
    assert (llm_call.model, llm_call.cost_usd, llm_call.tokens_in) == ("fake-llm-1", 5.0, 1000)


def test_value_for_money_per_dollar() -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    decision = Decision(
        id="d1",
        instrument="BTC-USD",
        action=Action.BUY,
        confidence=0.7,
        votes=(
            ProviderVote(provider="llm", action=Action.BUY, confidence=0.9),
            ProviderVote(provider="trend", action=Action.BUY, confidence=0.6),
            ProviderVote(provider="hold", action=Action.HOLD, confidence=0.3),
        ),
        weights={"llm": 3.0, "trend": 1.0, "hold": 1.0},
        created_at=at,
    )

    def score(provider: str, action: Action, confidence: float, hit: bool) -> VoteScore:
        b = (confidence - (1.0 if hit else 0.0)) ** 2
        return VoteScore(
            provider=provider,
            action=action,
            confidence=confidence,
            hit=hit,
            brier=b,
            pnl=0.0,
            weight_before=1.0,
            weight_after=1.0,
        )

    outcome = DecisionOutcome(
        decision_id="d1",
        instrument="BTC-USD",
        action=Action.BUY,
        horizon="1h",
        decided_at=at,
        due_at=at,
        realized_return=0.01,
        trade_pnl=Decimal("80"),
        scores=(
            score("llm", Action.BUY, 0.9, True),
            score("trend", Action.BUY, 0.6, True),
            score("hold", Action.HOLD, 0.3, False),
        ),
    )
    spend = [
        SpendTotal(provider="llm", calls=10, cost_usd=2.0),
        SpendTotal(provider="trend", calls=10),
    ]
    values = {v.provider: v for v in value_for_money([outcome], {"d1": decision}, spend, 30)}

    llm = values["llm"]
    assert abs(llm.brier_improvement - (0.25 - 0.01)) < 1e-12
    assert abs(llm.pnl_usd - 60.0) < 1e-9  # 3/4 of the BUY voters' weight
    assert abs((llm.pnl_per_usd or 0) - 30.0) < 1e-9
    assert abs((llm.brier_improvement_per_usd or 0) - 0.12) < 1e-12
    assert abs(values["trend"].pnl_usd - 20.0) < 1e-9
    assert values["trend"].pnl_per_usd is None  # it cost nothing
    assert values["hold"].pnl_usd == 0.0  # it voted against the trade
    assert abs(values["hold"].brier_improvement - 0.16) < 1e-12  # a timid miss is calibrated


async def test_value_reads_the_traded_decisions_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ledger's value report splits each traded decision's P&L among its backers; the
    decisions are read in one ``get_many`` (they were read one query each)."""
    from ffe_adapters.storage import memory

    at = datetime(2026, 3, 1, tzinfo=UTC)
    store, clock = InMemoryStore(), ManualClock(at)
    decisions = [
        Decision(
            instrument="BTC-USD",
            action=Action.BUY,
            confidence=0.7,
            votes=(
                ProviderVote(provider="llm", action=Action.BUY, confidence=0.9),
                ProviderVote(provider="trend", action=Action.BUY, confidence=0.6),
            ),
            weights={"llm": 3.0, "trend": 1.0},
            created_at=at,
        )
        for _ in range(3)
    ]
    async with store() as uow:
        for n, d in enumerate(decisions):
            await uow.decisions.add(d)
            await uow.outcomes.add(
                DecisionOutcome(
                    decision_id=d.id,
                    instrument="BTC-USD",
                    action=Action.BUY,
                    horizon="1h",
                    decided_at=at,
                    due_at=at,
                    realized_return=0.01,
                    trade_pnl=None if n == 2 else Decimal("40"),  # the third traded nothing
                    scored_at=at,
                )
            )
        await uow.commit()

    async def one_by_one(self: object, decision_id: str) -> None:
        raise AssertionError("a decision read on its own")

    monkeypatch.setattr(memory._Decisions, "get", one_by_one)
    ledger = CostLedger(CostSettings(), store, clock)
    values = {v.provider: v for v in await ledger.value("1h", 30)}
    assert abs(values["llm"].pnl_usd - 60.0) < 1e-9  # 3/4 of 2 x 40
    assert abs(values["trend"].pnl_usd - 20.0) < 1e-9
