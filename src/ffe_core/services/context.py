"""Builds what providers see: the past bars, indicators computed from them, position, memory."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import numpy as np

from ffe_core import indicators as ind
from ffe_core.domain.context import DecisionContext, PastDecision
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar
from ffe_core.domain.portfolio import Portfolio


def _last(values: np.ndarray) -> float | None:
    v = float(values[-1])
    return v if math.isfinite(v) else None


def compute_indicators(bars: Sequence[Bar]) -> dict[str, float]:
    """Latest value of each standard indicator (absent while in warm-up)."""
    close = np.fromiter((b.close for b in bars), dtype=np.float64, count=len(bars))
    high = np.fromiter((b.high for b in bars), dtype=np.float64, count=len(bars))
    low = np.fromiter((b.low for b in bars), dtype=np.float64, count=len(bars))
    macd_line, macd_signal, macd_hist = ind.macd(close)
    bb_mid, bb_up, bb_low = ind.bollinger(close, 20, 2.0)
    don_hi, don_lo = ind.donchian(high[:-1], low[:-1], 20) if len(bars) > 1 else (high, low)
    values: dict[str, float | None] = {
        "close": float(close[-1]),
        "sma_20": _last(ind.sma(close, 20)),
        "sma_50": _last(ind.sma(close, 50)),
        "ema_12": _last(ind.ema(close, 12)),
        "ema_26": _last(ind.ema(close, 26)),
        "rsi_14": _last(ind.rsi(close, 14)),
        "macd": _last(macd_line),
        "macd_signal": _last(macd_signal),
        "macd_hist": _last(macd_hist),
        "atr_14": _last(ind.atr(high, low, close, 14)),
        "bb_mid": _last(bb_mid),
        "bb_upper": _last(bb_up),
        "bb_lower": _last(bb_low),
        "donchian_high_20": _last(don_hi),
        "donchian_low_20": _last(don_lo),
        "return_1": _last(ind.returns(close)),
        "return_20": float(close[-1] / close[-21] - 1) if len(close) > 20 else None,
        "volatility_20": _last(ind.volatility(close, 20)),
    }
    return {k: v for k, v in values.items() if v is not None}


def build_context(
    instrument: Instrument,
    bars: Sequence[Bar],
    as_of: datetime,
    portfolio: Portfolio,
    memory: Sequence[PastDecision] = (),
) -> DecisionContext:
    """A context as of ``as_of``: bars after it are dropped, so no provider sees the future."""
    past = tuple(b for b in bars if b.ts <= as_of)
    return DecisionContext(
        instrument=instrument,
        as_of=as_of,
        bars=past,
        indicators=compute_indicators(past) if past else {},
        position=portfolio.position(instrument.symbol),
        portfolio=portfolio,
        memory=tuple(memory),
    )
