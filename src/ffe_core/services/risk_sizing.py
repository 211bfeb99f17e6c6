"""Position sizing and protective levels: how much to trade, and where an entry gets out.

Every function returns an unrounded, unsigned quantity in Decimal; the risk manager rounds it
down to the instrument's size increment and then applies the limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import numpy as np

from ffe_core import indicators as ind
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action
from ffe_core.domain.instruments import Instrument, round_to_increment

ZERO = Decimal(0)


def dec(value: float) -> Decimal:
    """A float setting or statistic as the Decimal it reads as (``0.1`` → ``Decimal('0.1')``)."""
    return Decimal(repr(float(value)))


@dataclass(frozen=True, slots=True)
class Edge:
    """A trade's estimated probability of reaching its target and payoff (target gain / stop loss)."""

    win_rate: float
    payoff: float


def kelly_fraction(edge: Edge, fraction: float, cap: float) -> float:
    """Fractional Kelly ``fraction * (p - (1 - p) / b)``, floored at 0 and capped at ``cap``."""
    p, b = edge.win_rate, edge.payoff
    if not (math.isfinite(p) and math.isfinite(b)) or b <= 0:
        return 0.0
    full = min(max(p, 0.0), 1.0) - (1.0 - min(max(p, 0.0), 1.0)) / b
    return min(max(full * fraction, 0.0), cap)


def fixed_fractional_size(
    equity: Decimal, risk_per_trade: float, entry: Decimal, stop: Decimal
) -> Decimal:
    """Quantity that loses ``risk_per_trade`` of equity if the stop is hit."""
    distance = abs(entry - stop)
    if equity <= 0 or distance == 0:
        return ZERO
    return equity * dec(risk_per_trade) / distance


def volatility_target_size(equity: Decimal, risk_per_trade: float, atr: Decimal) -> Decimal:
    """Quantity whose typical one-bar move (one ATR) is ``risk_per_trade`` of equity (turtle unit)."""
    if equity <= 0 or atr <= 0:
        return ZERO
    return equity * dec(risk_per_trade) / atr


def kelly_size(equity: Decimal, fraction: float, entry: Decimal) -> Decimal:
    """Quantity whose notional is ``fraction`` of equity (the Kelly fraction committed to the trade)."""
    if equity <= 0 or entry <= 0 or fraction <= 0:
        return ZERO
    return equity * dec(round(fraction, 12)) / entry  # 0.1 stays 0.1, not 0.09999999999999998


def atr_estimate(context: DecisionContext) -> Decimal | None:
    """The context's ``atr_14``; else Wilder's ATR over its bars; else ``volatility_20 × close``."""
    value = context.indicators.get("atr_14")
    if (value is None or not math.isfinite(value) or value <= 0) and len(context.bars) > 14:
        bars = context.bars
        high = np.fromiter((b.high for b in bars), dtype=np.float64, count=len(bars))
        low = np.fromiter((b.low for b in bars), dtype=np.float64, count=len(bars))
        close = np.fromiter((b.close for b in bars), dtype=np.float64, count=len(bars))
        value = float(ind.atr(high, low, close, 14)[-1])
    if value is None or not math.isfinite(value) or value <= 0:
        vol = context.indicators.get("volatility_20")
        value = vol * context.last_price if vol is not None else None
    if value is None or not math.isfinite(value) or value <= 0:
        return None
    return dec(value)


@dataclass(frozen=True, slots=True)
class Levels:
    """An entry's protective stop and its profit target, and where each came from."""

    stop_loss: Decimal
    take_profit: Decimal
    source: str


def on_side(direction: int, entry: Decimal, level: Decimal | None, *, target: bool) -> bool:
    """Whether ``level`` is a valid stop (``target=False``) or target for a trade of ``direction``."""
    if level is None or level <= 0:
        return False
    beyond = (level - entry) * direction
    return beyond > 0 if target else beyond < 0


def protective_levels(
    action: Action,
    entry: Decimal,
    *,
    stop: Decimal | None,
    target: Decimal | None,
    atr: Decimal | None,
    atr_multiple: float,
    reward_risk: float,
    instrument: Instrument,
) -> Levels | str:
    """Stop and target for an entry: the decision's own when on the right side of ``entry``,
    else ``atr_multiple`` ATRs away for the stop and ``reward_risk`` stop distances for the target.
    Returns the reason as a string when no valid stop or target can be computed."""
    direction = 1 if action is Action.BUY else -1
    tick = instrument.price_increment
    sources = []
    if on_side(direction, entry, stop, target=False):
        sources.append("stop: decision")
    else:
        if atr is None:
            return "no stop-loss: the decision has none and no ATR is available"
        raw = entry - direction * dec(atr_multiple) * atr
        stop = round_to_increment(raw, tick, ROUND_FLOOR if direction > 0 else ROUND_CEILING)
        if not on_side(direction, entry, stop, target=False):
            return f"no stop-loss: ATR stop {raw:.6g} is not a valid price below/above {entry}"
        sources.append(f"stop: {atr_multiple:g} ATR")
    assert stop is not None
    if on_side(direction, entry, target, target=True):
        sources.append("target: decision")
    else:
        raw = entry + direction * dec(reward_risk) * abs(entry - stop)
        target = round_to_increment(raw, tick, ROUND_CEILING if direction > 0 else ROUND_FLOOR)
        if not on_side(direction, entry, target, target=True):
            return f"no take-profit: {raw:.6g} is not a valid price"
        sources.append(f"target: {reward_risk:g}R")
    assert target is not None
    return Levels(stop_loss=stop, take_profit=target, source=", ".join(sources))
