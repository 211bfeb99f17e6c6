"""The one prompt every language-model provider sees, and the answer it must give back.

Rendering is pure and deterministic, so the same context always yields the same text and the
same :func:`prompt_hash` (what the flight recorder files the prompt under). The vote cache keys
on :func:`~ffe_core.prompt_keys.prompt_key` instead: a hash of exactly the values the prompt is
rendered from, so a cache hit needs no rendering (a replay asks it once per bar).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote

PROMPT_VERSION = "1"
"""Bump when the template, the answer schema or the indicators change, so cached votes are not
reused (:func:`~ffe_core.prompt_keys.prompt_key` hashes the template's inputs, not its text; a
test pins the text of each version's prompt to catch a change made without a bump)."""

DEFAULT_MAX_BARS = 30

SYSTEM_PROMPT = (
    "You are a disciplined trading analyst inside an automated trading engine. "
    "You see one instrument's recent price bars, computed indicators, the current position, "
    "the portfolio and the outcomes of recent decisions. You never see the future. "
    "Decide BUY, SELL or HOLD for the next bar. Prefer HOLD when the evidence is weak or mixed. "
    "Give a confidence between 0 and 1 that reflects how strong the evidence is, and a short "
    "reasoning (at most a paragraph) in plain words. A stop_loss and take_profit are optional "
    "price levels: for BUY the stop is below and the target above the last close, for SELL the "
    "reverse; use null when you give none. Answer only with the structured object requested."
)


@dataclass(frozen=True)
class Prompt:
    """System and user text for one decision."""

    system: str
    user: str


class LlmAnswer(BaseModel):
    """The structured answer a language model must give."""

    model_config = ConfigDict(
        defer_build=True, extra="forbid", allow_inf_nan=False
    )  # 1e999 parses as inf

    action: Literal["BUY", "SELL", "HOLD"]
    confidence: float = Field(ge=0.0, le=1.0)
    reasoning: str = Field(min_length=1, max_length=4000)
    stop_loss: float | None = Field(default=None, gt=0)
    take_profit: float | None = Field(default=None, gt=0)


ANSWER_TOOL_NAME = "record_decision"
ANSWER_DESCRIPTION = "Record the trading decision for the instrument."

ANSWER_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "action": {"type": "string", "enum": ["BUY", "SELL", "HOLD"]},
        "confidence": {"type": "number", "description": "0 (no conviction) to 1 (certain)"},
        "reasoning": {"type": "string", "description": "One short paragraph in plain words"},
        "stop_loss": {
            "type": ["number", "null"],
            "description": "Protective price level, or null",
        },
        "take_profit": {"type": ["number", "null"], "description": "Target price level, or null"},
    },
    "required": ["action", "confidence", "reasoning", "stop_loss", "take_profit"],
    "additionalProperties": False,
}
"""JSON schema of :class:`LlmAnswer`, in the strict subset every provider's structured output
accepts (all keys required, nullable by type, no numeric bounds: pydantic checks those)."""


class AnswerRejected(ValueError):
    """The model's output is not an acceptable answer; the message is fed back to the model."""


def _num(value: float) -> str:
    return f"{value:.6g}"


def _render_bars(context: DecisionContext, max_bars: int) -> str:
    rows = ["time_utc,open,high,low,close,volume"]
    for bar in context.bars[-max_bars:]:
        rows.append(
            ",".join(
                (
                    bar.ts.strftime("%Y-%m-%dT%H:%M"),
                    _num(bar.open),
                    _num(bar.high),
                    _num(bar.low),
                    _num(bar.close),
                    _num(bar.volume),
                )
            )
        )
    return "\n".join(rows)


def _render_memory(context: DecisionContext) -> str:
    if not context.memory:
        return "none"
    lines = []
    for past in context.memory:
        outcome = "pending" if past.outcome_return is None else f"return {past.outcome_return:+.2%}"
        lines.append(
            f"- {past.created_at:%Y-%m-%dT%H:%M} {past.action.value} "
            f"(confidence {past.confidence:.2f}): {outcome}"
        )
    return "\n".join(lines)


def render_prompt(context: DecisionContext, *, max_bars: int = DEFAULT_MAX_BARS) -> Prompt:
    """System + user text for ``context``: compact bars, indicators, position, account, memory."""
    symbol = context.instrument.symbol
    last = Decimal(str(context.last_price))
    position = context.position
    equity = context.portfolio.equity({symbol: last})
    indicators = (
        "\n".join(f"- {k}: {_num(v)}" for k, v in sorted(context.indicators.items())) or "none"
    )
    shown = min(max_bars, len(context.bars))
    user = (
        f"Instrument: {symbol} ({context.instrument.asset_class.value}, "
        f"quoted in {context.instrument.quote})\n"
        f"Decision time (UTC): {context.as_of:%Y-%m-%dT%H:%M}\n"
        f"Last close: {_num(context.last_price)}\n\n"
        f"Last {shown} bars (oldest first):\n{_render_bars(context, max_bars)}\n\n"
        f"Indicators:\n{indicators}\n\n"
        f"Position: quantity {position.quantity} at average price {position.average_price}\n"
        f"Portfolio: cash {context.portfolio.cash} {context.portfolio.currency}, "
        f"equity {equity:.2f} {context.portfolio.currency}\n\n"
        f"Recent decisions on {symbol} and their outcomes:\n{_render_memory(context)}\n\n"
        "Decide BUY, SELL or HOLD now."
    )
    return Prompt(system=SYSTEM_PROMPT, user=user)


def feedback_prompt(prompt: Prompt, previous_output: str, problem: str) -> Prompt:
    """The same prompt with the rejected answer and the reason appended: the single retry."""
    user = (
        f"{prompt.user}\n\nYour previous answer was rejected.\n"
        f"Previous answer: {previous_output[:1000]}\n"
        f"Problem: {problem[:1000]}\n"
        "Answer again with exactly the requested structured object."
    )
    return Prompt(system=prompt.system, user=user)


def prompt_hash(prompt: Prompt) -> str:
    """A stable sha256 of the prompt, the answer schema and :data:`PROMPT_VERSION`."""
    digest = hashlib.sha256()
    for part in (
        PROMPT_VERSION,
        prompt.system,
        prompt.user,
        json.dumps(ANSWER_JSON_SCHEMA, sort_keys=True),
    ):
        digest.update(part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "answer"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def parse_answer(payload: str | dict[str, Any], last_price: float) -> LlmAnswer:
    """Validate raw model output into an :class:`LlmAnswer` or raise :class:`AnswerRejected`.

    Protective levels must lie on the correct side of ``last_price`` for the action.
    """
    try:
        if isinstance(payload, str):
            answer = LlmAnswer.model_validate_json(payload)
        else:
            answer = LlmAnswer.model_validate(payload)
    except ValidationError as exc:
        raise AnswerRejected(_describe(exc)) from None
    below, above = answer.stop_loss, answer.take_profit
    if answer.action == "SELL":
        below, above = above, below
    if answer.action != "HOLD":
        if below is not None and below >= last_price:
            raise AnswerRejected(
                f"for {answer.action} at {last_price:g} the protective level {below:g} "
                "is on the wrong side of the price"
            )
        if above is not None and above <= last_price:
            raise AnswerRejected(
                f"for {answer.action} at {last_price:g} the target level {above:g} "
                "is on the wrong side of the price"
            )
    return answer


def answer_to_vote(
    answer: LlmAnswer, *, provider: str, model: str | None, **extra: Any
) -> ProviderVote:
    """The :class:`ProviderVote` for a validated answer; ``extra`` adds latency, tokens, cost."""
    action = Action(answer.action)
    levels = action is not Action.HOLD
    return ProviderVote(
        provider=provider,
        model=model,
        action=action,
        confidence=answer.confidence,
        reasoning=answer.reasoning[:4000],
        stop_loss=Decimal(str(answer.stop_loss)) if levels and answer.stop_loss else None,
        take_profit=Decimal(str(answer.take_profit)) if levels and answer.take_profit else None,
        **extra,
    )
