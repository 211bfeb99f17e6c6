"""Each offline provider's vote_batch equals its per-bar vote() on every bar."""

from __future__ import annotations

import numpy as np
import pytest

from ffe_adapters.quant.config import BreakoutOptions, MeanReversionOptions, TrendOptions
from ffe_adapters.quant.providers import (
    BreakoutProvider,
    MeanReversionProvider,
    TrendProvider,
    _finish,
)
from ffe_core.domain.decisions import Action
from ffe_core.domain.series import BarSeries
from ffe_core.indicators import windowed as win
from ffe_core.ports.providers import BatchDecisionProvider, SeriesBatchProvider
from tests.unit.replay.bars import contexts, goog, random_bars

CODE = {Action.BUY: 1, Action.SELL: -1, Action.HOLD: 0}

PROVIDERS = [
    pytest.param(TrendProvider(), id="trend"),
    pytest.param(TrendProvider(TrendOptions(fast=5, slow=12)), id="trend-5-12"),
    pytest.param(TrendProvider(TrendOptions(fast=30, slow=8)), id="trend-fast-gt-slow"),
    pytest.param(MeanReversionProvider(), id="mean-reversion"),
    pytest.param(
        MeanReversionProvider(MeanReversionOptions(oversold=45, overbought=55)), id="mr-narrow"
    ),
    pytest.param(BreakoutProvider(), id="breakout"),
    pytest.param(BreakoutProvider(BreakoutOptions(lookback=5)), id="breakout-5"),
]
CASES = [(300, 1, 200), (260, 2, None), (240, 3, 40), (150, 4, 25), (200, 5, 1)]


async def assert_batch_equals_votes(
    provider: BatchDecisionProvider, seed: int, n: int, history: int | None, vol: float = 0.01
) -> None:
    bars = random_bars(n, seed, vol)
    got = provider.vote_batch(bars.open, bars.high, bars.low, bars.close, bars.volume, history)
    assert got.actions.dtype == np.int8 and got.abstained.dtype == np.bool_
    assert got.actions.shape == got.confidences.shape == got.abstained.shape == (n,)
    for i, ctx in enumerate(contexts(bars, history)):
        vote = await provider.vote(ctx)
        assert got.abstained[i] == vote.abstained, f"bar {i}"
        assert got.actions[i] == CODE[vote.action], f"bar {i}"
        assert abs(got.confidences[i] - vote.confidence) <= 1e-12, f"bar {i}"
        assert got.confidences[i] == vote.confidence, f"bar {i}"  # in fact exactly


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("n", "seed", "history"), CASES)
async def test_batch_votes_equal_per_bar_votes(
    provider: BatchDecisionProvider, n: int, seed: int, history: int | None
) -> None:
    assert isinstance(provider, BatchDecisionProvider)
    await assert_batch_equals_votes(provider, seed, n, history)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_batch_votes_equal_on_calm_and_wild_markets(provider: BatchDecisionProvider) -> None:
    await assert_batch_equals_votes(provider, 11, 160, 80, vol=0.0005)
    await assert_batch_equals_votes(provider, 12, 160, 80, vol=0.08)


async def test_batch_votes_cover_every_answer_on_real_prices() -> None:
    bars = goog().slice(0, 400)
    history = 120
    ctxs = contexts(bars, history)
    for provider in (TrendProvider(), MeanReversionProvider(), BreakoutProvider()):
        got = provider.vote_batch(bars.open, bars.high, bars.low, bars.close, bars.volume, history)
        assert {-1, 0, 1} <= set(got.actions.tolist())  # BUY, SELL and HOLD all occur
        for i in range(0, len(bars), 3):
            vote = await provider.vote(ctxs[i])
            assert (got.actions[i], got.confidences[i], got.abstained[i]) == (
                CODE[vote.action],
                vote.confidence,
                vote.abstained,
            )


def test_confidences_round_like_the_type_vote_holds() -> None:
    # round(x, 4) is exact for a Python float and scales for a numpy float: find where they differ.
    xs = np.random.default_rng(0).uniform(0.5, 0.95, 200_000).round(6) + 5e-5
    differ = next(x for x in xs.tolist() if round(x, 4) != round(np.float64(x), 4))
    conf = np.array([differ, differ])
    votes = _finish(
        np.array([1, 1], np.int8), conf, np.array([False, False]), np.array([False, True])
    )
    assert votes.confidences[0] == round(differ, 4)
    assert votes.confidences[1] == round(np.float64(differ), 4) != votes.confidences[0]


def test_providers_voting_on_one_series_share_what_they_derive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On one series (as the replay's batch path hands it), the trend and mean-reversion
    providers compute the 20-bar windowed average once between them, and each votes exactly as
    its vote_batch on the arrays."""
    bars = random_bars(300, 6, 0.02)
    columns = (bars.open, bars.high, bars.low, bars.close, np.nan_to_num(bars.volume))
    providers = [TrendProvider(TrendOptions(fast=20, slow=50)), MeanReversionProvider()]
    alone = [p.vote_batch(*columns, 120) for p in providers]
    averaged: list[int] = []
    sma = win.sma

    def counting(x: object, period: int, history: int | None) -> object:
        averaged.append(period)
        return sma(x, period, history)  # type: ignore[arg-type]

    monkeypatch.setattr(win, "sma", counting)
    series = BarSeries(*columns, 120)
    shared = [p.vote_series(series) for p in providers]
    assert sorted(averaged) == [20, 50]  # trend's 20 and 50; mean reversion reads trend's 20
    for a, b in zip(alone, shared, strict=True):
        np.testing.assert_array_equal(a.actions, b.actions)
        np.testing.assert_array_equal(a.confidences, b.confidences)
        np.testing.assert_array_equal(a.abstained, b.abstained)
    assert all(isinstance(p, SeriesBatchProvider) for p in providers)
