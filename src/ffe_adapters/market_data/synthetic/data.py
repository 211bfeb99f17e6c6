"""The ``synthetic`` source: ``limit`` generated bars ending at the last closed interval.

The path depends only on (seed, symbol, interval, limit); the clock only places it in time, so
the same request always yields the same prices.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ffe_adapters.market_data.synthetic.config import START_PRICES, SyntheticOptions
from ffe_core.domain.errors import MarketDataError
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.intervals import floor_time, interval_seconds, last_closed_open
from ffe_core.domain.market import Bar, Quote
from ffe_core.ports.clock import Clock, SystemClock
from ffe_core.services.market_data import spread_quote
from ffe_core.services.synthetic import BASE_VOLATILITY, generate_ohlcv, symbol_seed, to_bars

MAX_BARS = 100_000


class SyntheticSource:
    """``MarketDataSource`` generating bars instead of fetching them."""

    name = "synthetic"
    cacheable = False

    def __init__(self, options: SyntheticOptions, *, clock: Clock | None = None) -> None:
        self.options = options
        self.clock: Clock = clock or SystemClock()

    def _start_price(self, instrument: Instrument) -> float:
        symbol = instrument.symbol
        return self.options.start_prices.get(
            symbol, START_PRICES.get(symbol, self.options.default_start_price)
        )

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]:
        if not 0 < limit <= MAX_BARS:
            raise MarketDataError(f"synthetic: limit must be 1..{MAX_BARS}, got {limit}")
        secs = interval_seconds(interval)
        last_open = (
            floor_time(end, secs) if end is not None else last_closed_open(self.clock.now(), secs)
        )
        vol = self.options.volatility.get(
            instrument.symbol, BASE_VOLATILITY[instrument.asset_class]
        )
        arrays = generate_ohlcv(
            symbol_seed(self.options.seed, instrument.symbol, secs),
            limit,
            start_price=self._start_price(instrument),
            interval_secs=secs,
            base_volatility=vol,
        )
        return to_bars(arrays, last_open - timedelta(seconds=secs * (limit - 1)), secs)

    async def get_quote(self, instrument: Instrument) -> Quote:
        bars = await self.get_bars(instrument, "1h", limit=200)
        return spread_quote(instrument, bars[-1].close, self.clock.now(), self.options.spread_bps)

    async def close(self) -> None:
        return None
