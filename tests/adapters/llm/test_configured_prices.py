"""``costs.prices`` prices models for every language-model adapter; ``adapters.<name>.prices``
still wins, and the package defaults apply to what neither names."""

from __future__ import annotations

from typing import Any

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.llm.anthropic.provider import create_provider
from ffe_core.config import CoreView, Settings

COSTS = {"costs": {"prices": {"claude-sonnet-4": {"input_per_mtok": 1.0, "output_per_mtok": 2.0}}}}


def price(settings: Settings, **options: Any) -> tuple[float, float]:
    options = {"api_key": "k", **options}
    ctx = AdapterContext(name="anthropic", core=CoreView.of(settings), options=options)
    p = create_provider(ctx).options.price()
    return p.input_per_mtok, p.output_per_mtok


def test_costs_prices_override_the_package_default() -> None:
    assert price(Settings()) == (3.0, 15.0)  # the package default for claude-sonnet-4*
    assert price(Settings.model_validate(COSTS)) == (1.0, 2.0)


def test_adapter_prices_win_over_costs_prices() -> None:
    own = {"claude-sonnet-4-6": {"input_per_mtok": 9.0, "output_per_mtok": 9.5}}
    assert price(Settings.model_validate(COSTS), prices=own) == (9.0, 9.5)
