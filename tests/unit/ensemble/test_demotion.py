"""The optional demote rule: a provider whose trades did not pay for it is held at a weight
floor (off by default); free providers and those not yet scored enough are left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ffe_adapters.storage.memory import InMemoryStore
from ffe_core.config import CostSettings, DemoteSettings
from ffe_core.domain.costs import ProviderCall
from ffe_core.domain.decisions import Action, Decision, ProviderVote
from ffe_core.domain.outcomes import DecisionOutcome, VoteScore
from ffe_core.ports.clock import ManualClock
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.services.costs import CostLedger
from ffe_core.services.demotion import DemotingWeights, demotions, weight_source

T0 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
RULE = DemoteSettings(enabled=True, weight_floor=0.1, min_scored=2, refresh_seconds=60)


class Learned:
    """The learned weights: everyone at 2.0."""

    async def weights(self, providers: list[str]) -> dict[str, float]:
        return dict.fromkeys(providers, 2.0)


async def seed(
    store: UnitOfWorkFactory, llm_cost: float, trade_pnl: str, now: datetime = T0
) -> None:
    """Two scored trades backed by ``llm`` (priced) and ``trend`` (free) at the ``1h`` horizon,
    and llm's spend, in the hours before ``now``."""
    async with store() as uow:
        for i in range(2):
            at = now - timedelta(hours=3 - i)
            decision = Decision(
                id=f"d{i}",
                instrument="BTC-USD",
                action=Action.BUY,
                confidence=0.7,
                votes=(
                    ProviderVote(provider="llm", action=Action.BUY, confidence=0.8),
                    ProviderVote(provider="trend", action=Action.BUY, confidence=0.6),
                ),
                weights={"llm": 1.0, "trend": 1.0},
                created_at=at,
            )
            await uow.decisions.add(decision)
            scores = tuple(
                VoteScore(
                    provider=p,
                    action=Action.BUY,
                    confidence=0.7,
                    hit=True,
                    brier=0.09,
                    pnl=0.0,
                    weight_before=1.0,
                    weight_after=1.0,
                )
                for p in ("llm", "trend")
            )
            await uow.outcomes.add(
                DecisionOutcome(
                    decision_id=decision.id,
                    instrument="BTC-USD",
                    action=Action.BUY,
                    horizon="1h",
                    decided_at=at,
                    due_at=at + timedelta(hours=1),
                    realized_return=0.01,
                    trade_pnl=Decimal(trade_pnl),
                    scores=scores,
                )
            )
        await uow.provider_calls.add_all(
            [ProviderCall(provider="llm", at=now - timedelta(hours=1), cost_usd=llm_cost)]
        )
        await uow.commit()


async def demoting(store: InMemoryStore, clock: ManualClock) -> DemotingWeights:
    ledger = CostLedger(CostSettings(demote=RULE), store, clock)
    source = weight_source(Learned(), ledger, "1h", RULE, clock)
    assert isinstance(source, DemotingWeights)
    return source


async def test_a_provider_whose_trades_do_not_cover_its_cost_is_held_at_the_floor() -> None:
    store, clock = InMemoryStore(), ManualClock(T0)
    await seed(store, llm_cost=50.0, trade_pnl="10")  # llm's share: 2 x 5 = 10 < 50
    source = await demoting(store, clock)
    assert await source.weights(["llm", "trend"]) == {"llm": 0.1, "trend": 2.0}
    assert "does not cover its cost 50.00" in source.reasons["llm"]


async def test_a_provider_that_pays_for_itself_keeps_its_weight() -> None:
    store, clock = InMemoryStore(), ManualClock(T0)
    await seed(store, llm_cost=5.0, trade_pnl="10")  # llm's share 10 >= 5
    source = await demoting(store, clock)
    assert await source.weights(["llm", "trend"]) == {"llm": 2.0, "trend": 2.0}


async def test_too_few_scored_votes_are_not_judged() -> None:
    store, clock = InMemoryStore(), ManualClock(T0)
    await seed(store, llm_cost=50.0, trade_pnl="10")
    rule = RULE.model_copy(update={"min_scored": 3})
    source = DemotingWeights(Learned(), CostLedger(CostSettings(), store, clock), "1h", rule, clock)
    assert (await source.weights(["llm"]))["llm"] == 2.0


def test_the_rule_is_off_by_default() -> None:
    store, clock = InMemoryStore(), ManualClock(T0)
    learned = Learned()
    ledger = CostLedger(CostSettings(), store, clock)
    assert CostSettings().demote.enabled is False
    assert weight_source(learned, ledger, "1h", CostSettings().demote, clock) is learned


async def test_demotions_name_who_is_held_and_why_and_nobody_when_the_rule_is_off() -> None:
    store, clock = InMemoryStore(), ManualClock(T0)
    await seed(store, llm_cost=50.0, trade_pnl="10")
    found = await demotions(await demoting(store, clock))
    assert list(found) == ["llm"] and "does not cover its cost 50.00" in found["llm"]
    assert await demotions(Learned()) == {}
