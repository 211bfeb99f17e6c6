"""The example plugin is discovered through its entry point and its provider votes sensibly."""

from __future__ import annotations

import importlib.metadata
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.registry import load_registry
from ffe_core.config import Settings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action
from ffe_core.domain.market import Bar
from ffe_core.domain.portfolio import Portfolio, Position

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def context(closes: list[float]) -> DecisionContext:
    settings = Settings()
    bars = tuple(
        Bar(ts=T0 + timedelta(hours=i), open=c, high=c * 1.001, low=c * 0.999, close=c)
        for i, c in enumerate(closes)
    )
    return DecisionContext(
        instrument=settings.instruments[0],
        as_of=bars[-1].ts,
        bars=bars,
        position=Position(instrument="BTC-USD"),
        portfolio=Portfolio(cash=Decimal(1000)),
    )


def test_entry_point_is_installed() -> None:
    eps = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="ffe")}
    assert eps.get("example") == "ffe_plugin_example.plugin"


def test_registry_discovers_contrarian_from_the_entry_point() -> None:
    registry = load_registry()
    reg = registry.get("decision_providers", "contrarian")
    assert reg.plugin.startswith("example")
    assert not [e for e in registry.errors if "example" in e.plugin]


async def test_contrarian_fades_a_spike_and_holds_in_calm_markets() -> None:
    registry = load_registry()
    factory = registry.factory("decision_providers", "contrarian")
    provider = factory(AdapterContext(name="contrarian"))
    calm = [100 + (i % 2) * 0.1 for i in range(40)]
    assert (await provider.vote(context(calm))).action is Action.HOLD
    spike = [*calm[:-5], 101, 103, 106, 110, 115]
    vote = await provider.vote(context(spike))
    assert vote.action is Action.SELL
    assert 0.5 < vote.confidence <= 1.0


async def test_too_little_history_abstains_with_reason() -> None:
    from ffe_plugin_example.provider import ContrarianProvider

    vote = await ContrarianProvider().vote(context([100.0] * 5))
    assert vote.abstained and vote.abstain_reason and "needs" in vote.abstain_reason


def test_bad_options_are_rejected() -> None:
    from ffe_plugin_example.provider import ContrarianOptions
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        ContrarianOptions.model_validate({"lookback": 0})


def test_thread_pool_lends_its_own_threads_for_one_search_only() -> None:
    import threading

    from ffe_plugin_example.thread_pool import THREAD_PREFIX

    from ffe_core.ports.compute import ComputeBackend

    build = load_registry().factory("compute", "thread_pool")
    backend = build(AdapterContext(name="thread_pool", options={"workers": 3}))
    assert isinstance(backend, ComputeBackend)
    with backend.executor() as pool:
        assert pool is not None
        names = set(pool.map(lambda _: threading.current_thread().name, range(30)))
    assert names and all(name.startswith(THREAD_PREFIX) for name in names)
    assert len(names) <= 3
    with pytest.raises(RuntimeError, match="shutdown"):
        pool.submit(print)  # taken back when the search ended


def test_the_breakout_order_strategy_is_registered_and_trades_by_its_levels() -> None:
    import numpy as np

    from ffe_core.backtest.data import make_bars
    from ffe_core.backtest.orders import run_strategy

    strategy = load_registry().factory("order_strategies", "example_breakout")
    rng = np.random.default_rng(4)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 1500)))
    o = np.r_[c[0], c[:-1]]
    bars = make_bars(o, np.maximum(o, c) * 1.002, np.minimum(o, c) * 0.998, c)
    run = run_strategy(bars, strategy, hold=10_000)
    t = run.trades
    assert len(t) > 5
    # each trade ends at its stop-loss, its target or the end of data (hold is out of reach)
    at_level = np.isclose(t.exit_price, t.sl) | np.isclose(t.exit_price, t.tp)
    gapped = (t.exit_price < t.sl) | (t.exit_price > t.tp)
    ended = t.exit_bar == len(bars) - 1
    assert np.all(at_level | gapped | ended)
    assert np.all(t.tp - t.entry_price > 1.9 * (t.entry_price - t.sl))
