"""The fill model's rules, one case each, and its adverse-cost invariant."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ffe_core.domain.market import Bar, Quote
from ffe_core.domain.orders import OrderType, Side
from ffe_core.services.fill_model import FillCosts, simulate_fill

TS = datetime(2026, 1, 1, tzinfo=UTC)
BAR = Bar(ts=TS, open=100, high=110, low=90, close=105)
D = Decimal


def fill(
    side: Side,
    kind: OrderType,
    market: Bar | Quote = BAR,
    costs: FillCosts = FillCosts(),
    **kw: Decimal,
):
    return simulate_fill(
        side=side, order_type=kind, quantity=D(2), market=market, costs=costs, **kw
    )


def test_opening_market_order_pays_slippage_then_the_full_spread_and_commission() -> None:
    costs = FillCosts(
        commission_rate=D("0.001"), commission_fixed=D("1"), slippage=D("0.01"), spread=D("0.02")
    )
    got = fill(Side.BUY, OrderType.MARKET, costs=costs)
    assert got is not None
    assert got.price == D(100) * D("1.01") * D("1.02")
    assert got.commission == D(2) * got.price * D("0.001") + 1
    sold = fill(Side.SELL, OrderType.MARKET, costs=costs)
    assert sold is not None
    assert sold.price == D(100) * D("0.99") * D("0.98")


def test_closing_fill_pays_slippage_but_no_spread_as_in_the_backtester() -> None:
    costs = FillCosts(slippage=D("0.01"), spread=D("0.02"))
    closed = simulate_fill(
        side=Side.SELL,
        order_type=OrderType.MARKET,
        quantity=D(2),
        market=BAR,
        costs=costs,
        opening=False,
    )
    assert closed is not None
    assert closed.price == D(100) * D("0.99")


def test_paper_and_backtest_fill_rules_agree() -> None:
    """One fill model: the Decimal rules equal ffe_core.backtest.fills on the same inputs."""
    from ffe_core.backtest import fills

    costs = FillCosts(slippage=D("0.003"), spread=D("0.001"))
    for side, direction in ((Side.BUY, 1), (Side.SELL, -1)):
        got = fill(side, OrderType.MARKET, costs=costs)
        assert got is not None
        ref = fills.entry_price(fills.market_fill(100.0, direction, 0.003), direction, 0.001)
        assert float(got.price) == pytest.approx(ref, rel=1e-12)
        stop = D("105") if side is Side.BUY else D("95")
        got_stop = fill(side, OrderType.STOP, costs=costs, stop_price=stop)
        expected = fills.stop_fill(float(stop), direction, 100.0, 110.0, 90.0)
        assert got_stop is not None
        booked = fills.entry_price(fills.market_fill(expected, direction, 0.003), direction, 0.001)
        assert float(got_stop.price) == pytest.approx(booked, rel=1e-12)


def test_market_order_on_a_quote_uses_ask_for_buys_and_bid_for_sells() -> None:
    q = Quote(symbol="X", ts=TS, bid=D("99"), ask=D("101"))
    assert fill(Side.BUY, OrderType.MARKET, q).price == D("101")  # type: ignore[union-attr]
    assert fill(Side.SELL, OrderType.MARKET, q).price == D("99")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("side", "limit", "expected"),
    [
        (Side.BUY, D("95"), D("95")),  # traded through: at the limit
        (Side.BUY, D("120"), D("100")),  # open already better: at the open
        (Side.BUY, D("80"), None),  # never reached
        (Side.SELL, D("105"), D("105")),
        (Side.SELL, D("90"), D("100")),
        (Side.SELL, D("111"), None),
    ],
)
def test_limit_orders(side: Side, limit: Decimal, expected: Decimal | None) -> None:
    got = fill(side, OrderType.LIMIT, limit_price=limit)
    assert (got.price if got else None) == expected


@pytest.mark.parametrize(
    ("side", "stop", "expected"),
    [
        (Side.BUY, D("105"), D("105")),
        (Side.BUY, D("95"), D("100")),  # gapped above the stop: the worse open
        (Side.BUY, D("111"), None),
        (Side.SELL, D("95"), D("95")),
        (Side.SELL, D("105"), D("100")),
        (Side.SELL, D("89"), None),
    ],
)
def test_stop_orders(side: Side, stop: Decimal, expected: Decimal | None) -> None:
    got = fill(side, OrderType.STOP, stop_price=stop)
    assert (got.price if got else None) == expected


def test_negative_costs_are_refused() -> None:
    with pytest.raises(ValueError, match="slippage"):
        FillCosts(slippage=D("-0.1"))


@given(
    slippage=st.decimals(min_value="0", max_value="0.05", places=4),
    spread=st.decimals(min_value="0", max_value="0.05", places=4),
)
def test_costs_always_move_the_price_against_the_trader(slippage, spread) -> None:
    costs = FillCosts(slippage=slippage, spread=spread)
    buy, sell = (
        fill(Side.BUY, OrderType.MARKET, costs=costs),
        fill(Side.SELL, OrderType.MARKET, costs=costs),
    )
    assert buy is not None
    assert sell is not None
    assert sell.price <= D(100) <= buy.price


prices = st.decimals("0.01", "1000", places=2)
fractions = st.decimals("0", "0.05", places=4)


@given(
    side=st.sampled_from([Side.BUY, Side.SELL]),
    kind=st.sampled_from([OrderType.MARKET, OrderType.LIMIT, OrderType.STOP]),
    ohl=st.tuples(prices, prices, prices),
    level=prices,
    costs=st.builds(
        FillCosts,
        commission_rate=fractions,
        commission_fixed=fractions,
        slippage=fractions,
        spread=fractions,
    ),
    opening=st.booleans(),
)
def test_every_paper_fill_is_the_compiled_kernels_fill(
    side: Side,
    kind: OrderType,
    ohl: tuple[Decimal, Decimal, Decimal],
    level: Decimal,
    costs: FillCosts,
    opening: bool,
) -> None:
    """The one fill model: the paper broker (Decimal) and the simulator's compiled kernels agree
    on whether an order fills, at what price and for what commission, for every order type."""
    from ffe_core.backtest import fills

    open_, high, low = ohl[0], max(ohl), min(ohl)
    bar = Bar(ts=TS, open=float(open_), high=float(high), low=float(low), close=float(open_))
    kw = {"limit_price": level} if kind is OrderType.LIMIT else {"stop_price": level}
    got = simulate_fill(
        side=side,
        order_type=kind,
        quantity=D(3),
        market=bar,
        costs=costs,
        opening=opening,
        **(kw if kind is not OrderType.MARKET else {}),
    )
    d = 1 if side is Side.BUY else -1
    o, h, lo, lv = float(open_), float(high), float(low), float(level)
    slip, spread = float(costs.slippage), float(costs.spread)
    if kind is OrderType.MARKET:
        px = fills.market_fill(o, d, slip)
    elif kind is OrderType.LIMIT:
        px = fills.limit_fill(lv, d, o, h, lo)
    else:
        px = fills.market_fill(fills.stop_fill(lv, d, o, h, lo), d, slip)
    if px != px:  # NaN: the kernel does not fill either
        assert got is None
        return
    if opening:
        px = fills.entry_price(px, d, spread)
    com = fills.commission(3.0, px, float(costs.commission_fixed), float(costs.commission_rate))
    assert got is not None
    assert float(got.price) == pytest.approx(px, rel=1e-12)
    assert float(got.commission) == pytest.approx(com, rel=1e-12, abs=1e-12)
