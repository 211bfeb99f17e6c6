"""The paper broker's fill model: :mod:`ffe_core.backtest.fills`' rules run in Decimal.

The price rules are written once, in ``ffe_core.backtest.fills``; this module runs those same
functions as plain Python on ``Decimal`` prices and adds what a broker has and a bar array has
not: quotes. All costs are adverse to the trader:

* **Reference price.** A market order fills at the *next bar's open* (the first bar that opened
  at or after the order was accepted) or, in quote mode, at the quote's ask (buy) / bid (sell).
* **Slippage** moves market and triggered stop fills against the trader (never limit fills).
* **Spread** is charged in full on fills that open or extend a position, not on reducing ones.
  Bars are mid/trade prices, so set it for bar fills; real quotes already carry their spread.
* **Commission** is ``commission_fixed + quantity * fill_price * commission_rate`` per fill.
* **Limit and stop orders** fill as ``fills.limit_fill`` / ``fills.stop_fill`` say on a bar; a
  quote is the bar ``open = high = low = ask`` for a buy (``bid`` for a sell), so a buy limit
  fills if ``ask <= limit`` at the ask and a buy stop if ``ask >= stop`` at the ask. A
  triggered stop becomes a market order, so slippage (and the spread) then apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from ffe_core.backtest import fills
from ffe_core.domain.market import Bar, Quote
from ffe_core.domain.orders import Order, OrderType, Side
from ffe_core.kernels import python_of

ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True)
class FillCosts:
    """Trading costs as fractions of price or traded value; ``commission_fixed`` in quote ccy."""

    commission_rate: Decimal = ZERO
    commission_fixed: Decimal = ZERO
    slippage: Decimal = ZERO
    spread: Decimal = ZERO

    def __post_init__(self) -> None:
        for name in ("commission_rate", "commission_fixed", "slippage", "spread"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.slippage >= 1 or self.spread >= 2:
            raise ValueError("slippage must be < 1 and spread < 2")


@dataclass(frozen=True)
class FillPrice:
    """Where an order executes and what the venue charges for it."""

    price: Decimal
    commission: Decimal


_commission = python_of(fills.commission)
_market_fill = python_of(fills.market_fill)
_entry_price = python_of(fills.entry_price)
_limit_fill = python_of(fills.limit_fill)
_stop_fill = python_of(fills.stop_fill)


def _dec(value: float | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _direction(side: Side) -> int:
    return 1 if side is Side.BUY else -1


def slipped(side: Side, reference: Decimal, costs: FillCosts) -> Decimal:
    """A market (or triggered stop) fill: ``reference`` moved against the trader by slippage."""
    return cast(Decimal, _market_fill(reference, _direction(side), costs.slippage))


def with_spread(side: Side, price: Decimal, costs: FillCosts) -> Decimal:
    """The price an opening fill is booked at: the full spread against the trader."""
    return cast(Decimal, _entry_price(price, _direction(side), costs.spread))


def commission_for(quantity: Decimal, price: Decimal, costs: FillCosts) -> Decimal:
    """Commission of one fill: a fraction of traded value plus the fixed fee."""
    return cast(
        Decimal, _commission(quantity, price, costs.commission_fixed, costs.commission_rate)
    )


def _range(side: Side, market: Bar | Quote) -> tuple[Decimal, Decimal, Decimal]:
    """(open, high, low) of a bar; a quote as a bar that traded only at the side's price."""
    if isinstance(market, Quote):
        px = market.ask if side is Side.BUY else market.bid
        return px, px, px
    return _dec(market.open), _dec(market.high), _dec(market.low)


def market_reference(side: Side, market: Bar | Quote) -> Decimal:
    """The undisturbed price a market order meets: the bar's open, or the quote's ask / bid."""
    return _range(side, market)[0]


def _filled(price: Decimal | float) -> Decimal | None:
    return price if isinstance(price, Decimal) else None  # the rules answer NaN for "no fill"


def limit_reference(side: Side, limit: Decimal, market: Bar | Quote) -> Decimal | None:
    """The price a resting limit order fills at on this bar / quote, or None if not reached."""
    return _filled(_limit_fill(limit, _direction(side), *_range(side, market)))


def stop_reference(side: Side, stop: Decimal, market: Bar | Quote) -> Decimal | None:
    """The price a stop order triggers at on this bar / quote, or None if not reached."""
    return _filled(_stop_fill(stop, _direction(side), *_range(side, market)))


def simulate_fill(
    *,
    side: Side,
    order_type: OrderType,
    quantity: Decimal,
    market: Bar | Quote,
    costs: FillCosts,
    limit_price: Decimal | None = None,
    stop_price: Decimal | None = None,
    opening: bool = True,
) -> FillPrice | None:
    """Apply the module's rules to one order against one bar or quote; None if it does not fill.

    ``opening``: the fill opens or extends a position (pays the spread); False when it reduces one.
    """
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    if order_type is OrderType.MARKET:
        price = slipped(side, market_reference(side, market), costs)
    elif order_type is OrderType.LIMIT:
        if limit_price is None:
            raise ValueError("a limit order needs limit_price")
        ref = limit_reference(side, limit_price, market)
        if ref is None:
            return None
        price = ref
    else:
        if stop_price is None:
            raise ValueError("a stop order needs stop_price")
        ref = stop_reference(side, stop_price, market)
        if ref is None:
            return None
        price = slipped(side, ref, costs)
    if opening:
        price = with_spread(side, price, costs)
    return FillPrice(price=price, commission=commission_for(quantity, price, costs))


def fill_order(
    order: Order, quantity: Decimal, market: Bar | Quote, costs: FillCosts, *, opening: bool = True
) -> FillPrice | None:
    """:func:`simulate_fill` for ``order`` (its side, type, limit and stop prices), filling
    ``quantity`` of it on ``market``."""
    return simulate_fill(
        side=order.side,
        order_type=order.type,
        quantity=quantity,
        market=market,
        costs=costs,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        opening=opening,
    )
