"""The paper broker's fill model: the backtester's rules (``ffe_core.backtest.fills``) in Decimal.

Rules, all in ``Decimal`` and all adverse to the trader:

* **Reference price.** A market order fills at the *next bar's open* (the first bar that opened
  at or after the order was accepted) or, in quote mode, at the quote's ask (buy) / bid (sell).
* **Slippage.** ``slippage`` is a fraction moved against the trader on market and triggered
  stop fills (never on limit fills): buy ``* (1 + slippage)``, sell ``* (1 - slippage)``.
* **Spread.** ``spread`` is a synthetic full spread as a fraction of price, charged in full on
  fills that open or extend a position and not on fills that reduce one — exactly as the
  backtester (and backtesting.py) books it: buy ``* (1 + spread)``, sell short ``* (1 - spread)``.
  Bars are mid/trade prices, so set it for bar fills; real quotes already carry their spread.
* **Commission.** ``commission_rate * quantity * fill_price + commission_fixed`` per fill.
* **Limit orders** fill only when the bar trades through the limit: a buy fills if
  ``low <= limit`` at ``min(open, limit)`` (a gap below the limit fills at the better open); a
  sell fills if ``high >= limit`` at ``max(open, limit)``. On a quote: buy if ``ask <= limit`` at
  the ask, sell if ``bid >= limit`` at the bid. No spread or slippage: a limit is a price cap.
* **Stop orders** trigger when the bar reaches the stop: a buy stop if ``high >= stop`` at
  ``max(open, stop)`` (a gap above fills at the worse open); a sell stop if ``low <= stop`` at
  ``min(open, stop)``. On a quote: buy if ``ask >= stop`` at the ask, sell if ``bid <= stop`` at
  the bid. A triggered stop becomes a market order, so spread and slippage then apply.

The backtest simulator (``ffe_core.backtest``) implements the same semantics on float arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ffe_core.domain.market import Bar, Quote
from ffe_core.domain.orders import OrderType, Side

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


def _dec(value: float | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def slipped(side: Side, reference: Decimal, costs: FillCosts) -> Decimal:
    """A market (or triggered stop) fill: ``reference`` moved against the trader by slippage."""
    if side is Side.BUY:
        return reference * (ONE + costs.slippage)
    return reference * (ONE - costs.slippage)


def with_spread(side: Side, price: Decimal, costs: FillCosts) -> Decimal:
    """The price an opening fill is booked at: the full spread against the trader."""
    return price * (ONE + costs.spread) if side is Side.BUY else price * (ONE - costs.spread)


def commission_for(quantity: Decimal, price: Decimal, costs: FillCosts) -> Decimal:
    """Commission of one fill: a fraction of traded value plus the fixed fee."""
    return abs(quantity) * price * costs.commission_rate + costs.commission_fixed


def market_reference(side: Side, market: Bar | Quote) -> Decimal:
    """The undisturbed price a market order meets: the bar's open, or the quote's ask / bid."""
    if isinstance(market, Quote):
        return market.ask if side is Side.BUY else market.bid
    return _dec(market.open)


def limit_reference(side: Side, limit: Decimal, market: Bar | Quote) -> Decimal | None:
    """The price a resting limit order fills at on this bar / quote, or None if not reached."""
    if isinstance(market, Quote):
        if side is Side.BUY:
            return market.ask if market.ask <= limit else None
        return market.bid if market.bid >= limit else None
    open_, high, low = _dec(market.open), _dec(market.high), _dec(market.low)
    if side is Side.BUY:
        return min(open_, limit) if low <= limit else None
    return max(open_, limit) if high >= limit else None


def stop_reference(side: Side, stop: Decimal, market: Bar | Quote) -> Decimal | None:
    """The price a stop order triggers at on this bar / quote, or None if not reached."""
    if isinstance(market, Quote):
        if side is Side.BUY:
            return market.ask if market.ask >= stop else None
        return market.bid if market.bid <= stop else None
    open_, high, low = _dec(market.open), _dec(market.high), _dec(market.low)
    if side is Side.BUY:
        return max(open_, stop) if high >= stop else None
    return min(open_, stop) if low <= stop else None


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
