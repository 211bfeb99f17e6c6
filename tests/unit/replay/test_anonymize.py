"""``--anonymize``: a language model is shown a renamed instrument, rebased prices and shifted
dates, while its votes still land on the real bars they were asked about."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from ffe_core.backtest.anonymize import Mask, anonymized
from ffe_core.backtest.data import make_bars
from ffe_core.backtest.replay import replay
from ffe_core.backtest.replay_fast import bar_time
from ffe_core.config import EnsembleSettings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.ports.providers import CallEstimate, LanguageModelProvider
from ffe_core.prompts import render_prompt
from ffe_core.services.ensemble import Ensemble

BTC = Instrument(symbol="BTC-USD", asset_class=AssetClass.CRYPTO, base="BTC", quote="USD")


class PromptReader:
    """A language-model fake: reads only the rendered prompt, votes on the last two closes and
    sets its stop 2 % under the last close it was shown."""

    name = "llm"
    model = "fake-model"

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.stops: list[tuple[float, Decimal | None]] = []

    def knowledge_cutoff(self) -> date | None:
        return date(2000, 1, 1)

    async def cached_vote(self, context: DecisionContext) -> ProviderVote | None:
        return None

    def estimate_call(self, context: DecisionContext) -> CallEstimate:
        return CallEstimate(0, 0, 0.0)

    async def vote(self, context: DecisionContext) -> ProviderVote:
        prompt = render_prompt(context)
        self.prompts.append(prompt.system + "\n" + prompt.user)
        if len(context.bars) < 2:
            return ProviderVote.abstain(self.name, "one bar")
        up = context.bars[-1].close > context.bars[-2].close
        return ProviderVote(
            provider=self.name,
            action=Action.BUY if up else Action.SELL,
            confidence=0.9,
            stop_loss=Decimal(str(round(context.last_price * 0.98, 6))) if up else None,
        )


class Unmasked:
    """Records the votes the ensemble receives (after the mask is undone) with the real close."""

    def __init__(self, inner: LanguageModelProvider) -> None:
        self.name = inner.name
        self.inner = inner
        self.seen: list[tuple[float, ProviderVote]] = []

    async def vote(self, context: DecisionContext) -> ProviderVote:
        vote = await self.inner.vote(context)
        self.seen.append((context.last_price, vote))
        return vote


def bitcoin_like(n: int) -> tuple[np.ndarray, object]:
    rng = np.random.default_rng(7)
    close = 43_210.0 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    time = np.datetime64("2026-02-02T00:00") + np.arange(n) * np.timedelta64(1, "h")
    bars = make_bars(close, close * 1.002, close * 0.997, close, np.full(n, 5.0), time)
    return close, bars


async def test_the_model_sees_no_real_symbol_price_or_date_and_votes_map_back() -> None:
    close, bars = bitcoin_like(60)
    fake = PromptReader()
    assert isinstance(fake, LanguageModelProvider)
    masks = {"BTC-USD": Mask.of(BTC, float(close[0]), bar_time(bars, 0), 0)}
    masked = anonymized({"llm": fake}, masks)["llm"]
    assert isinstance(masked, LanguageModelProvider)  # still metered and guarded as one
    probe = Unmasked(masked)  # type: ignore[arg-type]
    ensemble = Ensemble({"llm": probe}, EnsembleSettings(quorum=1))
    result = await replay(bars, BTC, ensemble, history=30, record_votes=True, fast=False)

    assert len(fake.prompts) == 60
    real_prices = {f"{v:.6g}" for v in np.r_[close, close * 1.002, close * 0.997]}
    real_days = {str(d)[:10] for d in bars.time.astype("datetime64[D]")}
    for prompt in fake.prompts:
        assert "BTC" not in prompt and "ASSET-A" in prompt
        assert not any(p in prompt for p in real_prices)
        assert not any(d in prompt for d in real_days)
        assert "2026" not in prompt
    # the fake judged the masked series; its calls are the real series' moves, bar for bar
    assert result.votes is not None
    moves = np.sign(np.diff(close)).astype(np.int8)
    assert (result.votes.actions[0][1:] == moves).all()
    # and its stop, set 2 % under the close it was shown, is 2 % under the real close
    stops = [(price, v.stop_loss) for price, v in probe.seen if v.stop_loss is not None]
    assert stops
    for price, stop in stops:
        assert float(stop) == pytest.approx(price * 0.98, rel=1e-5)


def test_masks_shift_whole_weeks_and_rebase_to_one_hundred() -> None:
    close, bars = bitcoin_like(3)
    mask = Mask.of(BTC, float(close[0]), bar_time(bars, 0), 27)
    assert mask.alias == "ASSET-AB"
    assert mask.price(float(close[0])) == 100.0
    shifted = mask.time(bar_time(bars, 0))
    assert shifted.weekday() == bar_time(bars, 0).weekday() and shifted.year == 2001
    assert mask.indicators({"sma_20": close[0], "rsi_14": 55.0, "mystery": 1.0}) == {
        "sma_20": 100.0,
        "rsi_14": 55.0,
    }
