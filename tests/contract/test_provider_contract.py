"""The DecisionProvider port's contract, run by every built-in provider and the example plugin's,
for the capabilities each declares; the language-model ones through their official SDKs against
the vendors' own bodies (``responses/<vendor>/SOURCES.md``).

What the ensemble and the cost ledger rely on: a vote never raises (bad output, upstream errors,
timeouts abstain with a reason), an abstention never shows a configured key, and the tokens the
vendor reports — including those spent on a rejected answer — reach the ledger.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action
from ffe_core.domain.errors import ConfigError
from ffe_core.domain.market import Bar
from ffe_core.ports.capabilities import WithCircuit
from ffe_core.ports.providers import (
    BatchDecisionProvider,
    DecisionProvider,
    DescribedProvider,
    FixedPlanProvider,
    LanguageModelProvider,
    SyncDecisionProvider,
)
from tests.adapters.llm.llm_fakes import WIRES, make_context
from tests.contract.providers import (
    API_KEY,
    LLMS,
    OFFLINE,
    PROVIDERS,
    Built,
    build,
    cost,
    ledgered,
    provider,
    vendor_message,
    vendor_usage,
)

pytestmark = pytest.mark.timeout(30)

RISING = make_context(n=120)
"""120 hourly bars rising steadily: long enough for every rule to vote."""


@pytest.fixture(params=PROVIDERS)
async def on(request: pytest.FixtureRequest) -> AsyncIterator[Built]:
    async with provider(request.param) as built:
        yield built


@pytest.fixture(params=LLMS)
async def llm(request: pytest.FixtureRequest) -> AsyncIterator[Built]:
    async with provider(request.param) as built:
        yield built


def with_closes(closes: list[float]) -> DecisionContext:
    """RISING with its bars replaced by ones closing at ``closes`` (hourly, ending at as_of)."""
    end = RISING.as_of
    bars = tuple(
        Bar(
            ts=end - timedelta(hours=len(closes) - i),
            open=c,
            high=c * 1.001,
            low=c * 0.999,
            close=c,
            volume=1000.0,
        )
        for i, c in enumerate(closes)
    )
    return RISING.model_copy(update={"bars": bars})


# --- every provider ---------------------------------------------------------------------------


async def test_declares_the_port_under_its_registered_name(on: Built) -> None:
    assert isinstance(on.provider, DecisionProvider)
    assert on.provider.name == on.name


async def test_an_unknown_option_is_refused_naming_the_key(on: Built) -> None:
    with pytest.raises(ConfigError, match=rf"adapters\.{on.name}\.not_an_option"):
        build(on.name, on.fake, not_an_option=1)


async def test_a_valid_vote_counts_says_why_and_reaches_the_ledger(on: Built) -> None:
    if on.fake is not None:
        on.serve("vote")
    vote = await on.provider.vote(RISING)
    assert not vote.abstained, vote.abstain_reason
    assert vote.provider == on.name
    assert 0.0 <= vote.confidence <= 1.0 and vote.reasoning
    spent = await ledgered(vote)
    if isinstance(on.provider, LanguageModelProvider):
        tokens = vendor_usage(on.name, "vote")
        assert (vote.tokens_in, vote.tokens_out) == tokens
        assert (spent.tokens_in, spent.tokens_out) == tokens
        assert spent.cost_usd == pytest.approx(cost(tokens)) and spent.cost_usd > 0
    else:
        assert (spent.tokens_in, spent.tokens_out, spent.cost_usd) == (0, 0, 0.0)


async def test_a_described_provider_names_itself_and_its_prices(on: Built) -> None:
    if not isinstance(on.provider, DescribedProvider):
        pytest.skip(f"{on.name} does not describe its calls (the ledger treats it as priced)")
    plan = on.provider.call_plan(RISING)
    assert plan.spec.provider == on.name
    assert plan.spec.priced is isinstance(on.provider, LanguageModelProvider)
    if isinstance(on.provider, FixedPlanProvider):
        assert on.provider.fixed_plan() == plan


async def test_a_language_model_prices_a_call_without_making_it(on: Built) -> None:
    """The budget check runs before the call: estimate and cache lookup ask nothing upstream."""
    if not isinstance(on.provider, LanguageModelProvider):
        pytest.skip(f"{on.name} is not a paid language model")
    estimate = on.provider.estimate_call(RISING)
    assert estimate.tokens_in > 0 and estimate.tokens_out > 0
    assert estimate.cost_usd == pytest.approx(cost((estimate.tokens_in, estimate.tokens_out)))
    assert await on.provider.cached_vote(RISING) is None  # no cache configured: a miss
    assert on.fake is not None and on.fake.requests == []


async def test_a_synchronous_provider_answers_the_same_without_awaiting(on: Built) -> None:
    if not isinstance(on.provider, SyncDecisionProvider):
        pytest.skip(f"{on.name} only votes asynchronously")
    for context in (RISING, with_closes([100.0] * 3)):
        voted = await on.provider.vote(context)
        now = on.provider.vote_now(context)
        assert now.model_copy(update={"latency_ms": voted.latency_ms}) == voted
        signal = on.provider.signal(context)
        assert (signal.action, signal.confidence, signal.abstained) == (
            voted.action,
            0.0 if voted.abstained else voted.confidence,
            voted.abstained,
        )


async def test_a_batch_provider_votes_on_the_last_bar_as_it_votes_on_the_context(
    on: Built,
) -> None:
    if not isinstance(on.provider, BatchDecisionProvider):
        pytest.skip(f"{on.name} votes one context at a time")
    bars = RISING.bars
    column = {k: np.array([getattr(b, k) for b in bars]) for k in ("open", "high", "low", "close")}
    batch = on.provider.vote_batch(
        column["open"],
        column["high"],
        column["low"],
        column["close"],
        np.array([b.volume for b in bars]),
        None,
    )
    voted = await on.provider.vote(RISING)
    action = {Action.BUY: 1, Action.SELL: -1, Action.HOLD: 0}[voted.action]
    assert bool(batch.abstained[-1]) is voted.abstained
    assert int(batch.actions[-1]) == (0 if voted.abstained else action)
    assert batch.confidences[-1] == pytest.approx(0.0 if voted.abstained else voted.confidence)


# --- offline providers: any history, never a raise -------------------------------------------


@pytest.mark.parametrize("name", OFFLINE)
async def test_too_short_a_history_abstains_with_a_reason(name: str) -> None:
    vote = await build(name, None).provider.vote(with_closes([100.0, 101.0, 102.0]))
    assert vote.abstained and vote.abstain_reason


@pytest.mark.parametrize("name", OFFLINE)
@given(
    closes=st.lists(
        st.floats(min_value=0.01, max_value=1e6, allow_nan=False), min_size=1, max_size=150
    )
)
async def test_any_history_gets_a_vote_or_a_reasoned_abstention(
    name: str, closes: list[float]
) -> None:
    vote = await build(name, None).provider.vote(with_closes(closes))
    assert vote.provider == name
    assert 0.0 <= vote.confidence <= 1.0
    assert vote.abstain_reason if vote.abstained else vote.reasoning


# --- language-model providers: the vendor's answers and failures ------------------------------


async def test_a_vote_without_the_optional_levels_counts(llm: Built) -> None:
    llm.serve("vote_without_levels")
    vote = await llm.provider.vote(RISING)
    assert not vote.abstained, vote.abstain_reason
    assert vote.action is Action.HOLD
    assert (vote.stop_loss, vote.take_profit) == (None, None)


async def test_an_error_inside_a_200_body_abstains_with_the_vendors_message(llm: Built) -> None:
    """Not an answer to feed back to the model: an upstream failure, which the circuit counts."""
    llm.serve("error_in_200")
    llm.serve("error_in_200")
    vote = await llm.provider.vote(RISING)
    assert vote.abstained
    reason = vote.abstain_reason or ""
    assert "error in an HTTP 200 body" in reason
    assert vendor_message(llm.name, "error_in_200") in reason
    assert llm.fake is not None
    prompts = [WIRES[llm.name].prompt_of(r.body) for r in llm.fake.requests]
    assert not any("previous answer was rejected" in p for p in prompts)
    assert isinstance(llm.provider, WithCircuit)
    assert llm.provider.circuit.failures == 1


async def test_a_rate_limit_waits_for_retry_after_and_charges_one_answer(llm: Built) -> None:
    llm.serve("rate_limited", status=429, headers={"retry-after": "1"})
    llm.serve("vote")
    started = time.perf_counter()
    vote = await llm.provider.vote(RISING)
    assert not vote.abstained, vote.abstain_reason
    assert time.perf_counter() - started >= 1.0  # the server's retry-after was honoured
    assert llm.fake is not None and len(llm.fake.requests) == 2
    spent = await ledgered(vote)
    assert (spent.tokens_in, spent.tokens_out) == vendor_usage(llm.name, "vote")


async def test_unauthorized_abstains_at_once_and_never_shows_the_key(llm: Built) -> None:
    llm.serve("unauthorized", status=401)
    vote = await llm.provider.vote(RISING)
    assert vote.abstained
    assert llm.fake is not None and len(llm.fake.requests) == 1  # a bad key is not retried
    assert API_KEY not in vote.model_dump_json()
    assert "authentication failed (HTTP 401)" in (vote.abstain_reason or "")
    assert API_KEY not in (await ledgered(vote)).model_dump_json()
    assert isinstance(llm.provider, WithCircuit)
    assert llm.provider.circuit.failures == 1


async def test_an_answer_that_is_not_json_is_fed_back_once_then_abstains_and_is_charged(
    llm: Built,
) -> None:
    llm.serve("answer_not_json")
    llm.serve("answer_not_json")
    vote = await llm.provider.vote(RISING)
    assert vote.abstained
    assert "invalid output after retry" in (vote.abstain_reason or "")
    assert llm.fake is not None
    first, second = (WIRES[llm.name].prompt_of(r.body) for r in llm.fake.requests)
    assert "previous answer was rejected" not in first
    assert "previous answer was rejected" in second
    tokens_in, tokens_out = vendor_usage(llm.name, "answer_not_json")
    spent = await ledgered(vote)
    assert (spent.tokens_in, spent.tokens_out) == (2 * tokens_in, 2 * tokens_out)
    assert spent.cost_usd == pytest.approx(cost((2 * tokens_in, 2 * tokens_out)))


@pytest.mark.parametrize("name", LLMS)
async def test_a_timeout_abstains_within_the_configured_limit(name: str) -> None:
    async with provider(name, timeout_seconds=0.3, max_retries=0) as slow:
        slow.serve("vote", delay=20.0)  # far later than the bound below
        started = time.perf_counter()
        vote = await slow.provider.vote(RISING)
        elapsed = time.perf_counter() - started
    assert vote.abstained
    assert "timed out" in (vote.abstain_reason or "")
    assert elapsed < 2.5
