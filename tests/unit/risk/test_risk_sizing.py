"""Each sizing method and the protective levels, with numbers worked out by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ffe_core.config import RiskSettings
from ffe_core.domain.decisions import Action, Decision
from ffe_core.services.risk import RiskManager
from ffe_core.services.risk_sizing import Edge, kelly_fraction, protective_levels

from .factories import AAPL, BTC, D, context, decision, portfolio

CASH = portfolio("100000")  # equity 100,000, flat


def assess(
    settings: RiskSettings, dec: Decision, atr: float | None = 1250.0, **kw: object
) -> Decision:
    manager = RiskManager(settings, **kw)  # type: ignore[arg-type]
    return manager.assess(dec, context(BTC, 50000.0, CASH, atr=atr))


def test_fixed_fractional_risks_one_percent_between_entry_and_own_stop() -> None:
    # 1% of 100,000 = 1,000 at risk over a 5,000 stop distance -> 0.2 BTC (10,000 notional)
    got = assess(RiskSettings(), decision(Action.BUY, price="50000", stop="45000"))
    assert got.risk is not None and got.risk.approved
    assert got.risk.reason == "approved"
    assert got.suggested_size == D("0.2") == got.risk.size
    assert got.risk.notional == D("10000")
    assert got.stop_loss == D("45000")
    assert got.take_profit == D("60000.00")  # 2R beyond entry


def test_fixed_fractional_with_atr_stop() -> None:
    # stop 2 ATR = 2,500 below 50,000; 1,000 / 2,500 = 0.4 BTC; target 2R = 55,000
    got = assess(RiskSettings(), decision(Action.BUY, price="50000"))
    assert got.suggested_size == D("0.4")
    assert (got.stop_loss, got.take_profit) == (D("47500.00"), D("55000.00"))


def test_volatility_target_sizes_one_atr_move_to_risk_per_trade() -> None:
    # 0.5% of 100,000 = 500 per ATR of 1,250 -> 0.4 BTC
    settings = RiskSettings(sizing="volatility_target", risk_per_trade=0.005)
    got = assess(settings, decision(Action.BUY, price="50000"))
    assert got.suggested_size == D("0.4")


def test_volatility_target_without_atr_uses_the_stop_distance() -> None:
    # no ATR: ATR estimate = 5,000 / 2 = 2,500 -> 500 / 2,500 = 0.2 BTC
    settings = RiskSettings(sizing="volatility_target", risk_per_trade=0.005)
    got = assess(settings, decision(Action.BUY, price="50000", stop="45000"), atr=None)
    assert got.suggested_size == D("0.2")


def test_kelly_quarter_of_full_kelly_of_equity() -> None:
    # p = 0.6, b = 2 -> full 0.4, quarter 0.1 -> 10,000 notional -> 0.2 BTC
    got = assess(RiskSettings(sizing="kelly"), decision(Action.BUY, price="50000", confidence=0.6))
    assert got.suggested_size == D("0.2")


def test_kelly_is_capped() -> None:
    # p = 0.9, b = 2 -> full 0.85, quarter 0.2125 > cap 0.2 -> 20,000 notional -> 0.4 BTC
    got = assess(RiskSettings(sizing="kelly"), decision(Action.BUY, price="50000", confidence=0.9))
    assert got.suggested_size == D("0.4")


def test_kelly_uses_the_edge_passed_in() -> None:
    # p = 0.5, b = 3 -> full 1/3, quarter 1/12 of 100,000 = 8,333.33 -> 0.16666 -> 0.1666 (down)
    got = assess(
        RiskSettings(sizing="kelly"),
        decision(Action.BUY, price="50000"),
        edge=lambda _d, _c: Edge(win_rate=0.5, payoff=3.0),
    )
    assert got.suggested_size == D("0.1666")


def test_kelly_without_edge_rejects() -> None:
    # own target 52,500 over stop 45,000 -> payoff 0.5; p = 0.55 -> 0.55 - 0.45 / 0.5 < 0
    dec = decision(Action.BUY, price="50000", confidence=0.55, stop="45000", target="52500")
    got = assess(RiskSettings(sizing="kelly"), dec)
    assert got.risk is not None and not got.risk.approved
    assert "kelly: no edge" in got.risk.reason
    assert got.suggested_size == 0


@given(
    p=st.floats(0, 1),
    b=st.floats(0.01, 100),
    fraction=st.floats(0.01, 1),
    cap=st.floats(0.01, 1),
)
def test_kelly_fraction_stays_within_zero_and_cap(
    p: float, b: float, fraction: float, cap: float
) -> None:
    f = kelly_fraction(Edge(p, b), fraction, cap)
    assert 0 <= f <= cap
    if p - (1 - p) / b <= 0:
        assert f == 0


def test_size_is_rounded_down_to_the_increment() -> None:
    # AAPL at 190, stop 2 ATR = 10 below -> 1,000 / 10 = 100 shares = 19,000 (19%)
    manager = RiskManager(RiskSettings(risk_per_trade=0.01, atr_stop_multiple=2.0))
    got = manager.assess(
        decision(Action.BUY, AAPL, price="190"), context(AAPL, 190.0, CASH, atr=5.0)
    )
    assert got.suggested_size == D("100")
    # ATR 6.01: distance 12.02 -> 83.19... shares -> 83
    got = manager.assess(
        decision(Action.BUY, AAPL, price="190"), context(AAPL, 190.0, CASH, atr=6.01)
    )
    assert got.suggested_size == D("83")


def test_short_entry_puts_stop_above_and_target_below() -> None:
    got = assess(RiskSettings(), decision(Action.SELL, price="50000"))
    assert got.risk is not None and got.risk.approved
    assert (got.stop_loss, got.take_profit) == (D("52500.00"), D("45000.00"))
    assert got.suggested_size == D("0.4")


def test_own_stop_on_the_wrong_side_is_replaced_by_the_atr_stop() -> None:
    # no reference price on the decision, so its stop can sit above the market
    got = assess(RiskSettings(), decision(Action.BUY, stop="51000"))
    assert got.stop_loss == D("47500.00")
    assert got.reference_price == D("50000.0")


def test_entry_without_any_stop_is_rejected() -> None:
    got = assess(RiskSettings(), decision(Action.BUY, price="50000"), atr=None)
    assert got.risk is not None and not got.risk.approved
    assert "no stop-loss" in got.risk.reason


def test_atr_is_computed_from_bars_when_the_indicator_is_missing() -> None:
    # 30 flat bars alternating 100 / 102: true ranges 0 (first bar), then 2. Wilder's ATR(14)
    # starts at 26 / 14 and moves 1/14 of the way to 2 on each of the 16 later bars.
    history = [100.0 if i % 2 else 102.0 for i in range(30)]
    atr = 2 - (2 / 14) * (13 / 14) ** 16
    ctx = context(AAPL, 100.0, CASH, history=history)
    got = RiskManager(RiskSettings()).assess(decision(Action.BUY, AAPL, price="100"), ctx)
    assert got.stop_loss == D(math.floor((100 - 2 * atr) * 100)) / 100 == D("96.08")


def test_atr_stop_that_would_be_negative_is_rejected() -> None:
    levels = protective_levels(
        Action.BUY,
        D(10),
        stop=None,
        target=None,
        atr=D(6),
        atr_multiple=2.0,
        reward_risk=2.0,
        instrument=AAPL,
    )
    assert isinstance(levels, str) and "no stop-loss" in levels


@pytest.mark.parametrize("action", [Action.BUY, Action.SELL])
@given(
    entry=st.decimals("0.05", "100000", places=2),
    atr=st.decimals("0.01", "5000", places=2),
    multiple=st.floats(0.1, 5),
    rr=st.floats(0.1, 5),
)
def test_derived_levels_are_always_on_the_right_side(
    action: Action, entry: D, atr: D, multiple: float, rr: float
) -> None:
    levels = protective_levels(
        action,
        entry,
        stop=None,
        target=None,
        atr=atr,
        atr_multiple=multiple,
        reward_risk=rr,
        instrument=BTC,
    )
    if isinstance(levels, str):
        return
    sign = 1 if action is Action.BUY else -1
    assert (entry - levels.stop_loss) * sign > 0 < (levels.take_profit - entry) * sign
    assert levels.stop_loss > 0 and levels.take_profit > 0
