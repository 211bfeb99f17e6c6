"""Each limit on its own, with figures worked out by hand: resize when possible, else reject."""

from __future__ import annotations

from datetime import timedelta

from ffe_core.config import RiskSettings
from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.portfolio import Portfolio
from ffe_core.services.risk import RiskManager, RiskState

from .factories import AAPL, BTC, ETH, TS, D, bars, context, decision, portfolio

LOOSE_CORRELATION = {"max_correlated_exposure": 10.0}


def run(manager: RiskManager, dec: Decision, book: Portfolio, price: float = 50000.0) -> Decision:
    return manager.assess(dec, context(BTC, price, book, atr=1250.0))


def verdict(got: Decision) -> tuple[bool, str]:
    assert got.risk is not None
    return got.risk.approved, got.risk.reason


def test_hold_is_approved_with_nothing_to_do() -> None:
    got = run(RiskManager(RiskSettings()), decision(Action.HOLD, confidence=0.1), portfolio("1000"))
    assert verdict(got) == (True, "nothing to do")
    assert got.suggested_size == 0


def test_low_confidence_is_rejected() -> None:
    got = run(
        RiskManager(RiskSettings(min_confidence=0.6)),
        decision(Action.BUY, confidence=0.59),
        portfolio("1000"),
    )
    approved, reason = verdict(got)
    assert not approved and "confidence 0.59 below min_confidence 0.60" in reason


def test_position_limit_resizes_to_a_quarter_of_equity() -> None:
    # 1,000 risk over a 1,000 stop -> 1 BTC = 50,000 > 25% of 100,000 -> 0.5 BTC
    got = run(
        RiskManager(RiskSettings()),
        decision(Action.BUY, price="50000", stop="49000"),
        portfolio("100000"),
    )
    approved, reason = verdict(got)
    assert approved and reason.startswith("resized: max_position_fraction")
    assert "0.5000x of equity" in reason and "1.0000 → 0.5000" in reason
    assert got.suggested_size == D("0.5")


def test_position_limit_counts_what_is_already_held() -> None:
    # hold 0.3 BTC (15,000 of equity 100,000); target 1 BTC, limit 25,000 -> may add 0.2
    book = portfolio("85000", BTC_USD=("0.3", "50000"))
    got = run(RiskManager(RiskSettings()), decision(Action.BUY, price="50000", stop="49000"), book)
    assert got.suggested_size == D("0.2")


def test_gross_exposure_limit_binds_before_the_position_limit() -> None:
    # ETH 2 x 40,000 = 80,000, cash 20,000: gross room 20,000 -> 0.4 BTC (position limit 0.5)
    manager = RiskManager(RiskSettings(**LOOSE_CORRELATION))
    manager.observe("ETH-USD", bars([40000.0]))
    book = portfolio("20000", ETH_USD=("2", "40000"))
    got = run(manager, decision(Action.BUY, price="50000", stop="49000"), book)
    approved, reason = verdict(got)
    assert approved and reason.startswith("resized: max_gross_exposure")
    assert got.suggested_size == D("0.4")


def test_leverage_limit() -> None:
    # same book, leverage 0.9x: room 90,000 - 80,000 = 10,000 -> 0.2 BTC
    settings = RiskSettings(max_gross_exposure=3, max_leverage=0.9, **LOOSE_CORRELATION)
    manager = RiskManager(settings)
    manager.observe("ETH-USD", bars([40000.0]))
    book = portfolio("20000", ETH_USD=("2", "40000"))
    got = run(manager, decision(Action.BUY, price="50000", stop="49000"), book)
    approved, reason = verdict(got)
    assert approved and reason.startswith("resized: max_leverage")
    assert got.suggested_size == D("0.2")


def test_no_room_left_is_rejected_with_the_figures() -> None:
    manager = RiskManager(RiskSettings(**LOOSE_CORRELATION))
    manager.observe("ETH-USD", bars([40000.0]))
    book = portfolio("0", ETH_USD=("2.5", "40000"))  # gross 100,000 = equity
    got = run(manager, decision(Action.BUY, price="50000", stop="49000"), book)
    approved, reason = verdict(got)
    assert not approved
    assert reason == (
        "rejected: max_gross_exposure: 1.0000 would make gross exposure 1.5000x of equity "
        "(limit 1.0x, equity 100,000.00); nothing fits"
    )
    assert got.suggested_size == 0 and got.risk is not None and got.risk.size is None


def test_fees_are_reserved_so_the_limit_holds_after_paying_them() -> None:
    # 0.25 * 100,000 / (50,000 * (1 + 0.25 * 0.01)) = 0.49875... -> 0.4987
    manager = RiskManager(RiskSettings(), fee_rate=D("0.01"))
    got = run(manager, decision(Action.BUY, price="50000", stop="49000"), portfolio("100000"))
    assert got.suggested_size == D("0.4987")


def test_sell_while_long_closes_even_far_beyond_every_limit() -> None:
    manager = RiskManager(RiskSettings())
    book = portfolio("-400000", BTC_USD=("10", "50000"))  # 500,000 of BTC on 100,000 equity
    manager.update_equity(D("1000000"), TS - timedelta(days=3))  # deep drawdown: kill switch
    got = run(manager, decision(Action.SELL, confidence=0.9), book)
    assert verdict(got) == (True, "exit: closes the position of 10")
    assert manager.state.kill_switch.tripped
    assert got.suggested_size == D("10")


def test_exit_can_be_partial_but_never_flips() -> None:
    book = portfolio("50000", BTC_USD=("1", "50000"))
    manager = RiskManager(RiskSettings())
    assert run(manager, decision(Action.SELL, size="0.25"), book).suggested_size == D("0.25")
    assert run(manager, decision(Action.SELL, size="3"), book).suggested_size == D("1")


def test_buy_while_short_covers() -> None:
    book = portfolio("150000", BTC_USD=("-1", "50000"))
    got = run(RiskManager(RiskSettings(allow_short=False)), decision(Action.BUY), book)
    assert verdict(got) == (True, "exit: closes the position of -1")
    assert got.suggested_size == D("1")


def test_short_entry_needs_allow_short() -> None:
    got = run(
        RiskManager(RiskSettings(allow_short=False)), decision(Action.SELL), portfolio("100000")
    )
    approved, reason = verdict(got)
    assert not approved and "shorting is not allowed" in reason


def test_repeated_signal_does_not_pyramid_past_the_target() -> None:
    manager = RiskManager(RiskSettings())  # target 0.4 BTC with a 2,500 ATR stop
    half = portfolio("90000", BTC_USD=("0.2", "50000"))
    assert run(manager, decision(Action.BUY), half).suggested_size == D("0.2")
    full = portfolio("80000", BTC_USD=("0.4", "50000"))
    got = run(manager, decision(Action.BUY), full)
    assert verdict(got) == (True, "nothing to do: position already at its target")
    assert got.suggested_size == 0


def test_suggested_size_caps_the_order() -> None:
    got = run(RiskManager(RiskSettings()), decision(Action.BUY, size="0.1"), portfolio("100000"))
    assert got.suggested_size == D("0.1")


def test_size_below_the_increment_is_rejected() -> None:
    # 1% of 1,000 = 10 over a 10 stop -> 1 share... with 500 equity: 0.5 share -> 0
    ctx = context(AAPL, 190.0, portfolio("500"), atr=5.0)
    got = RiskManager(RiskSettings()).assess(decision(Action.BUY, AAPL, price="190"), ctx)
    approved, reason = verdict(got)
    assert not approved and "rounds to 0" in reason


def test_daily_loss_blocks_entries_for_the_rest_of_the_day_only() -> None:
    manager = RiskManager(RiskSettings(max_daily_loss=0.05))
    manager.update_equity(D("100000"), TS.replace(hour=0))
    book = portfolio("95000")  # 5% down on the day
    got = run(manager, decision(Action.BUY), book)
    approved, reason = verdict(got)
    assert not approved
    assert "daily_loss: equity 95,000.00 is 5.00% below the start of day 100,000.00" in reason
    assert verdict(run(manager, decision(Action.SELL), portfolio("45000", BTC_USD=("1", "50000"))))[
        0
    ]
    tomorrow = context(BTC, 50000.0, book, atr=1250.0, as_of=TS + timedelta(days=1))
    assert verdict(manager.assess(decision(Action.BUY), tomorrow))[0]
    assert manager.state.start_of_day_equity == D("95000")


def test_daily_loss_just_inside_the_limit_is_allowed() -> None:
    manager = RiskManager(RiskSettings(max_daily_loss=0.05))
    manager.update_equity(D("100000"), TS.replace(hour=0))
    assert verdict(run(manager, decision(Action.BUY), portfolio("95000.01")))[0]


def _returns_path(start: float, n: int, scale: float = 1.0) -> list[float]:
    moves = [0.01, -0.02, 0.015, 0.005, -0.01, 0.02, -0.005, 0.01, -0.015, 0.007]
    out = [start]
    for i in range(n - 1):
        out.append(out[-1] * (1 + scale * moves[i % len(moves)]))
    return out


def test_correlated_position_shrinks_the_entry() -> None:
    # ETH moves exactly with BTC: 50,000 of ETH + x <= 60% of 100,000 -> x = 10,000 -> 0.2 BTC
    btc = _returns_path(50000.0, 40)
    eth = _returns_path(4000.0, 40)
    manager = RiskManager(RiskSettings())
    manager.observe("ETH-USD", bars(eth))
    eth_qty = D(50000) / D(repr(eth[-1]))
    book = portfolio("50000", ETH_USD=(str(eth_qty), "4000"))
    ctx = context(BTC, btc[-1], book, atr=1250.0, history=btc)
    got = manager.assess(
        decision(Action.BUY, price=f"{btc[-1]:.2f}", stop=f"{btc[-1] - 1000:.2f}"), ctx
    )
    approved, reason = verdict(got)
    assert approved and reason.startswith("resized: correlated_exposure")
    expected = 10000 / float(got.reference_price or 0)
    assert abs(float(got.suggested_size or 0) - expected) < 0.0002


def test_hedging_short_is_not_counted_as_correlated() -> None:
    btc = _returns_path(50000.0, 40)
    eth = _returns_path(4000.0, 40)
    manager = RiskManager(RiskSettings())
    manager.observe("ETH-USD", bars(eth))
    eth_qty = D(50000) / D(repr(eth[-1]))
    book = portfolio("150000", ETH_USD=(str(-eth_qty), "4000"))
    ctx = context(BTC, btc[-1], book, atr=1250.0, history=btc)
    got = manager.assess(
        decision(Action.BUY, price=f"{btc[-1]:.2f}", stop=f"{btc[-1] - 1000:.2f}"), ctx
    )
    approved, reason = verdict(got)
    assert approved and reason.startswith("resized: max_position_fraction")


def test_position_with_unknown_correlation_counts_in_full() -> None:
    manager = RiskManager(RiskSettings())  # never saw ETH bars: no correlation estimate
    book = portfolio("50000", ETH_USD=("12.5", "4000"))  # marked at cost: 50,000
    got = run(manager, decision(Action.BUY, price="50000", stop="49000"), book)
    approved, reason = verdict(got)
    assert approved and reason.startswith("resized: correlated_exposure")
    assert got.suggested_size == D("0.2")


def test_state_round_trips_through_json() -> None:
    manager = RiskManager(RiskSettings())
    manager.update_equity(D("100000"), TS)
    manager.update_equity(D("70000"), TS + timedelta(hours=1))
    stored = manager.state.model_dump_json()
    again = RiskManager(RiskSettings(), RiskState.model_validate_json(stored))
    assert again.state == manager.state and again.state.kill_switch.tripped
    assert again.state.drawdown == D("0.3")


async def test_manager_is_a_risk_check() -> None:
    got = await RiskManager(RiskSettings())(
        decision(Action.BUY), context(ETH, 4000.0, portfolio("100000"), atr=100.0)
    )
    assert got.risk is not None and got.risk.approved
    assert got.risk.checks["sizing"].startswith("fixed_fractional")
    assert got.suggested_size == D("5.000")  # 1,000 risk over a 200 stop


def test_exit_drops_levels_that_are_wrong_for_its_price() -> None:
    # no reference price: the SELL carries a stop below the market, invalid once the price is set
    book = portfolio("50000", BTC_USD=("1", "50000"))
    dec = decision(Action.SELL, stop="49000", target="40000")
    got = run(RiskManager(RiskSettings()), dec, book)
    assert got.stop_loss is None and got.take_profit == D("40000")
    assert Decision.model_validate(got.model_dump()) == got
