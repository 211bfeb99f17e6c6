"""A replay job has nobody to ask: it spends only with ``yes`` and within ``max_cost``."""

from __future__ import annotations

import pytest

from ffe_core.backtest.replay_cost import BudgetExceeded, SpendMeter
from ffe_core.domain.errors import ValidationFailed
from ffe_entrypoints.services.replay import ReplayRequest, confirm_unattended


def estimate(cost: float) -> SpendMeter:
    meter = SpendMeter()
    spend = meter.of("openai")
    spend.calls, spend.cost_usd = 40, cost
    return meter


def test_a_free_replay_needs_no_confirmation() -> None:
    confirm_unattended(estimate(0.0), ReplayRequest([]))


def test_a_paid_replay_without_yes_is_refused_naming_the_cost() -> None:
    with pytest.raises(ValidationFailed, match=r"~\$0\.2000 on 40 uncached .*set yes"):
        confirm_unattended(estimate(0.2), ReplayRequest([]))


def test_yes_spends_within_max_cost_only() -> None:
    confirm_unattended(estimate(0.2), ReplayRequest([], yes=True, max_cost=0.5))
    with pytest.raises(BudgetExceeded, match="exceeds max_cost"):
        confirm_unattended(estimate(0.2), ReplayRequest([], yes=True, max_cost=0.1))
