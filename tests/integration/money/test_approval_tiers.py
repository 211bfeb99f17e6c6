"""Tiered approvals, a chosen smaller size and what an unanswered approval becomes.

The policy decides per notional (auto / veto window / explicit); a size chosen by a person caps
what the one execution gate sends (never above the sized order); an unanswered approval is
denied with the reason by default, approved only in a veto window or when configured.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ffe_adapters.storage.memory import InMemoryUnitOfWorkFactory
from ffe_core.config import ApprovalSettings, Settings
from ffe_core.domain.approvals import ApprovalStatus
from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.errors import ValidationFailed
from ffe_core.domain.orders import Order, Side
from ffe_core.domain.outcomes import DecisionOutcome, VoteScore
from ffe_core.services.approval_cards import ApprovalCards, expected_fill
from ffe_core.services.approvals import ApprovalService, approval_required, expiry_outcome
from ffe_core.services.execution import ExecutionGate, send_approved
from tests.integration.money.test_gate_properties import LIMITS, World, build, decide

TIERS = ApprovalSettings(
    policy="tiered", auto_below_notional=Decimal("1000"), approve_above_notional=Decimal("5000")
)


@pytest.mark.parametrize(
    ("notional", "asks", "unanswered"),
    [
        (Decimal("999.99"), False, "deny"),  # auto: sent at once (no approval to expire)
        (Decimal("1000"), True, "approve"),  # veto window
        (Decimal("4999.99"), True, "approve"),
        (Decimal("5000"), True, "deny"),  # explicit approval, denied when unanswered
        (None, True, "deny"),  # an unsized order always asks
    ],
)
def test_the_tier_of_a_notional(notional: Decimal | None, asks: bool, unanswered: str) -> None:
    assert approval_required(TIERS, notional) is asks
    if asks:
        assert expiry_outcome(TIERS, notional) == unanswered


def test_tiers_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="auto_below_notional"):
        ApprovalSettings(auto_below_notional=Decimal(10), approve_above_notional=Decimal(5))


def world(approvals: ApprovalSettings) -> World:
    w = build(InMemoryUnitOfWorkFactory())
    w.approvals = ApprovalService(approvals, w.uow, w.clock)
    return w


async def test_the_gate_sends_at_most_the_size_a_person_chose() -> None:
    w = world(ApprovalSettings(policy="always"))
    decision = await decide(w, "BTC-USD", Action.BUY, 0.9)
    approval = await w.approvals.request(decision)
    assert approval.size is not None and approval.size > 0
    with pytest.raises(ValidationFailed, match="at most the sized"):
        await w.approvals.resolve(approval.id, True, "alice", approval.size * 2)
    assert (await w.approvals.get(approval.id)).status is ApprovalStatus.PENDING
    quarter = approval.size / 4
    await w.approvals.resolve(approval.id, True, "alice", quarter)
    [(done, result)] = await send_approved(w.approvals, w.gate)
    assert result.sent and result.order is not None
    assert done.approved_size == quarter
    instrument = w.market.instrument("BTC-USD")
    assert result.order.quantity == instrument.round_size(quarter) < approval.size


async def test_an_unanswered_approval_is_denied_with_the_reason_by_default() -> None:
    w = world(ApprovalSettings(policy="always", expiry_seconds=60))
    approval = await w.approvals.request(await decide(w, "BTC-USD", Action.BUY, 0.9))
    w.clock.now_at += timedelta(seconds=61)
    assert await send_approved(w.approvals, w.gate) == []
    expired = await w.approvals.get(approval.id)
    assert expired.status is ApprovalStatus.EXPIRED
    assert expired.reason == "nobody answered in time"
    assert w.venue.sent == {}


async def test_approve_on_expiry_when_configured_still_passes_the_gate() -> None:
    w = world(ApprovalSettings(policy="always", expiry_seconds=60, on_expiry="approve"))
    approval = await w.approvals.request(await decide(w, "BTC-USD", Action.BUY, 0.9))
    assert approval.on_expiry == "approve"
    w.clock.now_at += timedelta(seconds=61)
    [(done, result)] = await send_approved(w.approvals, w.gate)
    assert (done.status, done.decided_by) == (ApprovalStatus.APPROVED, "expiry")
    assert done.reason is not None and "approved on expiry" in done.reason
    assert result.sent
    # ... and the gate's own rules hold: long after, a stale one is expired, not sent
    w2 = world(ApprovalSettings(policy="always", expiry_seconds=600, on_expiry="approve"))
    late = await w2.approvals.request(await decide(w2, "BTC-USD", Action.BUY, 0.9))
    w2.clock.now_at += timedelta(seconds=601)  # past approvals.max_age_seconds (300) as well
    [(stale, refused)] = await send_approved(w2.approvals, w2.gate)
    assert stale.id == late.id and stale.status is ApprovalStatus.EXPIRED
    assert not refused.sent and w2.venue.sent == {}


def defaults_world(approvals: ApprovalSettings) -> World:
    """A world whose gate and approvals share ``approvals`` (default ages: the window and the
    maximum age are both 900 s), the venue checking every approved order's ages."""
    w = world(approvals)
    settings = Settings(risk=LIMITS, approvals=approvals)
    w.gate = ExecutionGate(
        settings, w.venue, w.uow, w.clock, w.market, risk=w.risk, kill_switch=w.risk.kill_switch
    )
    w.venue.max_age = timedelta(seconds=approvals.max_age_seconds)
    return w


VETO_ONLY = ApprovalSettings(
    policy="tiered", auto_below_notional=Decimal(0), approve_above_notional=Decimal(10**12)
)


@pytest.mark.parametrize("by", ["expiry", "person"])
async def test_an_approval_at_the_end_of_its_window_is_sent_with_the_default_ages(by: str) -> None:
    assert VETO_ONLY.expiry_seconds == VETO_ONLY.max_age_seconds  # the defaults
    w = defaults_world(VETO_ONLY)
    decision = await decide(w, "BTC-USD", Action.BUY, 0.9)
    assert decision.reference_price is not None
    w.venue.approved[decision.id] = (decision.created_at, decision.reference_price)
    w.clock.now_at += timedelta(seconds=2)  # the card is built and shown after the decision
    approval = await w.approvals.request(decision)
    assert approval.on_expiry == "approve"
    window_end = approval.expires_at
    if by == "person":
        w.clock.now_at = window_end - timedelta(microseconds=1)
        await w.approvals.resolve(approval.id, True, "alice")
        w.venue.approved_at[decision.id] = w.clock.now()
    else:
        w.clock.now_at = window_end + timedelta(seconds=30)  # the agent's next pass sends it
        w.venue.approved_at[decision.id] = window_end
    [(done, result)] = await send_approved(w.approvals, w.gate)
    assert result.refused is None and result.sent, result
    assert done.status is ApprovalStatus.APPROVED and done.decided_by == (
        "expiry" if by == "expiry" else "alice"
    )
    assert w.venue.violations == []
    # the window closed no later than the decision's maximum age
    assert window_end == decision.created_at + timedelta(seconds=VETO_ONLY.max_age_seconds)


async def test_an_approval_the_agent_sends_long_after_its_window_is_stale() -> None:
    w = defaults_world(VETO_ONLY)
    decision = await decide(w, "BTC-USD", Action.BUY, 0.9)
    approval = await w.approvals.request(decision)
    # the agent was down: the veto window closed long ago and is noticed only now
    w.clock.now_at = approval.expires_at + timedelta(seconds=VETO_ONLY.max_age_seconds + 1)
    [(done, result)] = await send_approved(w.approvals, w.gate)
    assert done.decided_at == approval.expires_at  # approved when its window closed
    assert result.expired and not result.sent and w.venue.sent == {}
    assert done.status is ApprovalStatus.EXPIRED
    assert done.reason is not None and "approved 901s ago" in done.reason


async def test_the_card_shows_exposure_var_agreement_and_the_expected_fill() -> None:
    w = world(ApprovalSettings(policy="always"))
    decision = await decide(w, "BTC-USD", Action.BUY, 0.9)
    cards = ApprovalCards(Settings(), w.gate, w.risk.var, w.uow)
    card = await cards(decision)
    assert card is not None
    assert card.side == "BUY"
    assert card.exposure_before == 0 < card.exposure_after
    assert card.var_before == 0
    assert card.var_after is not None and card.var_after > 0
    assert card.expected_price is not None and card.expected_price > decision.reference_price
    # nothing trades when a card is built
    assert w.venue.sent == {}


def test_expected_fill_is_the_fill_models_price_and_cost() -> None:
    settings = Settings()
    order = Order(
        client_order_id="c1", instrument="BTC-USD", side=Side.BUY, quantity=Decimal("0.5")
    )
    price, cost = expected_fill(settings, order, Decimal("100"))
    t = settings.trading
    want = Decimal("100") * (1 + t.slippage) * (1 + t.spread)
    assert price == want
    assert cost == Decimal("0.5") * want * t.commission + (want - 100) * Decimal("0.5")


async def test_the_card_shows_each_providers_brier_over_its_last_scored_votes() -> None:
    w = world(ApprovalSettings(policy="always"))
    async with w.uow() as uow:
        for i, brier in enumerate([0.5, 0.5, 0.1, 0.2]):  # oldest first; the last two count
            at = w.clock.now() - timedelta(hours=10 - i)
            decision = Decision(
                instrument="BTC-USD", action=Action.BUY, confidence=0.7, created_at=at
            )
            await uow.decisions.add(decision)
            await uow.outcomes.add(
                DecisionOutcome(
                    decision_id=decision.id,
                    instrument="BTC-USD",
                    action=Action.BUY,
                    horizon="1h",
                    decided_at=at,
                    due_at=at + timedelta(hours=1),
                    scores=(
                        VoteScore(
                            provider="a",
                            action=Action.BUY,
                            confidence=0.7,
                            hit=True,
                            brier=brier,
                            pnl=0.0,
                            weight_before=1.0,
                            weight_after=1.0,
                        ),
                    ),
                )
            )
        await uow.commit()
    cards = ApprovalCards(Settings(), w.gate, w.risk.var, w.uow)
    assert await cards.recent_brier(["a", "b"], window=2) == {"a": 0.15, "b": None}
