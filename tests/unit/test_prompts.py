"""The language-model prompt and answer contract (pure core)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ffe_core.domain.context import DecisionContext, PastDecision
from ffe_core.domain.decisions import Action
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.domain.market import Bar
from ffe_core.domain.portfolio import Portfolio, Position
from ffe_core.prompts import (
    ANSWER_JSON_SCHEMA,
    AnswerRejected,
    LlmAnswer,
    answer_to_vote,
    feedback_prompt,
    parse_answer,
    prompt_hash,
    render_prompt,
)

END = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _context(n: int = 50, memory: tuple[PastDecision, ...] = (), last: float = 100.0):
    bars = tuple(
        Bar(
            ts=END - timedelta(hours=n - i),
            open=last - (n - 1 - i) * 0.1,
            high=last - (n - 1 - i) * 0.1 + 1,
            low=last - (n - 1 - i) * 0.1 - 1,
            close=last - (n - 1 - i) * 0.1,
            volume=10.0,
        )
        for i in range(n)
    )
    return DecisionContext(
        instrument=Instrument(
            symbol="ETH-USD", asset_class=AssetClass.CRYPTO, base="ETH", quote="USD"
        ),
        as_of=END,
        bars=bars,
        indicators={"rsi_14": 55.5, "atr_14": 1.25},
        position=Position(instrument="ETH-USD", quantity=Decimal("2"), average_price=Decimal("90")),
        portfolio=Portfolio(
            cash=Decimal("5000"),
            positions={
                "ETH-USD": Position(
                    instrument="ETH-USD", quantity=Decimal("2"), average_price=Decimal("90")
                )
            },
        ),
        memory=memory,
    )


def test_prompt_shows_only_the_last_bars_and_the_account() -> None:
    prompt = render_prompt(_context(), max_bars=10)

    assert prompt.user.count("\n2026-") == 10
    assert "Last 10 bars" in prompt.user
    assert "rsi_14: 55.5" in prompt.user
    assert "quantity 2 at average price 90" in prompt.user
    assert "cash 5000 USD, equity 5200.00 USD" in prompt.user
    assert "Recent decisions on ETH-USD and their outcomes:\nnone" in prompt.user


def test_prompt_lists_memory_with_outcomes() -> None:
    memory = (
        PastDecision(
            created_at=END - timedelta(days=2),
            action=Action.SELL,
            confidence=0.8,
            outcome_return=-0.031,
        ),
        PastDecision(created_at=END - timedelta(days=1), action=Action.BUY, confidence=0.55),
    )
    user = render_prompt(_context(memory=memory)).user

    assert "SELL (confidence 0.80): return -3.10%" in user
    assert "BUY (confidence 0.55): pending" in user


def test_prompt_hash_is_stable_and_changes_with_the_context() -> None:
    a = prompt_hash(render_prompt(_context()))
    assert a == prompt_hash(render_prompt(_context()))
    assert a != prompt_hash(render_prompt(_context(last=101.0)))
    assert a != prompt_hash(render_prompt(_context(), max_bars=5))


def test_schema_and_model_name_the_same_fields() -> None:
    assert set(ANSWER_JSON_SCHEMA["properties"]) == set(LlmAnswer.model_fields)
    assert set(ANSWER_JSON_SCHEMA["required"]) == set(LlmAnswer.model_fields)


def test_valid_answer_becomes_a_vote_with_decimal_levels() -> None:
    answer = parse_answer(
        '{"action":"SELL","confidence":0.6,"reasoning":"Lower highs.",'
        '"stop_loss":104.5,"take_profit":92}',
        last_price=100.0,
    )
    vote = answer_to_vote(answer, provider="x", model="m", tokens_in=5, cost_usd=0.01)

    assert vote.action is Action.SELL
    assert vote.stop_loss == Decimal("104.5")
    assert vote.take_profit == Decimal("92")
    assert (vote.tokens_in, vote.cost_usd) == (5, 0.01)


def test_hold_drops_protective_levels() -> None:
    answer = parse_answer(
        {
            "action": "HOLD",
            "confidence": 0.3,
            "reasoning": "Mixed.",
            "stop_loss": 1,
            "take_profit": 1,
        },
        last_price=100.0,
    )
    vote = answer_to_vote(answer, provider="x", model=None)
    assert vote.stop_loss is None and vote.take_profit is None


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ('{"action":"BUY","confidence":2,"reasoning":"x"}', "confidence"),
        ('{"action":"LONG","confidence":0.5,"reasoning":"x"}', "action"),
        ('{"action":"BUY","confidence":0.5}', "reasoning"),
        ('{"action":"BUY","confidence":0.5,"reasoning":"x","extra":1}', "extra"),
        ('{"action":"BUY","confid', "Invalid JSON"),
        ('{"action":"BUY","confidence":0.5,"reasoning":"x","stop_loss":101}', "wrong side"),
        ('{"action":"SELL","confidence":0.5,"reasoning":"x","take_profit":101}', "wrong side"),
    ],
)
def test_bad_answers_are_rejected_with_a_reason(payload: str, fragment: str) -> None:
    with pytest.raises(AnswerRejected, match=fragment):
        parse_answer(payload, last_price=100.0)


def test_feedback_prompt_keeps_the_question_and_adds_the_problem() -> None:
    prompt = render_prompt(_context())
    again = feedback_prompt(prompt, '{"action":"LONG"}', "action: bad value")

    assert again.system == prompt.system
    assert again.user.startswith(prompt.user)
    assert '{"action":"LONG"}' in again.user
    assert "action: bad value" in again.user
