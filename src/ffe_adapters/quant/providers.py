"""Trend, mean-reversion and breakout providers: deterministic, explained in plain words.

They never await (:class:`~ffe_core.ports.providers.SyncDecisionProvider`). Each reads its
indicators' last values on the context's window; in a replay (``context.series`` set) it
computes them once for the whole series with the windowed functions, which give the same values
bit for bit, and reads the bar's. ``signal`` decides exactly as ``vote_now`` without writing the
reasoning or pricing the levels.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from ffe_adapters.quant.config import BreakoutOptions, MeanReversionOptions, TrendOptions, _Options
from ffe_core import indicators as ind
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.domain.flight import ProviderSpec
from ffe_core.domain.series import BarSeries, SeriesCursor
from ffe_core.indicators import windowed as win
from ffe_core.ports.providers import ABSTAINED, BatchVotes, CallPlan, Signal

Floats = npt.NDArray[np.float64]

_BUY, _SELL, _HOLD = Action.BUY, Action.SELL, Action.HOLD
"""Read per bar by the judges: cheaper as module names than as enum class attributes."""

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


def _confidence(confidence: float, numpy_rounded: bool = False) -> float:
    """Clamped to [0, 1] and rounded to 4 places, by Python's rules or, with
    ``numpy_rounded``, numpy's (``rint(x * 1e4) / 1e4``): the vote's confidence since the
    indicators were numpy floats, and the batch votes (see :func:`_finish`) reproduce both."""
    # min(1.0, max(0.0, confidence)) (NaN to 0.0) without the two calls: this runs per bar
    c = 1.0 if confidence > 1.0 else (confidence if confidence > 0.0 else 0.0)
    return round(c * 10000.0) / 10000.0 if numpy_rounded else round(c, 4)


_HELD = _confidence(NEUTRAL)


def _vote(  # ``confidence`` already as _confidence gives it
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
        confidence=confidence,
        reasoning=reasoning,
        stop_loss=stop,
        take_profit=target,
    )


def _warmup(name: str, ctx: DecisionContext, needed: int) -> ProviderVote:
    return ProviderVote.abstain(name, f"needs {needed} bars of history, has {len(ctx.bars)}")


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


def _series_of(
    open: Floats, high: Floats, low: Floats, close: Floats, volume: Floats, history: int | None
) -> BarSeries:
    """The arrays as a series of float64 arrays (what ``vote_series`` reads)."""
    o, h, lo, c, v = (
        np.ascontiguousarray(a, dtype=np.float64) for a in (open, high, low, close, volume)
    )
    return BarSeries(o, h, lo, c, v, history)


def _signs(up: npt.NDArray[np.bool_], down: npt.NDArray[np.bool_]) -> npt.NDArray[np.int8]:
    return np.where(up, 1, np.where(down, -1, 0)).astype(np.int8)


class _Rules:
    """What the rule-based providers share: they describe themselves as free "rules" models."""

    name: str
    options: _Options

    def fixed_plan(self) -> CallPlan:
        """The rules and their parameters (no prompt, no price), whatever the context."""
        return CallPlan(
            ProviderSpec(
                provider=self.name, model="rules", parameters=self.options.model_dump(mode="json")
            )
        )

    def call_plan(self, context: DecisionContext) -> CallPlan:
        """The rules and their parameters (no prompt, no price)."""
        return self.fixed_plan()


class TrendProvider(_Rules):
    """Follows the trend: fast vs slow moving average, confirmed by the MACD histogram."""

    name = "trend"

    def __init__(self, options: TrendOptions | None = None) -> None:
        self.options: TrendOptions = options or TrendOptions()

    def _series(self, s: BarSeries) -> tuple[list[float], ...]:
        o, h = self.options, s.history
        return tuple(
            a.tolist()  # Python floats: read and combined per bar faster than numpy scalars
            for a in (
                win.series_sma(s, o.fast),
                win.series_sma(s, o.slow),
                win.macd_hist(s.close, h),
                win.series_atr(s, 14),
                win.volatility(s.close, 20, h),
            )
        )

    def _at(self, at: SeriesCursor) -> tuple[float, ...]:
        o = self.options
        fast, slow, hist, atr, vol = at.series.derived(("trend", o.fast, o.slow), self._series)
        i = at.index
        return fast[i], slow[i], hist[i], atr[i], vol[i]

    def _read(self, context: DecisionContext) -> tuple[float, ...]:
        """Fast and slow average, MACD histogram, ATR and volatility at the context's bar."""
        o, at = self.options, context.series
        if at is not None:
            return self._at(at)
        close, high, low = _arrays(context)
        return (
            float(ind.sma(close, o.fast)[-1]),
            float(ind.sma(close, o.slow)[-1]),
            float(ind.macd(close)[2][-1]),
            float(ind.atr(high, low, close, 14)[-1]),
            float(ind.volatility(close, 20)[-1]),
        )

    def _decide(self, context: DecisionContext) -> tuple[Action, float, tuple[float, ...]] | None:
        if len(context.bars) < self.options.slow + 1:
            return None
        return self._judge(self._read(context))

    @staticmethod
    def _judge(values: tuple[float, ...]) -> tuple[Action, float, tuple[float, ...]]:
        fast, slow, hist, atr, vol = values
        gap = (fast - slow) / slow
        ratio = abs(gap) / (3 * max(vol, 1e-9))
        up, down = fast > slow and hist > 0, fast < slow and hist < 0
        action = _BUY if up else (_SELL if down else _HOLD)
        if action is _HOLD:
            return action, _HELD, (gap, hist, atr)
        # A strength below 1 was a numpy float when the indicators were: rounded as numpy does.
        confidence = _confidence(0.5 + 0.45 * min(1.0, ratio), numpy_rounded=ratio < 1.0)
        return action, confidence, (gap, hist, atr)

    def signal(self, context: DecisionContext) -> Signal:
        decided = self._decide(context)
        if decided is None:
            return ABSTAINED
        return Signal(decided[0], decided[1], False)

    def signal_at(self, at: SeriesCursor, window: int) -> Signal:
        if window < self.options.slow + 1:
            return ABSTAINED
        action, confidence, _why = self._judge(self._at(at))
        return Signal(action, confidence, False)

    def vote_now(self, context: DecisionContext) -> ProviderVote:
        o = self.options
        decided = self._decide(context)
        if decided is None:
            return _warmup(self.name, context, o.slow + 1)
        action, confidence, (gap, hist, atr) = decided
        if action is not Action.HOLD:
            up = action is Action.BUY
            word = "above" if up else "below"
            reasoning = (
                f"The {o.fast}-bar average is {abs(gap):.2%} {word} the {o.slow}-bar average and "
                f"MACD momentum agrees ({hist:+.4g}), so the trend points "
                f"{'up' if up else 'down'}; conviction grows with the gap relative to volatility."
            )
        else:
            reasoning = (
                f"The averages ({o.fast} vs {o.slow} bars, gap {gap:+.2%}) and MACD momentum "
                f"({hist:+.4g}) disagree, so there is no clear trend to follow."
            )
        return _vote(self.name, context, action, confidence, reasoning, atr, o)

    async def vote(self, context: DecisionContext) -> ProviderVote:
        return self.vote_now(context)

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
        return self.vote_series(_series_of(open, high, low, close, volume, history))

    def vote_series(self, s: BarSeries) -> BatchVotes:
        """:meth:`vote_batch` on the series (sharing what other providers derived from it)."""
        o, close, history = self.options, s.close, s.history
        abstained = win.window_lengths(close.shape[0], history) < o.slow + 1
        fast, slow = win.series_sma(s, o.fast), win.series_sma(s, o.slow)
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

    @staticmethod
    def _series(s: BarSeries) -> tuple[list[float], ...]:
        h = s.history
        mid, sd = win.series_sma(s, 20), win.rolling_std(s.close, 20, h, 0)
        upper, lower = mid + 2.0 * sd, mid - 2.0 * sd  # as win.bollinger(close, 20, 2.0, h)
        atr = win.series_atr(s, 14)
        return tuple(a.tolist() for a in (win.rsi(s.close, 14, h), upper, lower, atr, s.close))

    def _at(self, at: SeriesCursor) -> tuple[float, ...]:
        rsi, upper, lower, atr, close = at.series.derived("mean_reversion", self._series)
        i = at.index
        return rsi[i], upper[i], lower[i], atr[i], close[i]

    def _read(self, context: DecisionContext) -> tuple[float, ...]:
        """RSI, upper and lower band, ATR and the last close."""
        at = context.series
        if at is not None:
            return self._at(at)
        close, high, low = _arrays(context)
        _mid, up, lo = (float(a[-1]) for a in ind.bollinger(close, 20, 2.0))
        atr = float(ind.atr(high, low, close, 14)[-1])
        return float(ind.rsi(close, 14)[-1]), up, lo, atr, float(close[-1])

    def _decide(self, context: DecisionContext) -> tuple[Action, float, tuple[Any, ...]] | None:
        if len(context.bars) < 21:
            return None
        return self._judge(self._read(context))

    def _judge(self, values: tuple[float, ...]) -> tuple[Action, float, tuple[Any, ...]]:
        o = self.options
        rsi, upper, lower, _atr, price = values
        if rsi <= o.oversold or price < lower:
            both = rsi <= o.oversold and price < lower
            depth = min(1.0, max(0.0, (o.oversold - rsi) / o.oversold) + (0.3 if both else 0))
            conf = 0.55 + 0.4 * depth if both else 0.52 + 0.2 * depth
            return _BUY, _confidence(conf), values
        if rsi >= o.overbought or price > upper:
            both = rsi >= o.overbought and price > upper
            depth = min(
                1.0, max(0.0, (rsi - o.overbought) / (100 - o.overbought)) + (0.3 if both else 0)
            )
            conf = 0.55 + 0.4 * depth if both else 0.52 + 0.2 * depth
            return _SELL, _confidence(conf), values
        return _HOLD, _HELD, values

    def signal(self, context: DecisionContext) -> Signal:
        decided = self._decide(context)
        if decided is None:
            return ABSTAINED
        return Signal(decided[0], decided[1], False)

    def signal_at(self, at: SeriesCursor, window: int) -> Signal:
        if window < 21:
            return ABSTAINED
        action, confidence, _why = self._judge(self._at(at))
        return Signal(action, confidence, False)

    def vote_now(self, context: DecisionContext) -> ProviderVote:
        o = self.options
        decided = self._decide(context)
        if decided is None:
            return _warmup(self.name, context, 21)
        action, conf, (rsi, upper, lower, atr, price) = decided
        if action is Action.BUY:
            both = rsi <= o.oversold and price < lower
            reasoning = (
                f"RSI is {rsi:.1f} and price {price:.6g} is "
                f"{'below' if price < lower else 'above'} the lower band ({lower:.6g}): "
                f"{'deeply ' if both else ''}oversold, expecting a bounce back toward the mean."
            )
        elif action is Action.SELL:
            both = rsi >= o.overbought and price > upper
            reasoning = (
                f"RSI is {rsi:.1f} and price {price:.6g} is "
                f"{'above' if price > upper else 'below'} the upper band ({upper:.6g}): "
                f"{'strongly ' if both else ''}overbought, expecting a pullback toward the mean."
            )
        else:
            reasoning = (
                f"RSI {rsi:.1f} is between {o.oversold:.0f} and {o.overbought:.0f} and price "
                f"sits inside the Bollinger bands ({lower:.6g} to {upper:.6g}): nothing to fade."
            )
        return _vote(self.name, context, action, conf, reasoning, atr, o)

    async def vote(self, context: DecisionContext) -> ProviderVote:
        return self.vote_now(context)

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
        return self.vote_series(_series_of(open, high, low, close, volume, history))

    def vote_series(self, s: BarSeries) -> BatchVotes:
        """:meth:`vote_batch` on the series (sharing what other providers derived from it)."""
        o, close, history = self.options, s.close, s.history
        abstained = win.window_lengths(close.shape[0], history) < 21
        rsi = win.rsi(close, 14, history)
        # as win.bollinger(close, 20, 2.0, history), the average shared with other providers
        sd = win.rolling_std(close, 20, history, 0)
        _mid, upper, lower = ind.bands(win.series_sma(s, 20), sd, 2.0)
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

    def _series(self, s: BarSeries) -> tuple[list[float], ...]:
        n, lookback = s.close.shape[0], self.options.lookback
        prior_high, prior_low = np.full(n, np.nan), np.full(n, np.nan)
        prior_high[1:] = ind.rolling_max(s.high, lookback)[:-1]
        prior_low[1:] = ind.rolling_min(s.low, lookback)[:-1]
        return tuple(a.tolist() for a in (prior_high, prior_low, win.series_atr(s, 14), s.close))

    def _at(self, at: SeriesCursor) -> tuple[float, ...]:
        key = ("breakout", self.options.lookback)
        prior_high, prior_low, atr, close = at.series.derived(key, self._series)
        i = at.index
        return prior_high[i], prior_low[i], atr[i], close[i]

    def _read(self, context: DecisionContext) -> tuple[float, ...]:
        """The prior channel's high and low, ATR and the last close.

        Only read once the window holds ``lookback + 15`` bars, so the channel of the bars
        before this one lies inside it.
        """
        lookback, at = self.options.lookback, context.series
        if at is not None:
            return self._at(at)
        close, high, low = _arrays(context)
        return (
            float(np.max(high[-lookback - 1 : -1])),
            float(np.min(low[-lookback - 1 : -1])),
            float(ind.atr(high, low, close, 14)[-1]),
            float(close[-1]),
        )

    def _decide(self, context: DecisionContext) -> tuple[Action, float, tuple[float, ...]] | None:
        if len(context.bars) < self.options.lookback + 15:
            return None
        return self._judge(self._read(context))

    @staticmethod
    def _judge(
        values: tuple[float, ...],
    ) -> tuple[Action, float, tuple[float, ...]]:
        prior_high, prior_low, atr, price = values
        if price > prior_high or price < prior_low:
            edge = prior_high if price > prior_high else prior_low
            distance = abs(price - edge) / atr if atr > 0 else 0.0
            action = _BUY if price > prior_high else _SELL
            return action, _confidence(0.55 + 0.4 * min(1.0, distance)), (*values, distance)
        return _HOLD, _HELD, (*values, 0.0)

    def signal(self, context: DecisionContext) -> Signal:
        decided = self._decide(context)
        if decided is None:
            return ABSTAINED
        return Signal(decided[0], decided[1], False)

    def signal_at(self, at: SeriesCursor, window: int) -> Signal:
        if window < self.options.lookback + 15:
            return ABSTAINED
        action, confidence, _why = self._judge(self._at(at))
        return Signal(action, confidence, False)

    def vote_now(self, context: DecisionContext) -> ProviderVote:
        o = self.options
        decided = self._decide(context)
        if decided is None:
            return _warmup(self.name, context, o.lookback + 15)
        action, conf, (prior_high, prior_low, atr, price, distance) = decided
        if action is not Action.HOLD:
            up = action is Action.BUY
            edge = prior_high if up else prior_low
            reasoning = (
                f"Price {price:.6g} closed {'above' if up else 'below'} the {o.lookback}-bar "
                f"{'high' if up else 'low'} of {edge:.6g} by {distance:.2f} ATR: a breakout "
                f"{'upward' if up else 'downward'}, stronger the further it runs past the channel."
            )
        else:
            reasoning = (
                f"Price {price:.6g} is inside the {o.lookback}-bar channel "
                f"({prior_low:.6g} to {prior_high:.6g}); no breakout yet."
            )
        return _vote(self.name, context, action, conf, reasoning, atr, o)

    async def vote(self, context: DecisionContext) -> ProviderVote:
        return self.vote_now(context)

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
        return self.vote_series(_series_of(open, high, low, close, volume, history))

    def vote_series(self, s: BarSeries) -> BatchVotes:
        """:meth:`vote_batch` on the series (sharing what other providers derived from it)."""
        o, close = self.options, s.close
        n = close.shape[0]
        abstained = win.window_lengths(n, s.history) < o.lookback + 15
        prior_high, prior_low = np.full(n, np.nan), np.full(n, np.nan)
        prior_high[1:] = ind.rolling_max(s.high, o.lookback)[:-1]
        prior_low[1:] = ind.rolling_min(s.low, o.lookback)[:-1]
        atr = win.series_atr(s, 14)
        up, down = close > prior_high, close < prior_low
        edge = np.where(up, prior_high, prior_low)
        with np.errstate(divide="ignore", invalid="ignore"):
            distance = np.where(atr > 0, np.abs(close - edge) / atr, 0.0)
        conf = 0.55 + 0.4 * np.where(distance < 1.0, distance, 1.0)
        return _finish(_signs(up, down), np.where(up | down, conf, NEUTRAL), abstained)
