"""Trend, mean-reversion and breakout providers: deterministic, explained in plain words."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt

from ffe_adapters.quant.config import BreakoutOptions, MeanReversionOptions, TrendOptions, _Options
from ffe_core import indicators as ind
from ffe_core.backtest import windowed as win
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.domain.flight import ProviderSpec
from ffe_core.ports.providers import BatchVotes, CallPlan

Floats = npt.NDArray[np.float64]

NEUTRAL = 0.3
"""Confidence of a HOLD that only means "no signal from me" (not a conviction to stay out)."""


def _arrays(ctx: DecisionContext) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    bars = ctx.bars
    close = np.fromiter((b.close for b in bars), dtype=np.float64, count=len(bars))
    high = np.fromiter((b.high for b in bars), dtype=np.float64, count=len(bars))
    low = np.fromiter((b.low for b in bars), dtype=np.float64, count=len(bars))
    return close, high, low


def _levels(
    ctx: DecisionContext, action: Action, atr: float, opts: _Options
) -> tuple[Decimal | None, Decimal | None]:
    """ATR-based stop-loss and take-profit on the protective side of the last close."""
    if action is Action.HOLD or not np.isfinite(atr) or atr <= 0:
        return None, None
    price = ctx.last_price
    risk = atr * opts.atr_stop
    sign = 1 if action is Action.BUY else -1
    stop, target = price - sign * risk, price + sign * risk * opts.reward_risk
    if stop <= 0 or target <= 0:
        return None, None
    inst = ctx.instrument
    return inst.round_price(Decimal(str(float(stop)))), inst.round_price(
        Decimal(str(float(target)))
    )


def _vote(
    name: str,
    ctx: DecisionContext,
    action: Action,
    confidence: float,
    reasoning: str,
    atr: float,
    opts: _Options,
) -> ProviderVote:
    stop, target = _levels(ctx, action, atr, opts)
    return ProviderVote(
        provider=name,
        model="rules",
        action=action,
        confidence=round(min(1.0, max(0.0, confidence)), 4),
        reasoning=reasoning,
        stop_loss=stop,
        take_profit=target,
    )


def _warmup(name: str, ctx: DecisionContext, needed: int) -> ProviderVote | None:
    if len(ctx.bars) < needed:
        return ProviderVote.abstain(name, f"needs {needed} bars of history, has {len(ctx.bars)}")
    return None


def _finish(
    action: npt.NDArray[np.int8],
    confidence: Floats,
    abstained: npt.NDArray[np.bool_],
    numpy_rounded: npt.NDArray[np.bool_] | None = None,
) -> BatchVotes:
    """Clamp and round confidences as :func:`_vote` does, blank abstentions: the batch votes.

    ``round(x, 4)`` rounds a Python float exactly but a numpy float by scaling: the bars where
    ``vote`` holds a numpy float (``numpy_rounded``) are rounded like numpy. The two agree
    unless ``x * 1e4`` is within rounding error of a half, so only those bars take Python's.
    """
    conf = np.where(confidence > 0.0, confidence, 0.0)  # max(0.0, c), NaN -> 0.0
    conf = np.where(conf < 1.0, conf, 1.0)  # min(1.0, c)
    rounded = np.round(conf, 4)
    scaled = conf * 1e4
    exact = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    if numpy_rounded is not None:
        exact &= ~numpy_rounded
    at = np.flatnonzero(exact)
    rounded[at] = [round(c, 4) for c in conf[at].tolist()]
    action = np.where(abstained, 0, action).astype(np.int8)
    return BatchVotes(action, np.where(abstained, 0.0, rounded), abstained)


def _signs(up: npt.NDArray[np.bool_], down: npt.NDArray[np.bool_]) -> npt.NDArray[np.int8]:
    return np.where(up, 1, np.where(down, -1, 0)).astype(np.int8)


class _Rules:
    """What the rule-based providers share: they describe themselves as free "rules" models."""

    name: str
    options: _Options

    def call_plan(self, context: DecisionContext) -> CallPlan:
        """The rules and their parameters (no prompt, no price)."""
        return CallPlan(
            ProviderSpec(
                provider=self.name, model="rules", parameters=self.options.model_dump(mode="json")
            )
        )


class TrendProvider(_Rules):
    """Follows the trend: fast vs slow moving average, confirmed by the MACD histogram."""

    name = "trend"

    def __init__(self, options: TrendOptions | None = None) -> None:
        self.options: TrendOptions = options or TrendOptions()

    async def vote(self, context: DecisionContext) -> ProviderVote:
        o = self.options
        if (early := _warmup(self.name, context, o.slow + 1)) is not None:
            return early
        close, high, low = _arrays(context)
        fast, slow = ind.sma(close, o.fast)[-1], ind.sma(close, o.slow)[-1]
        hist = ind.macd(close)[2][-1]
        atr = ind.atr(high, low, close, 14)[-1]
        gap = (fast - slow) / slow
        vol = max(float(ind.volatility(close, 20)[-1]), 1e-9)
        strength = min(1.0, abs(gap) / (3 * vol))
        up, down = fast > slow and hist > 0, fast < slow and hist < 0
        if up or down:
            action = Action.BUY if up else Action.SELL
            word = "above" if up else "below"
            reasoning = (
                f"The {o.fast}-bar average is {abs(gap):.2%} {word} the {o.slow}-bar average and "
                f"MACD momentum agrees ({hist:+.4g}), so the trend points "
                f"{'up' if up else 'down'}; conviction grows with the gap relative to volatility."
            )
            return _vote(self.name, context, action, 0.5 + 0.45 * strength, reasoning, atr, o)
        reasoning = (
            f"The averages ({o.fast} vs {o.slow} bars, gap {gap:+.2%}) and MACD momentum "
            f"({hist:+.4g}) disagree, so there is no clear trend to follow."
        )
        return _vote(self.name, context, Action.HOLD, NEUTRAL, reasoning, atr, o)

    def vote_batch(
        self,
        open: Floats,
        high: Floats,
        low: Floats,
        close: Floats,
        volume: Floats,
        history: int | None,
    ) -> BatchVotes:
        """What :meth:`vote` answers at every bar, given the last ``history`` bars there."""
        o = self.options
        abstained = win.window_lengths(close.shape[0], history) < o.slow + 1
        fast, slow = win.sma(close, o.fast, history), win.sma(close, o.slow, history)
        hist = win.macd_hist(close, history)
        v = win.volatility(close, 20, history)
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = (fast - slow) / slow
            ratio = np.abs(gap) / (3 * np.where(v < 1e-9, 1e-9, v))  # max(v, 1e-9)
        capped = ratio < 1.0  # min(1.0, ratio) keeps the numpy value only when below 1
        strength = np.where(capped, ratio, 1.0)
        up, down = (fast > slow) & (hist > 0), (fast < slow) & (hist < 0)
        conf = np.where(up | down, 0.5 + 0.45 * strength, NEUTRAL)
        return _finish(_signs(up, down), conf, abstained, (up | down) & capped)


class MeanReversionProvider(_Rules):
    """Fades extremes: RSI beyond its thresholds together with price outside Bollinger bands."""

    name = "mean_reversion"

    def __init__(self, options: MeanReversionOptions | None = None) -> None:
        self.options: MeanReversionOptions = options or MeanReversionOptions()

    async def vote(self, context: DecisionContext) -> ProviderVote:
        o = self.options
        if (early := _warmup(self.name, context, 21)) is not None:
            return early
        close, high, low = _arrays(context)
        rsi = float(ind.rsi(close, 14)[-1])
        _mid, upper, lower = (float(a[-1]) for a in ind.bollinger(close, 20, 2.0))
        atr = ind.atr(high, low, close, 14)[-1]
        price = float(close[-1])
        if rsi <= o.oversold or price < lower:
            both = rsi <= o.oversold and price < lower
            depth = min(1.0, max(0.0, (o.oversold - rsi) / o.oversold) + (0.3 if both else 0))
            reasoning = (
                f"RSI is {rsi:.1f} and price {price:.6g} is "
                f"{'below' if price < lower else 'above'} the lower band ({lower:.6g}): "
                f"{'deeply ' if both else ''}oversold, expecting a bounce back toward the mean."
            )
            conf = 0.55 + 0.4 * depth if both else 0.52 + 0.2 * depth
            return _vote(self.name, context, Action.BUY, conf, reasoning, atr, o)
        if rsi >= o.overbought or price > upper:
            both = rsi >= o.overbought and price > upper
            depth = min(
                1.0, max(0.0, (rsi - o.overbought) / (100 - o.overbought)) + (0.3 if both else 0)
            )
            reasoning = (
                f"RSI is {rsi:.1f} and price {price:.6g} is "
                f"{'above' if price > upper else 'below'} the upper band ({upper:.6g}): "
                f"{'strongly ' if both else ''}overbought, expecting a pullback toward the mean."
            )
            conf = 0.55 + 0.4 * depth if both else 0.52 + 0.2 * depth
            return _vote(self.name, context, Action.SELL, conf, reasoning, atr, o)
        reasoning = (
            f"RSI {rsi:.1f} is between {o.oversold:.0f} and {o.overbought:.0f} and price sits "
            f"inside the Bollinger bands ({lower:.6g} to {upper:.6g}): nothing to fade."
        )
        return _vote(self.name, context, Action.HOLD, NEUTRAL, reasoning, atr, o)

    def vote_batch(
        self,
        open: Floats,
        high: Floats,
        low: Floats,
        close: Floats,
        volume: Floats,
        history: int | None,
    ) -> BatchVotes:
        """What :meth:`vote` answers at every bar, given the last ``history`` bars there."""
        o = self.options
        abstained = win.window_lengths(close.shape[0], history) < 21
        rsi = win.rsi(close, 14, history)
        _mid, upper, lower = win.bollinger(close, 20, 2.0, history)
        low_rsi, high_rsi = rsi <= o.oversold, rsi >= o.overbought
        buy = low_rsi | (close < lower)
        sell = ~buy & (high_rsi | (close > upper))
        both = np.where(buy, low_rsi & (close < lower), high_rsi & (close > upper))
        excess = np.where(
            buy, (o.oversold - rsi) / o.oversold, (rsi - o.overbought) / (100 - o.overbought)
        )
        depth = np.where(excess > 0.0, excess, 0.0) + np.where(both, 0.3, 0.0)
        depth = np.where(depth < 1.0, depth, 1.0)
        conf = np.where(both, 0.55 + 0.4 * depth, 0.52 + 0.2 * depth)
        return _finish(_signs(buy, sell), np.where(buy | sell, conf, NEUTRAL), abstained)


class BreakoutProvider(_Rules):
    """Trades breakouts: a close beyond the prior Donchian channel, sized in ATRs."""

    name = "breakout"

    def __init__(self, options: BreakoutOptions | None = None) -> None:
        self.options: BreakoutOptions = options or BreakoutOptions()

    async def vote(self, context: DecisionContext) -> ProviderVote:
        o = self.options
        if (early := _warmup(self.name, context, o.lookback + 15)) is not None:
            return early
        close, high, low = _arrays(context)
        prior_high = float(np.max(high[-o.lookback - 1 : -1]))
        prior_low = float(np.min(low[-o.lookback - 1 : -1]))
        atr = float(ind.atr(high, low, close, 14)[-1])
        price = float(close[-1])
        if price > prior_high or price < prior_low:
            up = price > prior_high
            edge = prior_high if up else prior_low
            distance = abs(price - edge) / atr if atr > 0 else 0.0
            reasoning = (
                f"Price {price:.6g} closed {'above' if up else 'below'} the {o.lookback}-bar "
                f"{'high' if up else 'low'} of {edge:.6g} by {distance:.2f} ATR: a breakout "
                f"{'upward' if up else 'downward'}, stronger the further it runs past the channel."
            )
            action = Action.BUY if up else Action.SELL
            return _vote(
                self.name, context, action, 0.55 + 0.4 * min(1.0, distance), reasoning, atr, o
            )
        reasoning = (
            f"Price {price:.6g} is inside the {o.lookback}-bar channel "
            f"({prior_low:.6g} to {prior_high:.6g}); no breakout yet."
        )
        return _vote(self.name, context, Action.HOLD, NEUTRAL, reasoning, atr, o)

    def vote_batch(
        self,
        open: Floats,
        high: Floats,
        low: Floats,
        close: Floats,
        volume: Floats,
        history: int | None,
    ) -> BatchVotes:
        """What :meth:`vote` answers at every bar, given the last ``history`` bars there."""
        o = self.options
        n = close.shape[0]
        abstained = win.window_lengths(n, history) < o.lookback + 15
        prior_high, prior_low = np.full(n, np.nan), np.full(n, np.nan)
        prior_high[1:] = ind.rolling_max(high, o.lookback)[:-1]
        prior_low[1:] = ind.rolling_min(low, o.lookback)[:-1]
        atr = win.atr(high, low, close, 14, history)
        up, down = close > prior_high, close < prior_low
        edge = np.where(up, prior_high, prior_low)
        with np.errstate(divide="ignore", invalid="ignore"):
            distance = np.where(atr > 0, np.abs(close - edge) / atr, 0.0)
        conf = 0.55 + 0.4 * np.where(distance < 1.0, distance, 1.0)
        return _finish(_signs(up, down), np.where(up | down, conf, NEUTRAL), abstained)
