"""Fuzzing decision parsing from LLM output: any text, JSON or tool-call dict.

``parse_answer`` / ``check_completion`` give a valid answer or :class:`AnswerRejected` with a
readable reason (it is fed back to the model), never another exception; an accepted answer
always turns into a valid :class:`ProviderVote`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ffe_adapters.llm.base import Completion, check_completion
from ffe_core.prompts import AnswerRejected, LlmAnswer, answer_to_vote, parse_answer

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LAST = 100.0

levels = st.one_of(
    st.none(),
    st.floats(),
    st.floats(min_value=1, max_value=200),
    st.integers(),
    st.sampled_from(["95", "abc", "", "1e400", "NaN", "Infinity"]),
)
fields = {
    "action": st.one_of(
        st.sampled_from(["BUY", "SELL", "HOLD", "buy", "Hold ", "SHORT"]), st.integers()
    ),
    "confidence": st.one_of(
        st.floats(), st.floats(min_value=0, max_value=1), st.text(max_size=4), st.none()
    ),
    "reasoning": st.one_of(st.text(max_size=30), st.just("x" * 4001), st.none(), st.integers()),
    "stop_loss": levels,
    "take_profit": levels,
}
answers = st.fixed_dictionaries(
    {},
    optional={**fields, "extra": st.text(max_size=5)},
)
valid_like = st.fixed_dictionaries(
    {
        "action": st.sampled_from(["BUY", "SELL", "HOLD"]),
        "confidence": st.floats(min_value=0, max_value=1),
        "reasoning": st.text(min_size=1, max_size=40),
        "stop_loss": levels,
        "take_profit": levels,
    }
)


def readable(reason: str) -> None:
    assert reason.strip(), "empty reason"
    assert len(reason) < 5000


def accepted(answer: LlmAnswer) -> None:
    assert answer.action in ("BUY", "SELL", "HOLD")
    assert 0 <= answer.confidence <= 1 and answer.reasoning
    for level in (answer.stop_loss, answer.take_profit):
        assert level is None or (level > 0 and math.isfinite(level))
    if answer.action == "BUY":
        assert answer.stop_loss is None or answer.stop_loss < LAST
        assert answer.take_profit is None or answer.take_profit > LAST
    if answer.action == "SELL":
        assert answer.stop_loss is None or answer.stop_loss > LAST
        assert answer.take_profit is None or answer.take_profit < LAST
    vote = answer_to_vote(answer, provider="llm", model="m")  # must not raise
    assert vote.confidence == answer.confidence


def parse(payload: str | dict[str, Any]) -> None:
    try:
        answer = parse_answer(payload, LAST)
    except AnswerRejected as exc:
        readable(str(exc))
        return
    accepted(answer)


@FUZZ
@given(payload=st.one_of(answers, valid_like))
@example(
    payload={"action": "BUY", "confidence": 0.5, "reasoning": "r", "take_profit": float("inf")}
)
@example(payload={"action": "SELL", "confidence": 0.5, "reasoning": "r", "stop_loss": float("inf")})
@example(payload={"action": "BUY", "confidence": float("nan"), "reasoning": "r"})
def test_structured_output(payload: dict[str, Any]) -> None:
    parse(payload)


@FUZZ
@given(
    text=st.one_of(
        st.text(max_size=80),
        st.one_of(answers, valid_like).map(json.dumps),
        valid_like.map(lambda a: json.dumps(a)[:-3]),  # cut off mid-object
        st.sampled_from(["null", "[]", '"BUY"', "{}", "1", "```json\n{}\n```"]),
    )
)
@example(
    text='{"action":"BUY","confidence":0.5,"reasoning":"x","stop_loss":null,"take_profit":1e999}'
)
@example(
    text='{"action":"BUY","confidence":0.5,"reasoning":"x","stop_loss":null,"take_profit":Infinity}'
)
@example(
    text='{"action":"HOLD","confidence":NaN,"reasoning":"x","stop_loss":null,"take_profit":null}'
)
def test_json_text(text: str) -> None:
    parse(text)


@FUZZ
@given(
    output=st.one_of(st.none(), st.text(max_size=40), answers, valid_like),
    refusal=st.one_of(st.none(), st.text(max_size=20)),
    truncated=st.booleans(),
    stop_reason=st.one_of(st.none(), st.text(max_size=10)),
)
def test_completion(
    output: str | dict[str, Any] | None,
    refusal: str | None,
    truncated: bool,
    stop_reason: str | None,
) -> None:
    completion = Completion(
        output=output, refusal=refusal, truncated=truncated, stop_reason=stop_reason
    )
    try:
        answer = check_completion(completion, LAST)
    except AnswerRejected as exc:
        readable(str(exc))
        return
    assert refusal is None and output is not None
    accepted(answer)
