"""aggregate_batch equals Ensemble.decide on every column of random vote matrices."""

from __future__ import annotations

import numpy as np
import pytest

from ffe_core.config import EnsembleSettings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.services.ensemble import Ensemble
from ffe_core.services.ensemble_batch import Held, aggregate_batch, weight_vector
from tests.unit.ensemble.fakes import context

ACTIONS = {1: Action.BUY, -1: Action.SELL, 0: Action.HOLD}
REASONS = {
    "HOLD: quorum not met": Held.QUORUM,
    "HOLD: no unanimity": Held.NO_UNANIMITY,
    "HOLD: all counted votes have zero weight": Held.ZERO_WEIGHT,
    "HOLD: tie": Held.TIE,
    "HOLD: providers disagree": Held.DISAGREEMENT,
}


class Column:
    """Votes row ``k`` of the matrices at the column the test points it to."""

    def __init__(self, name: str, k: int, matrices: dict[str, np.ndarray]) -> None:
        self.name, self.k, self.m = name, k, matrices
        self.j = 0

    async def vote(self, context: DecisionContext) -> ProviderVote:
        k, j = self.k, self.j
        if self.m["abstained"][k, j]:
            return ProviderVote.abstain(self.name, "no data")
        return ProviderVote(
            provider=self.name,
            action=ACTIONS[int(self.m["actions"][k, j])],
            confidence=float(self.m["confidences"][k, j]),
        )


class Weights:
    def __init__(self, weights: dict[str, float]) -> None:
        self.values = weights

    async def weights(self, providers: list[str]) -> dict[str, float]:
        return self.values


def held_code(reasoning: str) -> Held:
    return next(
        (code for prefix, code in REASONS.items() if reasoning.startswith(prefix)), Held.DECIDED
    )


def random_votes(rng: np.random.Generator, m: int, n: int) -> dict[str, np.ndarray]:
    # Few distinct confidences and weights, so that ties and exact thresholds do occur.
    grid = np.array([0.0, 0.25, 0.3, 0.5, 0.75, 1.0])
    conf = np.where(rng.random((m, n)) < 0.5, rng.choice(grid, (m, n)), rng.random((m, n)))
    return {
        "actions": rng.integers(-1, 2, (m, n)).astype(np.int8),
        "confidences": conf.round(4),
        "abstained": rng.random((m, n)) < 0.2,
    }


SETTINGS = [
    EnsembleSettings(aggregation=mode, quorum=quorum, max_disagreement=limit)
    for mode in ("weighted_majority", "confidence_weighted", "unanimity")
    for quorum, limit in ((1, 0.0), (2, 0.5), (3, 0.34), (1, 1.0), (2, 0.6))
]


@pytest.mark.parametrize(
    "settings", SETTINGS, ids=lambda s: f"{s.aggregation}-q{s.quorum}-{s.max_disagreement}"
)
@pytest.mark.parametrize("weighting", ["equal", "grid", "random", "missing"])
async def test_batch_aggregation_equals_decide(settings: EnsembleSettings, weighting: str) -> None:
    seed = SETTINGS.index(settings) * 10 + ["equal", "grid", "random", "missing"].index(weighting)
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(1, 5)), 60
    votes = random_votes(rng, m, n)
    names = [f"p{k}" for k in range(m)]
    weights = {
        "equal": dict.fromkeys(names, 1.0),
        "grid": {p: float(rng.choice([0.0, 0.5, 1.0, 2.0])) for p in names},
        "random": {p: float(rng.uniform(0, 3)) for p in names},
        "missing": {p: 2.0 for p in names[1:]},  # p0 counts with the default 1.0
    }[weighting]
    providers = [Column(p, k, votes) for k, p in enumerate(names)]
    ensemble = Ensemble({p.name: p for p in providers}, settings, weights=Weights(weights))
    got = aggregate_batch(
        votes["actions"],
        votes["confidences"],
        votes["abstained"],
        weight_vector(names, weights),
        settings,
    )
    ctx = context()
    for j in range(n):
        for p in providers:
            p.j = j
        decision = await ensemble.decide(ctx)
        assert ACTIONS[int(got.actions[j])] is decision.action, f"column {j}"
        assert round(float(got.confidences[j]), 6) == decision.confidence, f"column {j}"
        assert got.held[j] == held_code(decision.reasoning), f"column {j}: {decision.reasoning}"


def test_holds_of_every_kind_occur_in_the_random_matrices() -> None:
    rng = np.random.default_rng(1)
    seen: set[int] = set()
    for settings in SETTINGS:
        m = 3
        votes = random_votes(rng, m, 200)
        w = rng.choice([0.0, 1.0], m)
        got = aggregate_batch(
            votes["actions"], votes["confidences"], votes["abstained"], w, settings
        )
        seen |= set(got.held.tolist())
    assert seen == set(Held)


def test_judge_and_malformed_inputs_are_refused() -> None:
    one = np.zeros((1, 3))
    with pytest.raises(ValueError, match="judge"):
        aggregate_batch(
            one, one, one.astype(bool), np.ones(1), EnsembleSettings(aggregation="judge")
        )
    with pytest.raises(ValueError, match="weight"):
        aggregate_batch(one, one, one.astype(bool), np.ones(2), EnsembleSettings())
    with pytest.raises(ValueError, match="matrices"):
        aggregate_batch(np.zeros(3), np.zeros(3), np.zeros(3, bool), np.ones(1), EnsembleSettings())
