"""Attribution of a replay: votes recorded the same on both paths, scored as the learning
service scores them, and weights replayed forward without a future outcome."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ffe_adapters.quant.providers import BreakoutProvider, MeanReversionProvider, TrendProvider
from ffe_core.backtest.attribution import horizon_returns, vote_hits, weight_path
from ffe_core.backtest.replay import replay
from ffe_core.backtest.vote_log import VoteLog
from ffe_core.config import EnsembleSettings, LearningSettings
from ffe_core.domain.decisions import Action
from ffe_core.services.ensemble import Ensemble
from ffe_core.services.learning_scoring import brier, is_hit

from .bars import INSTRUMENT, random_bars

CODES = {1: Action.BUY, -1: Action.SELL, 0: Action.HOLD}


def ensemble() -> Ensemble:
    providers = [TrendProvider(), MeanReversionProvider(), BreakoutProvider()]
    return Ensemble({p.name: p for p in providers}, EnsembleSettings(quorum=2))


async def test_votes_are_recorded_identically_on_the_batch_and_per_bar_paths() -> None:
    bars = random_bars(400, seed=11)
    fast = await replay(bars, INSTRUMENT, ensemble(), start=5, record_votes=True)
    slow = await replay(bars, INSTRUMENT, ensemble(), start=5, record_votes=True, fast=False)
    plain = await replay(bars, INSTRUMENT, ensemble(), start=5, fast=False)
    assert fast.votes is not None and slow.votes is not None and plain.votes is None
    assert np.array_equal(slow.run.equity, plain.run.equity)  # recording changes nothing
    for field in ("actions", "confidences", "abstained", "asked", "ensemble_action"):
        assert np.array_equal(getattr(fast.votes, field), getattr(slow.votes, field)), field
    assert np.allclose(fast.votes.ensemble_confidence, slow.votes.ensemble_confidence)
    assert not fast.votes.asked[:5].any() and fast.votes.asked[5:].all()
    assert fast.votes.abstained[:, :5].all()


@given(
    st.lists(st.sampled_from([1, -1, 0]), min_size=1, max_size=30),
    st.lists(st.floats(-0.05, 0.05), min_size=30, max_size=30),
    st.floats(0, 1),
)
def test_vote_hits_and_brier_agree_with_the_learning_service(
    actions: list[int], returns: list[float], confidence: float
) -> None:
    acts = np.array(actions, dtype=np.int8)
    rets = np.array(returns[: len(actions)])
    hits = vote_hits(acts, rets, 0.002)
    for a, r, h in zip(actions, rets.tolist(), hits.tolist(), strict=True):
        assert h == is_hit(CODES[a], r, 0.002)
        assert (confidence - h) ** 2 == brier(confidence, h)


def test_weights_never_use_an_outcome_before_its_horizon_has_passed() -> None:
    n, horizon = 60, 4
    rng = np.random.default_rng(5)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    actions = rng.choice(np.array([1, -1, 0], dtype=np.int8), size=(2, n))
    votes = VoteLog(
        ("a", "b"),
        actions,
        np.full((2, n), 0.6),
        np.zeros((2, n), dtype=bool),
        np.ones(n, dtype=bool),
        np.zeros(n, dtype=np.int8),
        np.zeros(n),
    )
    settings = LearningSettings()
    before = weight_path(votes, horizon_returns(close, horizon), horizon, settings, checkpoints=n)
    later = close.copy()
    later[40:] = close[39] * np.exp(-0.05 * np.arange(1, n - 39))  # the future crashes
    after = weight_path(votes, horizon_returns(later, horizon), horizon, settings, checkpoints=n)
    for name in ("a", "b"):
        assert before["providers"][name][:40] == after["providers"][name][:40]
        assert before["providers"][name][40:] != after["providers"][name][40:]
        assert before["providers"][name][:horizon] == [1.0] * horizon
