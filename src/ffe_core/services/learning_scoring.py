"""The pure rules of learning from outcomes: when a vote was right, its Brier score, its P&L
share, the bounded multiplicative weight update and the sentence that explains it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from ffe_core.config import LearningSettings
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.domain.orders import Fill
from ffe_core.domain.portfolio import Position


def direction(action: Action) -> int:
    """+1 for BUY, -1 for SELL, 0 for HOLD."""
    return {Action.BUY: 1, Action.SELL: -1, Action.HOLD: 0}[action]


def is_hit(action: Action, realized_return: float, hold_band: float) -> bool:
    """BUY/SELL hit when the return has the call's sign; HOLD when the move stays in the band."""
    if action is Action.HOLD:
        return abs(realized_return) < hold_band
    return realized_return * direction(action) > 0


def brier(confidence: float, hit: bool) -> float:
    """Squared error of the confidence read as the probability that the call is right."""
    return (confidence - (1.0 if hit else 0.0)) ** 2


def weight_shares(votes: Sequence[ProviderVote], weights: dict[str, float]) -> dict[str, float]:
    """Each counted voter's share of the weight the decision was made with (equal if none)."""
    counted = [v for v in votes if not v.abstained]
    raw = {v.provider: max(weights.get(v.provider, 1.0), 0.0) for v in counted}
    total = sum(raw.values())
    if not counted:
        return {}
    if total <= 0 or not math.isfinite(total):
        return dict.fromkeys(raw, 1.0 / len(raw))
    return {p: w / total for p, w in raw.items()}


def next_weight(weight: float, reward: float, settings: LearningSettings) -> float:
    """One decayed multiplicative update, clipped to the bounds; never NaN or infinite."""
    lo, hi = math.log(settings.w_min), math.log(settings.w_max)
    log_w = math.log(weight) if math.isfinite(weight) and weight > 0 else 0.0
    r = min(max(reward, -1.0), 1.0) if math.isfinite(reward) else 0.0
    log_w = (1.0 - settings.decay) * log_w + settings.learning_rate * r
    if log_w <= lo:
        return settings.w_min
    if log_w >= hi:
        return settings.w_max
    return min(max(math.exp(log_w), settings.w_min), settings.w_max)


def bounded(weight: float, settings: LearningSettings) -> float:
    """A stored weight brought inside the current bounds (settings may have changed)."""
    if not math.isfinite(weight) or weight <= 0:
        return 1.0
    return min(max(weight, settings.w_min), settings.w_max)


def explain(
    vote: ProviderVote,
    hit: bool,
    instrument: str,
    realized_return: float,
    horizon: str,
    before: float,
    after: float,
    settings: LearningSettings,
) -> str:
    """Why a weight moved, in one line: e.g. ``hit: BUY 0.70 on BTC-USD +1.20% at 4h; ...``."""
    verdict = "hit" if hit else "miss"
    band = f" (band ±{settings.hold_band:.2%})" if vote.action is Action.HOLD else ""
    text = (
        f"{verdict}: {vote.action.value} {vote.confidence:.2f} on {instrument} "
        f"{realized_return:+.2%} at {horizon}{band}; weight {before:.2f} → {after:.2f}"
    )
    if after >= settings.w_max:
        text += f" (capped at {settings.w_max:g})"
    elif after <= settings.w_min:
        text += f" (floored at {settings.w_min:g})"
    elif hit != (after > before):
        text += " (decay toward 1 outweighs this outcome)"
    return text


def trade_pnl(fills: Sequence[Fill], order_ids: set[str], exit_price: Decimal) -> Decimal | None:
    """P&L of the fills of ``order_ids`` marked at ``exit_price``: realized on what they closed,
    unrealized on what they opened and still hold, net of commission. ``fills`` is the
    instrument's fill history in ledger order (earlier fills set the position being closed).
    A decision's own exit (its protective stop or target) closes what its entry opened, so a
    round trip counts once. None if none of them filled.
    """
    position: Position | None = None
    pnl = Decimal(0)
    held = Decimal(0)  # signed quantity the group opened and still holds
    cost = Decimal(0)  # average price of ``held``
    touched = False
    for fill in fills:
        before = position or Position(instrument=fill.instrument)
        after = before.apply(fill)
        if fill.client_order_id in order_ids:
            touched = True
            q, delta = before.quantity, fill.signed_quantity
            closing = min(abs(q), fill.quantity) if q != 0 and (q > 0) != (delta > 0) else 0
            pnl += after.realized_pnl - before.realized_pnl
            if closing and held != 0 and (held > 0) != (delta > 0):
                held -= min(abs(held), closing) * (1 if held > 0 else -1)
            opened = fill.quantity - closing
            if opened:
                added = opened * fill.side.sign
                cost = (abs(held) * cost + opened * fill.price) / (abs(held) + opened)
                held += added
            pnl -= fill.commission
        position = after
    pnl += held * (exit_price - cost)
    return pnl if touched else None
