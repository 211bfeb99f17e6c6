"""The issue's learning test: one informative provider among three noise providers."""

from __future__ import annotations

import pytest

from ffe_adapters.storage.memory import InMemoryStore
from ffe_core.config import LearningSettings
from ffe_core.services.learning import LearningService
from tests.unit.learning.synthetic import NOISE, SyntheticMarket, run_decisions

SETTINGS = LearningSettings(horizons=("1h", "4h"), learn_horizon="1h")


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_informative_provider_earns_the_largest_weight_and_better_calibration(
    seed: int,
) -> None:
    service = LearningService(InMemoryStore(), SETTINGS)
    history = await run_decisions(service, SyntheticMarket(seed=seed), 500)

    stats = {s.provider: s for s in await service.stats()}
    weights = await service.weights(["oracle", *NOISE])
    print(f"\nseed {seed}: after 500 decisions")
    print("provider  weight  hit-rate  brier   pnl")
    for name, s in stats.items():
        print(f"{name:9} {s.weight:6.2f}  {s.hit_rate:7.1%}  {s.brier:.4f}  {s.pnl:+.4f}")
    assert max(weights, key=lambda p: weights[p]) == "oracle"
    assert all(s.scored == 500 for s in stats.values())
    assert stats["oracle"].hit_rate is not None and stats["oracle"].hit_rate > 0.6
    oracle_brier = stats["oracle"].brier
    assert oracle_brier is not None
    assert all(oracle_brier < (stats[n].brier or 0) for n in NOISE)
    assert stats["oracle"].pnl > max(stats[n].pnl for n in NOISE)
    for snapshot in history:
        assert all(SETTINGS.w_min <= w <= SETTINGS.w_max for w in snapshot.values())
    assert "weight" in stats["oracle"].last_reason


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_weights_follow_a_regime_change_within_a_bounded_number_of_steps(
    seed: int,
) -> None:
    service = LearningService(InMemoryStore(), SETTINGS)
    good = SyntheticMarket(seed=seed)
    await run_decisions(service, good, 300)
    before = await service.weights(["oracle", *NOISE])
    assert max(before, key=lambda p: before[p]) == "oracle"

    good.oracle_accuracy_shift = -0.3  # now right only ~35% of the time
    steps_until_overtaken = None
    for block in range(1, 31):  # at most 150 more decisions, scored every 5
        weights = (await run_decisions(service, good, 5, score_every=5))[-1]
        if weights["oracle"] < max(weights[n] for n in NOISE):
            steps_until_overtaken = block * 5
            break
    print(f"\nseed {seed}: oracle overtaken {steps_until_overtaken} decisions after turning bad")
    assert steps_until_overtaken is not None and steps_until_overtaken <= 150
    history = await service.weight_history("oracle")
    assert history[-1].reason.startswith("miss") or history[-1].weight < before["oracle"]
