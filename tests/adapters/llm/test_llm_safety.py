"""Knowledge cut-off warnings, price lookup and option defaults of the LLM adapters."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ffe_adapters.cache.memory import MemoryCache
from ffe_adapters.llm.anthropic.config import AnthropicOptions
from ffe_adapters.llm.base import LlmProvider
from ffe_adapters.llm.config import LlmOptions, lookup_by_model
from ffe_adapters.llm.safety import VoteCache, knowledge_cutoff_warning
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.ports.providers import Signal
from ffe_core.prompt_keys import prompt_key
from ffe_core.scrubbing import REDACTED, SecretScrubber

CUTOFFS = {"gpt-4.1": date(2024, 6, 1), "gpt-4.1-mini": date(2024, 5, 1)}


def test_cutoff_warning_only_before_the_cutoff() -> None:
    before = datetime(2024, 4, 30, tzinfo=UTC)
    after = datetime(2024, 6, 2, tzinfo=UTC)
    assert "look-ahead" in (knowledge_cutoff_warning("gpt-4.1-2025-04-14", before, CUTOFFS) or "")
    assert knowledge_cutoff_warning("gpt-4.1", after, CUTOFFS) is None
    assert knowledge_cutoff_warning("unknown-model", before, CUTOFFS) is None


def test_lookup_prefers_the_longest_matching_prefix() -> None:
    assert lookup_by_model(CUTOFFS, "gpt-4.1-mini-2025-04-14") == date(2024, 5, 1)
    assert lookup_by_model(CUTOFFS, "gpt-4.1-nano") == date(2024, 6, 1)
    assert lookup_by_model(CUTOFFS, "o3") is None


def test_configured_prices_extend_the_package_defaults() -> None:
    options = AnthropicOptions.model_validate(
        {"model": "my-claude", "prices": {"my-claude": {"input_per_mtok": 1, "output_per_mtok": 2}}}
    )
    assert options.cost_usd(1_000_000, 500_000) == pytest.approx(2.0)
    assert "claude-haiku-4-5" in options.prices
    assert LlmOptions(model="x").cost_usd(10**6, 10**6) == 0.0


class _BrokenCache:
    async def get(self, key: str) -> bytes | None:
        raise OSError("down")

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        raise OSError("down")

    async def close(self) -> None:
        pass


async def test_a_failing_cache_degrades_to_a_miss() -> None:
    cache = VoteCache(_BrokenCache(), ttl_seconds=60)
    await cache.put(ProviderVote(provider="p", confidence=0.5), "m", "h")
    assert await cache.get("p", "m", "h") is None
    assert not cache.reads_now
    assert cache.signal_now("p", "m", "h") is None


class _BrokenNow(MemoryCache):
    def get_now(self, key: str) -> bytes | None:
        raise OSError("down")


async def test_a_signal_read_without_awaiting_is_the_awaited_votes_and_misses_alike() -> None:
    """``signal_now`` of an in-process cache: the stored vote's signal, and a miss for an
    unreadable entry, an absent one or a failing read, as ``get``."""
    memory = MemoryCache()
    cache = VoteCache(memory, ttl_seconds=60)
    assert cache.reads_now
    vote = ProviderVote(provider="p", action=Action.SELL, confidence=0.5, reasoning="stored")
    await cache.put(vote, "m", "h")
    await memory.set(cache.key("p", "m", "bad"), b'{"provider": "p", "confidence": 7}', 60)
    for key in ("h", "bad", "absent"):
        got = await cache.get("p", "m", key)
        want = None if got is None else Signal(got.action, got.confidence, got.abstained)
        assert cache.signal_now("p", "m", key) == want
    assert cache.signal_now("p", "m", "h") == Signal(Action.SELL, 0.5, False)
    assert cache.signal_now("p", "m", "bad") is None
    broken = VoteCache(_BrokenNow(), ttl_seconds=60)
    await broken.put(vote, "m", "h")
    assert broken.signal_now("p", "m", "h") is None


class _NoCalls:
    async def complete(self, prompt: object) -> object:
        raise AssertionError("a cached vote needs no call")

    def translate_error(self, exc: Exception) -> Exception:
        return exc

    async def close(self) -> None:
        return None


async def test_a_cached_vote_is_scrubbed_of_secrets_known_after_it_was_stored(
    context: DecisionContext,
) -> None:
    """A cached vote skips the field-by-field scrub only when its stored text holds no secret
    known now: a key learnt after the vote was cached is still masked on the way out."""
    options = LlmOptions(model="m")
    cache, scrub = MemoryCache(), SecretScrubber()
    provider = LlmProvider("llm", options, _NoCalls(), cache=cache, scrub=scrub)  # type: ignore[arg-type]
    vote = ProviderVote(provider="llm", model="m", confidence=0.6, reasoning="saw sk-live-12345")
    await VoteCache(cache, 60).put(vote, "m", prompt_key(context, max_bars=options.max_bars))

    first = await provider.cached_vote(context)
    assert first is not None and first.reasoning == "saw sk-live-12345"
    assert first.cost_usd == 0.0 and first.latency_ms > 0.0
    scrub.add(["sk-live-12345"])
    again = await provider.cached_vote(context)
    assert again is not None and again.reasoning == f"saw {REDACTED}"
    assert provider.stats["cache_hits"] == 2
