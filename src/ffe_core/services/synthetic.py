"""Seeded synthetic OHLCV: geometric Brownian motion whose drift and volatility switch regimes.

Pure numpy and deterministic by seed, so tests, backtests, the ``synthetic`` source and the
bundled sample data all draw from the same generator.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from ffe_core.domain.instruments import AssetClass
from ffe_core.domain.market import Bar

SECONDS_PER_YEAR = 365.0 * 86400.0

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Regime:
    """A market state: annualised drift, a multiplier on base volatility, mean length in bars."""

    name: str
    drift: float
    vol_multiplier: float
    mean_bars: float


DEFAULT_REGIMES: tuple[Regime, ...] = (
    Regime("calm", 0.05, 0.6, 240.0),
    Regime("bull", 0.8, 1.0, 160.0),
    Regime("bear", -0.7, 1.3, 120.0),
    Regime("turbulent", 0.0, 2.2, 60.0),
)

BASE_VOLATILITY: dict[AssetClass, float] = {
    AssetClass.CRYPTO: 0.6,
    AssetClass.FOREX: 0.08,
    AssetClass.EQUITY: 0.25,
}
"""Annualised volatility per asset class, scaled by each regime's multiplier."""


@dataclass(frozen=True)
class OhlcvArrays:
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    regime: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.close.shape[0])


def symbol_seed(seed: int, symbol: str, interval_secs: int) -> int:
    """A stable per-(seed, symbol, interval) seed (``hash()`` is salted per process)."""
    return (seed * 1_000_003 + zlib.crc32(f"{symbol}|{interval_secs}".encode())) % 2**63


def _regime_path(
    rng: np.random.Generator, n: int, regimes: tuple[Regime, ...]
) -> npt.NDArray[np.int64]:
    out = np.empty(n, dtype=np.int64)
    i, state = 0, int(rng.integers(len(regimes)))
    while i < n:
        length = int(rng.geometric(1.0 / regimes[state].mean_bars))
        out[i : i + length] = state
        i += length
        if len(regimes) > 1:
            step = int(rng.integers(1, len(regimes)))
            state = (state + step) % len(regimes)
    return out


def generate_ohlcv(
    seed: int,
    n: int,
    *,
    start_price: float,
    interval_secs: int,
    base_volatility: float,
    base_volume: float = 1000.0,
    regimes: tuple[Regime, ...] = DEFAULT_REGIMES,
    bridge: bool = False,
) -> OhlcvArrays:
    """``n`` consecutive bars starting at ``start_price``; each open is the previous close.

    With ``bridge`` the log-price path is detrended so the last close equals ``start_price``,
    which lets a replay loop over the series without a jump.
    """
    if n <= 0:
        raise ValueError("n must be positive")
    rng = np.random.default_rng(seed)
    states = _regime_path(rng, n, regimes)
    drift = np.array([r.drift for r in regimes])[states]
    vol = base_volatility * np.array([r.vol_multiplier for r in regimes])[states]
    dt = interval_secs / SECONDS_PER_YEAR
    shocks = rng.standard_normal(n)
    log_ret = (drift - 0.5 * vol**2) * dt + vol * np.sqrt(dt) * shocks
    log_close = np.log(start_price) + np.cumsum(log_ret)
    log_open = np.concatenate(([np.log(start_price)], log_close[:-1]))
    if bridge:
        ramp = (log_close[-1] - np.log(start_price)) * np.arange(1, n + 1) / n
        log_close = log_close - ramp
        log_open = np.concatenate(([np.log(start_price)], log_close[:-1]))
    bar_sigma = vol * np.sqrt(dt)
    up = np.abs(rng.standard_normal(n)) * bar_sigma * 0.6
    down = np.abs(rng.standard_normal(n)) * bar_sigma * 0.6
    open_ = np.exp(log_open)
    close = np.exp(log_close)
    high = np.maximum(open_, close) * np.exp(up)
    low = np.minimum(open_, close) * np.exp(-down)
    activity = 1.0 + np.abs(shocks) + 2.0 * (vol / base_volatility - 1.0).clip(min=0)
    volume = base_volume * activity * np.exp(0.3 * rng.standard_normal(n))
    return OhlcvArrays(open_, high, low, close, volume, states)


def to_bars(arrays: OhlcvArrays, first_open: datetime, interval_secs: int) -> list[Bar]:
    """Bars for ``arrays`` with opens every ``interval_secs`` from ``first_open`` (UTC)."""
    step = timedelta(seconds=interval_secs)
    return [
        Bar(
            ts=first_open + i * step,
            open=float(arrays.open[i]),
            high=float(arrays.high[i]),
            low=float(arrays.low[i]),
            close=float(arrays.close[i]),
            volume=float(arrays.volume[i]),
        )
        for i in range(len(arrays))
    ]
