"""The drawdown kill switch: fires exactly at the limit, blocks entries only, resets by hand."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ffe_core.config import RiskSettings
from ffe_core.domain.decisions import Action
from ffe_core.services.agent_kill_switch import EquityWatch
from ffe_core.services.risk import RiskManager

from .factories import BTC, TS, D, context, decision, portfolio


def test_trips_exactly_when_drawdown_reaches_the_limit() -> None:
    manager = RiskManager(RiskSettings(max_drawdown=0.2))
    assert not manager.update_equity(D("100000"), TS)
    assert not manager.update_equity(D("120000"), TS + timedelta(hours=1))  # new peak
    assert not manager.update_equity(D("96000.01"), TS + timedelta(hours=2))  # 19.99999%
    assert manager.update_equity(D("96000"), TS + timedelta(hours=3))  # 20% of 120,000
    ks = manager.state.kill_switch
    assert ks.tripped and ks.at == TS + timedelta(hours=3)
    assert ks.reason == (
        "drawdown 20.00% from peak 120,000.00 to 96,000.00 reached max_drawdown 20.00%"
    )
    assert not manager.update_equity(D("90000"), TS + timedelta(hours=4))  # already tripped


def test_tripped_switch_rejects_entries_but_allows_exits_until_reset() -> None:
    manager = RiskManager(RiskSettings(max_drawdown=0.1, max_daily_loss=1.0))
    manager.update_equity(D("200000"), TS - timedelta(days=1))
    flat = portfolio("100000")
    got = manager.assess(decision(Action.BUY), context(BTC, 50000.0, flat, atr=1250.0))
    assert got.risk is not None and not got.risk.approved
    assert got.risk.reason.startswith("rejected: kill switch tripped: drawdown 50.00%")
    long = portfolio("50000", BTC_USD=("1", "50000"))
    got = manager.assess(decision(Action.SELL), context(BTC, 50000.0, long, atr=1250.0))
    assert got.risk is not None and got.risk.approved and got.suggested_size == 1
    manager.reset_kill_switch("alice", TS)
    assert manager.state.kill_switch.reset_by == "alice"
    assert manager.state.peak_equity == D("100000")
    got = manager.assess(decision(Action.BUY), context(BTC, 50000.0, flat, atr=1250.0))
    assert got.risk is not None and got.risk.approved


def test_a_check_updates_equity_and_can_trip_the_switch_itself() -> None:
    manager = RiskManager(RiskSettings(max_drawdown=0.2, max_daily_loss=1.0))
    manager.update_equity(D("100000"), TS - timedelta(days=1))
    got = manager.assess(
        decision(Action.BUY), context(BTC, 50000.0, portfolio("80000"), atr=1250.0)
    )
    assert manager.state.kill_switch.tripped
    assert got.risk is not None and "kill switch" in got.risk.reason


equities = st.lists(
    st.decimals(min_value="-1000", max_value="1000000", places=2, allow_nan=False),
    min_size=1,
    max_size=60,
)


@given(equities, st.floats(0.01, 1.0))
def test_fires_once_at_the_first_time_drawdown_reaches_the_limit(
    series: list[Decimal], max_drawdown: float
) -> None:
    manager = RiskManager(RiskSettings(max_drawdown=max_drawdown))
    limit = Decimal(repr(max_drawdown))
    peak: Decimal | None = None
    expected_at: int | None = None
    for i, equity in enumerate(series):
        peak = equity if peak is None else max(peak, equity)
        if expected_at is None and (equity <= 0 or equity <= peak * (1 - limit)):
            expected_at = i
        fired = manager.update_equity(equity, TS + timedelta(minutes=i))
        assert fired == (i == expected_at)
        assert manager.state.kill_switch.tripped == (expected_at is not None)


def test_manager_is_the_agents_equity_watch() -> None:
    watch: EquityWatch = RiskManager(RiskSettings(max_drawdown=0.5))
    watch.update_equity(D("100"), TS)
    assert not watch.kill_switch().tripped
    assert watch.update_equity(D("50"), TS + timedelta(hours=1))
    state = watch.kill_switch()
    assert state.tripped and state.at == TS + timedelta(hours=1)
    assert state.reason is not None and "max_drawdown 50.00%" in state.reason
