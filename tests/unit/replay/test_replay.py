"""Event-driven replay of the decision stack against the compiled simulator.

The strategy under test is an SMA cross written as a DecisionProvider (it sees only the
context). Run through Ensemble -> replay it must give exactly the trades and equity that the
built-in ``sma_cross`` signal function gives through ``simulate()``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from ffe_core import indicators as ind
from ffe_core.backtest.data import Bars, make_bars
from ffe_core.backtest.replay import bar_models, replay
from ffe_core.backtest.simulator import FillConfig, RunResult, simulate
from ffe_core.backtest.stats import compute_stats
from ffe_core.backtest.strategies import sma_cross
from ffe_core.config import EnsembleSettings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, Decision, ProviderVote, RiskAssessment
from ffe_core.domain.errors import ValidationFailed
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.domain.market import Bar
from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.clock import ManualClock
from ffe_core.prompt_keys import prompt_key
from ffe_core.prompts import prompt_hash, render_prompt
from ffe_core.services.context import build_context
from ffe_core.services.ensemble import Ensemble

INSTRUMENT = Instrument(symbol="GOOG", asset_class=AssetClass.EQUITY, base="GOOG", quote="USD")
ONE = EnsembleSettings(aggregation="weighted_majority", quorum=1, max_disagreement=0.0)


class SmaCrossProvider:
    """BUY when SMA(fast) crosses above SMA(slow) on the last bar, SELL when below, else HOLD."""

    name = "sma_cross"

    def __init__(self, fast: int, slow: int) -> None:
        self.fast, self.slow = fast, slow

    async def vote(self, context: DecisionContext) -> ProviderVote:
        close = np.fromiter((b.close for b in context.bars), np.float64, len(context.bars))
        if close.size < self.slow + 1:
            return ProviderVote(provider=self.name, reasoning="warming up")
        a, b = ind.sma(close, self.fast)[-2:], ind.sma(close, self.slow)[-2:]
        if a[0] < b[0] and a[1] > b[1]:
            return ProviderVote(provider=self.name, action=Action.BUY, confidence=1.0)
        if b[0] < a[0] and b[1] > a[1]:
            return ProviderVote(provider=self.name, action=Action.SELL, confidence=1.0)
        return ProviderVote(provider=self.name, confidence=0.5)


class Spy:
    """Records what it was shown; always HOLD."""

    name = "spy"

    def __init__(self) -> None:
        self.seen: list[DecisionContext] = []

    async def vote(self, context: DecisionContext) -> ProviderVote:
        self.seen.append(context)
        return ProviderVote(provider=self.name)


def goog() -> Bars:
    pytest.importorskip("backtesting")
    from backtesting.test import GOOG

    return make_bars(GOOG.Open, GOOG.High, GOOG.Low, GOOG.Close, GOOG.Volume, GOOG.index.values)


def synthetic(n: int = 400, seed: int = 3) -> Bars:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[close[0], close[:-1]]
    high, low = np.maximum(open_, close) * 1.002, np.minimum(open_, close) * 0.998
    time = np.datetime64("2024-01-01T00:00") + np.arange(n) * np.timedelta64(1, "h")
    return make_bars(open_, high, low, close, np.ones(n), time)


def assert_same_run(got: RunResult, want: RunResult) -> None:
    g, w = got.trades, want.trades
    assert len(g) == len(w) > 0
    np.testing.assert_array_equal(g.entry_bar, w.entry_bar)
    np.testing.assert_array_equal(g.exit_bar, w.exit_bar)
    np.testing.assert_array_equal(g.reason, w.reason)
    for name in ("size", "entry_price", "exit_price", "commission", "sl", "tp"):
        np.testing.assert_allclose(getattr(g, name), getattr(w, name), rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(got.equity, want.equity, rtol=1e-12)
    assert got.equity[-1] == pytest.approx(want.equity[-1], rel=1e-12)


CONFIGS = [
    pytest.param(FillConfig(cash=10_000, commission=0.002), False, id="next-open-commission"),
    pytest.param(
        FillConfig(
            cash=10_000, commission=0.001, spread=0.001, slippage=0.0005, commission_fixed=1.0
        ),
        False,
        id="spread-slippage-fixed",
    ),
    pytest.param(
        FillConfig(cash=10_000, commission=0.001, trade_on_close=True), False, id="on-close"
    ),
    pytest.param(
        FillConfig(cash=10_000, commission=0.001, sl=0.03, tp=0.06), True, id="short-sl-tp"
    ),
]


@pytest.mark.parametrize(("config", "short"), CONFIGS)
async def test_provider_strategy_replayed_equals_signal_strategy_simulated(
    config: FillConfig, short: bool
) -> None:
    bars = goog()
    want = simulate(
        bars,
        sma_cross(
            bars.open, bars.high, bars.low, bars.close, bars.volume, fast=10, slow=30, short=short
        ),
        config,
    )
    ensemble = Ensemble({"sma_cross": SmaCrossProvider(10, 30)}, ONE)
    got = await replay(
        bars, INSTRUMENT, ensemble, config, history=None, allow_short=short, with_indicators=False
    )
    assert_same_run(got.run, want)
    assert got.decisions == len(bars)
    assert compute_stats(got.run, bars) == compute_stats(want, bars)


async def test_fractional_units_match_too() -> None:
    bars = synthetic(600)
    config = FillConfig(cash=1_000, commission=0.001, unit_step=0.0, size=0.5)
    want = simulate(
        bars,
        sma_cross(bars.open, bars.high, bars.low, bars.close, bars.volume, fast=5, slow=20),
        config,
    )
    ensemble = Ensemble({"sma_cross": SmaCrossProvider(5, 20)}, ONE)
    got = await replay(bars, INSTRUMENT, ensemble, config, history=None, with_indicators=False)
    assert_same_run(got.run, want)


async def test_providers_see_only_the_past_with_the_live_context() -> None:
    bars = synthetic(120)
    spy = Spy()
    models = bar_models(bars)
    clock = ManualClock(models[0].ts - timedelta(days=1))
    stamps: list[datetime] = []

    async def record(i: int, decision: Decision) -> None:
        stamps.append(clock.now())

    await replay(
        bars,
        INSTRUMENT,
        Ensemble({"spy": spy}, ONE),
        history=50,
        start=10,
        clock=clock,
        on_decision=record,
    )
    assert len(spy.seen) == 110
    for k, ctx in enumerate(spy.seen):
        i = 10 + k
        assert ctx.bars == tuple(models[max(0, i - 49) : i + 1])
        assert ctx.as_of == models[i].ts == stamps[k]
        assert ctx.series is not None and ctx.series.index == i  # the bar, in its series
    ctx = spy.seen[-1]
    rebuilt = build_context(
        INSTRUMENT, models[-50:], ctx.as_of, Portfolio(cash=Decimal(10_000)), ctx.memory
    )
    # Same fields as the live service's context, incl. indicators; only the replay's cursor added.
    assert ctx.model_copy(update={"series": None}) == rebuilt
    assert len(ctx.memory) == 5 and ctx.memory[0].created_at == models[-2].ts


@pytest.mark.parametrize("timed", [True, False], ids=["timed", "bar-numbers"])
async def test_a_replayed_contexts_prompt_key_is_the_live_contexts(timed: bool) -> None:
    """prompt_key reads a replayed context's bars from its series (as floats, once per series):
    the key is the one the same context gets without the cursor, so a vote cached live answers
    in a replay and the other way round."""
    bars = synthetic(160)
    if not timed:
        bars = Bars(bars.open, bars.high, bars.low, bars.close, bars.volume)
    spy = Spy()
    ensemble = Ensemble({"sma_cross": SmaCrossProvider(5, 20), "spy": spy}, ONE)
    await replay(bars, INSTRUMENT, ensemble, history=50, start=10)
    assert len(spy.seen) == 150
    for ctx in spy.seen[::7]:
        assert ctx.series is not None and ctx.series.series.time is not None
        live = ctx.model_copy(update={"series": None})
        for max_bars in (10, 30, 60):  # fewer bars shown than the window holds, and all of them
            assert prompt_key(ctx, max_bars=max_bars) == prompt_key(live, max_bars=max_bars)
    a, b = spy.seen[40], spy.seen[41]
    assert prompt_key(a) != prompt_key(b)


class CachedPromptProvider:
    """Stands in for an LLM provider with a vote cache keyed by the rendered prompt's hash."""

    name = "llm"

    def __init__(self) -> None:
        self.cache: dict[str, ProviderVote] = {}
        self.misses = 0

    async def vote(self, context: DecisionContext) -> ProviderVote:
        key = prompt_hash(render_prompt(context))
        if key not in self.cache:
            self.misses += 1
            action = Action.BUY if len(self.cache) % 7 == 3 else Action.HOLD
            self.cache[key] = ProviderVote(provider=self.name, action=action, confidence=0.8)
        return self.cache[key]


async def test_a_rerun_is_answered_from_a_prompt_keyed_vote_cache() -> None:
    bars = synthetic(150)
    llm = CachedPromptProvider()
    ensemble = Ensemble({"llm": llm}, ONE)
    first = await replay(bars, INSTRUMENT, ensemble, history=60, start=30)
    assert llm.misses == 120  # every bar's prompt differs
    second = await replay(bars, INSTRUMENT, ensemble, history=60, start=30)
    assert llm.misses == 120  # same contexts, same prompts: nothing asked twice
    np.testing.assert_array_equal(first.actions, second.actions)
    assert len(first.run.trades) > 0


async def test_position_and_portfolio_follow_the_fills() -> None:
    bars = synthetic(400)
    spy = Spy()

    class Weights:  # the cross outweighs the spy's HOLD, so its votes decide
        async def weights(self, providers: list[str]) -> dict[str, float]:
            return {"sma_cross": 2.0, "spy": 1.0}

    ensemble = Ensemble(
        {"sma_cross": SmaCrossProvider(5, 20), "spy": spy},
        EnsembleSettings(aggregation="weighted_majority", quorum=1, max_disagreement=0.5),
        weights=Weights(),
    )
    config = FillConfig(cash=10_000, commission=0.002)
    got = await replay(bars, INSTRUMENT, ensemble, config, history=None, with_indicators=False)
    t = got.run.trades
    first_entry = int(t.entry_bar[0])
    assert spy.seen[first_entry - 1].position.is_flat
    held = spy.seen[first_entry].position
    assert held.quantity == Decimal(repr(float(t.size[0])))
    assert held.average_price == Decimal(repr(float(t.entry_price[0])))
    pf = spy.seen[first_entry].portfolio
    price = Decimal(repr(float(bars.close[first_entry])))
    assert float(pf.equity({"GOOG": price})) == pytest.approx(got.run.equity[first_entry])


async def test_rejected_decisions_do_not_trade() -> None:
    bars = synthetic(400)

    async def reject_all(decision: Decision, context: DecisionContext) -> Decision:
        verdict = RiskAssessment(approved=False, reason="limits")
        return decision.model_copy(update={"risk": verdict})

    ensemble = Ensemble({"sma_cross": SmaCrossProvider(5, 20)}, ONE)
    got = await replay(
        bars, INSTRUMENT, ensemble, history=None, risk=reject_all, with_indicators=False
    )
    assert len(got.run.trades) == 0
    assert not got.actions.any() and not got.targets.any()
    unchecked = await replay(bars, INSTRUMENT, ensemble, history=None, with_indicators=False)
    assert len(unchecked.run.trades) > 0
    assert got.run.equity[-1] == 10_000


async def test_broken_providers_hold_instead_of_crashing() -> None:
    class Raises:
        name = "raises"

        async def vote(self, context: DecisionContext) -> ProviderVote:
            raise RuntimeError("boom")

    bars = synthetic(60)
    got = await replay(bars, INSTRUMENT, Ensemble({"raises": Raises()}, ONE))
    assert got.decisions == 60 and len(got.run.trades) == 0


def test_replay_rejects_bad_arguments() -> None:
    import asyncio

    bars = synthetic(30)
    ensemble = Ensemble({"spy": Spy()}, ONE)
    with pytest.raises(ValueError, match="history"):
        asyncio.run(replay(bars, INSTRUMENT, ensemble, history=0))
    with pytest.raises(ValueError, match="start"):
        asyncio.run(replay(bars, INSTRUMENT, ensemble, start=30))


def test_untimed_bars_get_minute_spacing() -> None:
    bars = Bars(*(np.full(3, 10.0) for _ in range(5)))
    models = bar_models(bars)
    assert [m.ts for m in models] == [
        datetime(1970, 1, 1, tzinfo=UTC) + timedelta(minutes=i) for i in range(3)
    ]


def test_bar_models_equal_validated_bars_and_name_a_bad_row() -> None:
    bars = synthetic(20)
    models = bar_models(bars)
    for m in models[:3] + models[-3:]:
        assert m == Bar.model_validate(m.model_dump())
    assert models[1].ts == datetime(2024, 1, 1, 1, tzinfo=UTC)
    broken = Bars(bars.open.copy(), bars.high, bars.low, bars.close, bars.volume, bars.time)
    broken.open[7] = bars.high[7] * 1.01
    with pytest.raises(ValidationFailed, match="row 7: open and close"):
        bar_models(broken)
    negative = Bars(bars.open, bars.high, bars.low, bars.close, -bars.volume, bars.time)
    with pytest.raises(ValidationFailed, match="row 0: volume"):
        bar_models(negative)
