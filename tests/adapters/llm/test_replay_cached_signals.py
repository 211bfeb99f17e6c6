"""A replay asks a language model's vote cache without building the bar's context
(``SeriesCachedProvider.cached_signal_at``) and decides exactly as the per-bar awaiting path.

Seeded runs over a partially filled cache: a first replay fills it through a backend that fails
on a seeded share of prompts (failures are not cached), so the replays under test find some
bars cached and must call for the others. Reference: the same replay with ``on_decision`` set,
so every bar goes through ``Ensemble.decide`` with contexts and ``vote`` (cache, then a call).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from tests.unit.replay.bars import INSTRUMENT, assert_identical_runs, random_bars

from ffe_adapters.cache.memory import MemoryCache
from ffe_adapters.llm.base import Completion, LlmProvider
from ffe_adapters.llm.config import LlmOptions
from ffe_adapters.llm.safety import LookaheadWarning
from ffe_adapters.quant.config import BreakoutOptions, TrendOptions
from ffe_adapters.quant.providers import BreakoutProvider, MeanReversionProvider, TrendProvider
from ffe_core.backtest.replay import ReplayResult, bar_timestamps, replay
from ffe_core.backtest.replay_cost import Metered, SpendMeter
from ffe_core.backtest.simulator import FillConfig
from ffe_core.config import EnsembleSettings
from ffe_core.domain.context import DecisionContext, Recalled, ReplayedBar
from ffe_core.domain.decisions import Action, Decision, ProviderVote
from ffe_core.domain.errors import ProviderError
from ffe_core.domain.portfolio import Portfolio
from ffe_core.domain.series import BarSeries, SeriesCursor
from ffe_core.ports.market_data import Cache
from ffe_core.ports.providers import SeriesCachedProvider, Signal
from ffe_core.prompt_keys import ReplayedKeys, prompt_key, replayed_prompt_key
from ffe_core.prompts import Prompt
from ffe_core.services.ensemble import Ensemble


class Scripted:
    """A backend answering from the prompt's hash (same prompt, same answer); ``fail_share``
    of the prompts (by hash) fail instead, so their votes are not cached."""

    def __init__(self, fail_share: float = 0.0) -> None:
        self.fail_share = fail_share
        self.calls = 0

    async def complete(self, prompt: Prompt) -> Completion:
        self.calls += 1
        h = int.from_bytes(hashlib.sha256(prompt.user.encode()).digest()[:8], "big")
        if (h % 1000) / 1000 < self.fail_share:
            raise ProviderError("scripted failure")
        action = ("BUY", "SELL", "HOLD")[h % 3]
        confidence = 0.3 + (h >> 8) % 600 / 1000
        answer = {"action": action, "confidence": confidence, "reasoning": "scripted"}
        return Completion(json.dumps({**answer, "stop_loss": None, "take_profit": None}))

    def translate_error(self, exc: Exception) -> Exception:
        return exc

    async def close(self) -> None:
        return None


class Counting(LlmProvider):
    """Counts the cache lookups made with a context (``Metered`` makes one before each call),
    and those of a replayed bar, awaited or read at once."""

    asked = 0
    awaited = 0
    read_now = 0

    async def cached_vote(self, context: DecisionContext) -> ProviderVote | None:
        self.asked += 1
        return await super().cached_vote(context)

    async def cached_signal_at(self, bar: ReplayedBar) -> Signal | None:
        self.awaited += 1
        return await super().cached_signal_at(bar)

    def cached_signal_now(self, bar: ReplayedBar) -> Signal | None:
        self.read_now += 1
        return super().cached_signal_now(bar)


class Awaited:
    """A cache out of process, as far as a replay can tell: ``get`` only (a plain ``Cache``)."""

    def __init__(self, inner: MemoryCache) -> None:
        self.inner = inner

    async def get(self, key: str) -> bytes | None:
        return await self.inner.get(key)

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        await self.inner.set(key, value, ttl_seconds)

    async def close(self) -> None:
        await self.inner.close()


def llm(
    cache: Cache, backend: Scripted, max_bars: int = 30, cutoff: date | None = None
) -> Counting:
    options = LlmOptions(
        model="fake-model",
        max_bars=max_bars,
        max_retries=0,
        requests_per_minute=None,
        circuit_failure_threshold=1_000_000,
        knowledge_cutoffs={} if cutoff is None else {"fake-model": cutoff},
    )
    return Counting("llm", options, backend, cache=cache)  # type: ignore[arg-type]


def offline() -> list[Any]:
    return [
        TrendProvider(TrendOptions(fast=8, slow=21)),
        MeanReversionProvider(),
        BreakoutProvider(BreakoutOptions(lookback=10)),
    ]


CASES = [
    pytest.param((5, 260, 120, 0, True, 0.4), id="h120-indicators-40pc-missing"),
    pytest.param((6, 220, None, 15, False, 0.7), id="unbounded-no-indicators-70pc-missing"),
    pytest.param((7, 240, 40, 0, True, 0.0), id="h40-all-cached"),
]


async def run(
    cache: Cache, case: tuple[Any, ...], backend: Scripted, *, per_bar: bool
) -> tuple[ReplayResult, SpendMeter, Counting]:
    seed, n, history, start, with_indicators, _ = case
    meter = SpendMeter()
    provider = llm(cache, backend)
    providers = [*offline(), Metered(provider, meter)]
    ensemble = Ensemble({p.name: p for p in providers}, EnsembleSettings(quorum=2))
    seen: list[Decision] = []

    async def on_decision(i: int, decision: Decision) -> None:
        seen.append(decision)

    result = await replay(
        random_bars(n, seed, 0.02),
        INSTRUMENT,
        ensemble,
        FillConfig(commission=0.001),
        history=history,
        start=start,
        with_indicators=with_indicators,
        fast=False,
        record_votes=True,
        on_decision=on_decision if per_bar else None,
    )
    return result, meter, provider


async def filled(case: tuple[Any, ...]) -> MemoryCache:
    """A cache holding the votes of a first run, but for the prompts its backend failed on."""
    cache = MemoryCache(max_entries=100_000)
    await run(cache, case, Scripted(fail_share=case[-1]), per_bar=True)
    return cache


@pytest.mark.parametrize("in_process", [True, False], ids=["read-at-once", "awaited"])
@pytest.mark.parametrize("case", CASES)
async def test_cached_signals_decide_as_the_per_bar_path(
    case: tuple[Any, ...], in_process: bool
) -> None:
    """Read at once from an in-process cache (the replay's synchronous path: no coroutine for
    a bar every cache answers) or awaited from any other cache, as the per-bar path decides."""
    reference_backend, fast_backend = Scripted(), Scripted()
    want, want_meter, want_llm = await run(
        await filled(case), case, reference_backend, per_bar=True
    )
    cache: Cache = await filled(case)
    if not in_process:
        cache = Awaited(cache)
    got, got_meter, got_llm = await run(cache, case, fast_backend, per_bar=False)
    assert_identical_runs(got.run, want.run)
    np.testing.assert_array_equal(got.actions, want.actions)
    assert got.votes is not None and want.votes is not None
    for field in ("actions", "confidences", "abstained", "asked", "ensemble_action"):
        np.testing.assert_array_equal(getattr(got.votes, field), getattr(want.votes, field))
    np.testing.assert_array_equal(got.votes.ensemble_confidence, want.votes.ensemble_confidence)
    # The same bars answered from the cache, the same bars called (and paid), counted alike.
    assert got_meter.as_json() == want_meter.as_json()
    assert fast_backend.calls == reference_backend.calls
    assert got_llm.stats == want_llm.stats
    spend = got_meter.of("llm")
    assert spend.cached > 0
    assert (spend.calls > 0) == (case[-1] > 0)
    # Only the bars not in the cache were looked up with a context; the reference, every bar.
    assert got_llm.asked == spend.calls
    assert want_llm.asked == spend.calls + spend.cached
    bars = case[1] - case[3]
    assert (got_llm.read_now, got_llm.awaited) == ((bars, 0) if in_process else (0, bars))


class KeySpy:
    """Misses every cached lookup, recording the key of the replayed bar; then records the key
    of the context the replay builds for that bar and votes with the last bar (so it trades)."""

    name = "spy"

    def __init__(self, max_bars: int) -> None:
        self.max_bars = max_bars
        self.replayed: list[str] = []
        self.contexts: list[str] = []

    async def cached_signal_at(self, bar: ReplayedBar) -> Signal | None:
        self.replayed.append(replayed_prompt_key(bar, max_bars=self.max_bars))
        return None

    async def vote(self, context: DecisionContext) -> ProviderVote:
        self.contexts.append(prompt_key(context, max_bars=self.max_bars))
        bars = context.bars
        up = len(bars) > 1 and bars[-1].close > bars[-2].close
        return ProviderVote(
            provider=self.name, action=Action.BUY if up else Action.SELL, confidence=0.8
        )


@pytest.mark.parametrize(
    ("history", "with_indicators", "max_bars"),
    [(200, True, 30), (None, True, 5), (12, False, 30), (3, True, 1)],
)
async def test_the_replayed_key_is_the_contexts_key(
    history: int | None, with_indicators: bool, max_bars: int
) -> None:
    """On every bar (early ones with undefined indicators, after fills, with memory) the key
    computed without a context equals ``prompt_key`` of the context the replay builds."""
    spy = KeySpy(max_bars)
    assert isinstance(spy, SeriesCachedProvider)
    ensemble = Ensemble({"spy": spy}, EnsembleSettings(quorum=1))
    result = await replay(
        random_bars(150, 9, 0.02),
        INSTRUMENT,
        ensemble,
        FillConfig(commission=0.001),
        history=history,
        with_indicators=with_indicators,
        fast=False,
    )
    assert len(result.run.trades) > 10  # the account changed along the way
    assert len(spy.replayed) == 150
    assert spy.replayed == spy.contexts
    assert len(set(spy.replayed)) == 150


def test_a_series_keys_follow_the_instrument_and_window_they_are_asked_about() -> None:
    """What ReplayedKeys keeps between bars (the text naming the instrument and the shown bars,
    each remembered decision's part) is not reused for another instrument, window or decision:
    each key is that of a fresh ReplayedKeys."""
    bars = random_bars(80, 3, 0.02)
    series = BarSeries(
        bars.open, bars.high, bars.low, bars.close, bars.volume, 40, bar_timestamps(bars)
    )
    other = INSTRUMENT.model_copy(update={"symbol": "MSFT", "base": "MSFT"})
    flat = Portfolio(cash=Decimal(10_000))
    position = flat.position(INSTRUMENT.symbol)
    buy, sell = Recalled(59, Action.BUY, 0.6), Recalled(59, Action.SELL, 0.6)
    held, hold = Recalled(60, Action.HOLD, 0.2), Recalled(61, Action.HOLD, 0.0)
    asked = [
        (60, INSTRUMENT, 40, ()),
        (60, other, 40, ()),
        (61, INSTRUMENT, 40, ()),
        (61, INSTRUMENT, 7, ()),
        (61, INSTRUMENT, 40, (buy,)),
        (61, INSTRUMENT, 40, (sell,)),  # another replay's decision on the same bar
        (61, INSTRUMENT, 40, (held, buy)),
        (62, INSTRUMENT, 40, (hold, held, buy)),  # one decision on
        # one decision on again, but a decision equal to one before (-0.0 == 0.0) in its place
        (
            63,
            INSTRUMENT,
            40,
            (Recalled(62, Action.BUY, 0.3), hold._replace(confidence=-0.0), held, buy),
        ),
    ]
    got, fresh = [], []
    for i, instrument, window, memory in asked:
        bar = ReplayedBar(SeriesCursor(series, i), window, instrument, position, flat, memory, True)
        got.append(ReplayedKeys.of(series, 30, True).key(bar))
        fresh.append(ReplayedKeys(series, 30, True).key(bar))
    assert got == fresh
    assert len(set(got)) == len(asked)


class Cached:
    """Answers every bar from its "cache": SELL on the bars in ``sell``, else BUY, recording
    the key of each replayed bar it is asked about."""

    name = "cached"

    def __init__(self, sell: set[int]) -> None:
        self.sell = sell
        self.keys: list[str] = []

    async def cached_signal_at(self, bar: ReplayedBar) -> Signal | None:
        self.keys.append(replayed_prompt_key(bar, max_bars=30))
        action = Action.SELL if bar.at.index in self.sell else Action.BUY
        return Signal(action, 0.7, False)

    async def vote(self, context: DecisionContext) -> ProviderVote:
        raise AssertionError("every bar is cached")


async def test_a_bars_key_depends_on_the_cached_votes_before_it() -> None:
    """Why a replay cannot look a series' cached votes up before its loop: the key of bar
    ``i + 1`` holds the memory of the decisions up to bar ``i`` and the account they led to, so
    it is known only once bar ``i``'s vote has been read from the cache. Two replays whose
    cached votes differ only on bar 50 ask the same keys up to bar 50 and none alike after."""
    asked = []
    for sell in ({10, 30}, {10, 30, 50}):
        provider = Cached(sell)
        await replay(
            random_bars(120, 4, 0.02),
            INSTRUMENT,
            Ensemble({provider.name: provider}, EnsembleSettings(quorum=1)),
            FillConfig(commission=0.001),
            fast=False,
        )
        assert len(provider.keys) == 120
        asked.append(provider.keys)
    before, after = asked
    assert before[:51] == after[:51]
    assert all(b != a for b, a in zip(before[51:], after[51:], strict=True))


@pytest.mark.parametrize(("cutoff", "warned"), [(date(2024, 1, 3), 1), (date(2023, 12, 1), 0)])
async def test_a_cached_replay_warns_once_of_bars_before_the_models_cut_off(
    cutoff: date, warned: int
) -> None:
    """Replayed bars read at once from the cache are checked for look-ahead as a vote is:
    one warning for a model asked about its own past (bars from 2024-01-01), none after."""
    case = (7, 120, 40, 0, True, 0.0)
    cache = await filled(case)
    backend = Scripted()
    provider = llm(cache, backend, cutoff=cutoff)
    providers = [*offline(), Metered(provider, SpendMeter())]
    ensemble = Ensemble({p.name: p for p in providers}, EnsembleSettings(quorum=2))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        await replay(
            random_bars(120, 7, 0.02),
            INSTRUMENT,
            ensemble,
            FillConfig(commission=0.001),
            history=40,
            fast=False,
        )
    assert backend.calls == 0 and provider.stats["cache_hits"] == provider.read_now == 120
    assert sum(isinstance(w.message, LookaheadWarning) for w in seen) == warned
