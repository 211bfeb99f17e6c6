"""The pure learning rules: hits, Brier, P&L shares, bounded weight updates, explanations."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.domain.orders import Fill, Side
from ffe_core.services.learning_scoring import (
    LearningSettings,
    bounded,
    brier,
    explain,
    is_hit,
    next_weight,
    trade_pnl,
    weight_shares,
)

S = LearningSettings()
T = datetime(2026, 1, 1, tzinfo=UTC)


def test_directional_hit_follows_the_sign_of_the_return() -> None:
    assert is_hit(Action.BUY, 0.01, 0.002) and not is_hit(Action.BUY, -0.01, 0.002)
    assert is_hit(Action.SELL, -0.0001, 0.002) and not is_hit(Action.SELL, 0.0, 0.002)


def test_hold_is_a_hit_only_inside_the_band() -> None:
    assert is_hit(Action.HOLD, 0.001, 0.002) and is_hit(Action.HOLD, -0.0019, 0.002)
    assert not is_hit(Action.HOLD, 0.002, 0.002) and not is_hit(Action.HOLD, -0.05, 0.002)


def test_brier_reads_confidence_as_probability_of_being_right() -> None:
    assert brier(1.0, True) == 0.0 and brier(1.0, False) == 1.0
    assert brier(0.7, True) == pytest.approx(0.09) and brier(0.7, False) == pytest.approx(0.49)


def test_weight_shares_ignore_abstentions_and_default_to_equal() -> None:
    votes = [
        ProviderVote(provider="a", action=Action.BUY, confidence=0.6),
        ProviderVote(provider="b", action=Action.SELL, confidence=0.6),
        ProviderVote.abstain("c", "timed out"),
    ]
    assert weight_shares(votes, {"a": 3.0, "b": 1.0, "c": 5.0}) == {"a": 0.75, "b": 0.25}
    assert weight_shares(votes, {}) == {"a": 0.5, "b": 0.5}
    assert weight_shares(votes, {"a": 0.0, "b": 0.0}) == {"a": 0.5, "b": 0.5}
    assert weight_shares(votes[2:], {}) == {}


def test_a_hit_raises_and_a_miss_lowers_the_weight_by_the_learning_rate() -> None:
    assert next_weight(1.0, 1.0, S) == pytest.approx(math.exp(0.06))
    assert next_weight(1.0, -1.0, S) == pytest.approx(math.exp(-0.06))


def test_decay_pulls_toward_one_and_the_bounds_hold() -> None:
    assert 1.0 < next_weight(4.0, 0.0, S) < 4.0
    assert 0.2 < next_weight(0.2, 0.0, S) < 1.0
    assert next_weight(S.w_max, 1.0, S) <= S.w_max
    settings = LearningSettings(decay=0.0)
    w = 1.0
    for _ in range(1000):
        w = next_weight(w, -1.0, settings)
    assert w == settings.w_min


def test_settings_reject_inconsistent_bounds_and_horizons() -> None:
    with pytest.raises(ValueError):
        LearningSettings(w_min=2.0)
    with pytest.raises(ValueError):
        LearningSettings(horizons=("1h",), learn_horizon="4h")
    with pytest.raises(ValueError):
        LearningSettings(horizons=("soon",))
    assert LearningSettings(horizons=("4h", "1d")).learning_horizon == "4h"


def test_explanation_says_what_happened_and_how_the_weight_moved() -> None:
    vote = ProviderVote(provider="trend", action=Action.BUY, confidence=0.7)
    text = explain(vote, True, "BTC-USD", 0.012, "4h", 1.0, 1.06, S)
    assert text == "hit: BUY 0.70 on BTC-USD +1.20% at 4h; weight 1.00 → 1.06"
    assert "capped at 5" in explain(vote, True, "BTC-USD", 0.01, "4h", 5.0, 5.0, S)
    assert "decay" in explain(vote, True, "BTC-USD", 0.01, "4h", 5.0, 4.9, S)
    hold = ProviderVote(provider="x", action=Action.HOLD, confidence=0.5)
    assert "band ±0.20%" in explain(hold, False, "ETH-USD", -0.03, "1h", 1.0, 0.94, S)


def fill(order: str, side: Side, qty: str, price: str, commission: str = "0") -> Fill:
    return Fill(
        client_order_id=order,
        instrument="BTC-USD",
        side=side,
        quantity=Decimal(qty),
        price=Decimal(price),
        commission=Decimal(commission),
        ts=T,
    )


def test_trade_pnl_marks_what_was_opened_at_the_exit_price() -> None:
    fills = [fill("entry", Side.BUY, "2", "100", "0.5")]
    assert trade_pnl(fills, {"entry"}, Decimal("110")) == Decimal("19.5")
    assert trade_pnl(fills, {"other"}, Decimal("110")) is None


def test_trade_pnl_of_a_closing_order_is_its_realized_pnl() -> None:
    fills = [fill("entry", Side.BUY, "2", "100"), fill("exit", Side.SELL, "2", "120", "1")]
    # the exit realized 2 x 20 = 40 less commission; later moves do not change it
    assert trade_pnl(fills, {"exit"}, Decimal("90")) == Decimal("39")


def test_a_round_trip_of_one_decision_counts_once() -> None:
    """Its entry and its own protective exit: realized on the exit, nothing left to mark
    (found by the Coinbase/OANDA/paper ledger test: the entry was also marked at the horizon)."""
    fills = [
        fill("entry", Side.BUY, "2", "100", "0.5"),
        fill("entry-tp", Side.SELL, "2", "110", "0.5"),
    ]
    assert trade_pnl(fills, {"entry", "entry-tp"}, Decimal("130")) == Decimal("19")
    half = [fill("entry", Side.BUY, "2", "100"), fill("entry-tp", Side.SELL, "1", "110")]
    assert trade_pnl(half, {"entry", "entry-tp"}, Decimal("130")) == Decimal("40")  # 10 + 30


def test_trade_pnl_of_a_flip_is_realized_plus_marked_new_position() -> None:
    fills = [fill("entry", Side.BUY, "1", "100"), fill("flip", Side.SELL, "3", "110")]
    # closes 1 at +10, opens a 2-unit short at 110 marked at 105: +10
    assert trade_pnl(fills, {"flip"}, Decimal("105")) == Decimal("20")


@given(
    weight=st.floats(allow_nan=True, allow_infinity=True),
    rewards=st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=200),
    rate=st.floats(min_value=1e-6, max_value=1.0),
    decay=st.floats(min_value=0.0, max_value=0.99),
)
def test_weights_stay_finite_and_within_bounds_for_any_rewards(
    weight: float, rewards: list[float], rate: float, decay: float
) -> None:
    settings = LearningSettings(learning_rate=rate, decay=decay, w_min=0.05, w_max=5.0)
    w = bounded(weight, settings)
    assert settings.w_min <= w <= settings.w_max
    for r in rewards:
        w = next_weight(w, r, settings)
        assert math.isfinite(w) and settings.w_min <= w <= settings.w_max
