"""Every language-model provider, through its real SDK against a local fake server answering
with the provider's documented bodies: success, retries, bad output, circuit, cache. The port's
contract (401, 429, timeouts, errors inside 200 bodies, the ledger) is tests/contract's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ffe_adapters.llm.safety import LookaheadWarning
from ffe_core.domain.decisions import Action
from ffe_core.ports.clock import ManualClock
from ffe_core.prompts import PROMPT_VERSION, prompt_hash, render_prompt
from ffe_core.services.circuit import CircuitState

pytestmark = pytest.mark.timeout(30)


def _tokens(wire, case):  # type: ignore[no-untyped-def]
    """Tokens in/out as the documented body states them, in each provider's own fields."""
    body = wire.json(case)
    if wire.name == "anthropic":
        return body["usage"]["input_tokens"], body["usage"]["output_tokens"]
    if wire.name == "openai":
        return body["usage"]["prompt_tokens"], body["usage"]["completion_tokens"]
    if wire.name == "gemini":
        meta = body["usageMetadata"]
        return meta["promptTokenCount"], meta.get("candidatesTokenCount", 0)
    return body["prompt_eval_count"], body["eval_count"]


async def test_success_becomes_a_vote_with_tokens_and_cost(wire, fake, build, context) -> None:
    fake.reply(wire.body("ok"))
    provider = build(wire)

    vote = await provider.vote(context)

    assert not vote.abstained, vote.abstain_reason
    assert vote.provider == wire.name
    assert vote.model == wire.model
    assert vote.action is Action.BUY
    assert vote.confidence == pytest.approx(0.72)
    assert "RSI" in vote.reasoning
    assert vote.stop_loss == Decimal("96.5")
    assert vote.take_profit == Decimal("107.0")
    tokens_in, tokens_out = _tokens(wire, "ok")
    assert (vote.tokens_in, vote.tokens_out) == (tokens_in, tokens_out)
    assert vote.cost_usd == pytest.approx((tokens_in * 2.0 + tokens_out * 10.0) / 1e6)
    assert vote.latency_ms > 0
    (request,) = fake.requests
    assert request.path.endswith(wire.endpoint)
    assert "BTC-USD" in wire.prompt_of(request.body)
    assert provider.circuit.state is CircuitState.CLOSED


async def test_server_error_then_success_is_retried(wire, fake, build, context) -> None:
    fake.reply(wire.body("error_500"), status=500)
    fake.reply(wire.body("ok"))
    provider = build(wire)

    vote = await provider.vote(context)

    assert not vote.abstained, vote.abstain_reason
    assert vote.action is Action.BUY
    assert len(fake.requests) == 2
    assert provider.circuit.failures == 0


async def test_truncated_body_is_retried_once_then_accepted(wire, fake, build, context) -> None:
    body = wire.body("ok")
    fake.reply(body[: len(body) // 2])
    fake.reply(body)
    provider = build(wire)

    vote = await provider.vote(context)

    assert not vote.abstained, vote.abstain_reason
    assert len(fake.requests) == 2


async def test_truncated_body_twice_abstains_with_reason(wire, fake, build, context) -> None:
    body = wire.body("ok")
    fake.reply(body[: len(body) // 2])
    fake.reply(body[: len(body) // 3])
    provider = build(wire)

    vote = await provider.vote(context)

    assert vote.abstained
    assert "invalid output after retry" in (vote.abstain_reason or "")
    assert len(fake.requests) == 2


async def test_output_cut_at_token_limit_gets_feedback_then_abstains(
    wire, fake, build, context
) -> None:
    fake.reply(wire.body("truncated_output"))
    fake.reply(wire.body("truncated_output"))
    provider = build(wire)

    vote = await provider.vote(context)

    assert vote.abstained
    assert "cut off at the token limit" in (vote.abstain_reason or "")
    first, second = (wire.prompt_of(r.body) for r in fake.requests)
    assert "previous answer was rejected" not in first
    assert "previous answer was rejected" in second
    assert "cut off" in second
    tokens_in, tokens_out = _tokens(wire, "truncated_output")
    assert (vote.tokens_in, vote.tokens_out) == (2 * tokens_in, 2 * tokens_out)
    assert provider.circuit.state is CircuitState.CLOSED  # the service itself worked


async def test_refusal_gets_feedback_and_a_good_retry_counts(wire, fake, build, context) -> None:
    fake.reply(wire.body("refusal"))
    fake.reply(wire.body("ok"))
    provider = build(wire)

    vote = await provider.vote(context)

    assert not vote.abstained, vote.abstain_reason
    assert wire.refusal_marker in wire.prompt_of(fake.requests[1].body)


async def test_refusal_twice_abstains_with_reason(wire, fake, build, context) -> None:
    fake.reply(wire.body("refusal"))
    fake.reply(wire.body("refusal"))
    provider = build(wire)

    vote = await provider.vote(context)

    assert vote.abstained
    assert wire.refusal_marker in (vote.abstain_reason or "")


async def test_invalid_schema_feeds_validation_error_back_then_abstains(
    wire, fake, build, context
) -> None:
    fake.reply(wire.body("invalid_schema"))
    fake.reply(wire.body("invalid_schema"))
    provider = build(wire)

    vote = await provider.vote(context)

    assert vote.abstained
    reason = vote.abstain_reason or ""
    assert "action" in reason
    assert "confidence" in reason
    retry_prompt = wire.prompt_of(fake.requests[1].body)
    assert "STRONG_BUY" in retry_prompt  # the rejected answer is shown back
    assert "confidence" in retry_prompt


async def test_circuit_opens_after_repeated_failures_and_recovers(
    wire, fake, build, context, metrics
) -> None:
    clock = ManualClock(datetime(2026, 6, 1, tzinfo=UTC))
    provider = build(
        wire,
        clock=clock,
        metrics=metrics,
        max_retries=0,
        circuit_failure_threshold=2,
        circuit_reset_seconds=60,
    )
    for _ in range(2):
        fake.reply(wire.body("error_500"), status=500)
        assert (await provider.vote(context)).abstained

    assert provider.circuit.state is CircuitState.OPEN
    assert provider.health()["state"] == "open"
    assert (wire.name, "open") in metrics.circuits
    blocked = await provider.vote(context)
    assert blocked.abstained
    assert "circuit open" in (blocked.abstain_reason or "")
    assert len(fake.requests) == 2  # no call while open

    clock.advance(61)
    assert provider.health()["state"] == "half_open"
    fake.reply(wire.body("ok"))
    assert not (await provider.vote(context)).abstained
    assert provider.circuit.state is CircuitState.CLOSED
    assert metrics.circuits[-1] == (wire.name, "closed")
    outcomes = [outcome for _, outcome, _, _ in metrics.calls]
    assert outcomes == ["error", "error", "circuit_open", "ok"]


async def test_rerun_is_served_from_the_vote_cache_at_no_cost(
    wire, fake, build, context, memory_cache
) -> None:
    cache = memory_cache
    fake.reply(wire.body("ok"))
    first = await build(wire, cache=cache).vote(context)
    again = await build(wire, cache=cache).vote(context)

    assert len(fake.requests) == 1
    assert first.cost_usd > 0
    assert again.cost_usd == 0.0
    assert (again.action, again.confidence, again.reasoning) == (
        first.action,
        first.confidence,
        first.reasoning,
    )
    (key,) = cache.data
    assert key.startswith(f"ffe:llm-vote:{wire.name}:{wire.model}:")


async def test_asking_before_the_knowledge_cutoff_warns(wire, fake, build, context_at) -> None:
    fake.reply(wire.body("ok"))
    provider = build(wire, knowledge_cutoffs={wire.model: "2025-01-31"})

    with pytest.warns(LookaheadWarning, match="look-ahead"):
        await provider.vote(context_at(datetime(2024, 3, 1, tzinfo=UTC)))


async def test_vote_keeps_the_raw_answer_and_the_plan_names_the_prompt_sent(
    wire, fake, build, context
) -> None:
    fake.reply(wire.body("ok"))
    provider = build(wire)

    plan = provider.call_plan(context)
    vote = await provider.vote(context)

    assert vote.raw_answer is not None
    assert json.loads(vote.raw_answer)["action"] == "BUY"  # the model's own words, verbatim
    (request,) = fake.requests
    assert wire.prompt_of(request.body) in (plan.prompt or "")  # what was sent, rendered
    expected = prompt_hash(render_prompt(context, max_bars=provider.options.max_bars))
    assert plan.spec.prompt_hash == expected and plan.spec.prompt_version == PROMPT_VERSION
    assert (plan.spec.model, plan.spec.input_usd_per_mtok, plan.spec.output_usd_per_mtok) == (
        wire.model,
        2.0,
        10.0,
    )
    assert plan.spec.parameters["max_tokens"] == provider.options.max_tokens
