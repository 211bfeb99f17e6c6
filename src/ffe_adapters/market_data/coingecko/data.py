"""CoinGecko candles (``/coins/{id}/ohlc``) and prices (``/simple/price``).

The public OHLC endpoint picks the candle length from ``days`` (1-2 days: 30 minutes, 3-30 days:
4 hours, longer: 4 days) and stamps each candle with its *close* time; we shift to open times and
resample to the requested interval when it is a multiple of the native one. ``/simple/price`` has
no bid/ask, so quotes have zero spread. Errors arrive as ``{"status": {"error_code",
"error_message"}}`` or ``{"error": "..."}``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ffe_adapters.market_data.coingecko.config import COIN_IDS, CoinGeckoOptions
from ffe_adapters.market_data.http import (
    RestSource,
    from_epoch,
    key_header,
    last_closed,
    make_bar,
    make_quote,
    pick,
)
from ffe_core.domain.errors import MarketDataError
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.domain.intervals import interval_seconds
from ffe_core.domain.market import Bar, Quote
from ffe_core.services.bar_quality import resample_bars

HALF_HOUR, FOUR_HOURS, FOUR_DAYS = 1800, 14400, 345600
TIERS: tuple[tuple[int, tuple[int, ...]], ...] = (
    (FOUR_DAYS, (90, 180, 365)),
    (FOUR_HOURS, (7, 14, 30)),
    (HALF_HOUR, (1, 2)),
)
"""Native candle length and the ``days`` values that produce it, coarsest first."""


def plan_request(interval_secs: int, limit: int) -> tuple[int, int]:
    """(``days``, native seconds) for the coarsest native candle that divides the interval."""
    for native, days_options in TIERS:
        if interval_secs % native == 0:
            wanted = limit * interval_secs / 86400 + native / 86400
            days = next((d for d in days_options if d >= wanted), days_options[-1])
            return days, native
    raise MarketDataError(
        f"coingecko: interval of {interval_secs}s is not a multiple of 30m, 4h or 4d candles"
    )


def parse_ohlc(body: Any, native_secs: int) -> list[Bar]:
    """``[[close_ms, open, high, low, close], ...]`` -> bars keyed by their open time."""
    if not isinstance(body, list):
        raise MarketDataError("coingecko ohlc: expected a list of candles")
    shift = timedelta(seconds=native_secs)
    bars = []
    for i, row in enumerate(body):
        where = f"coingecko ohlc row {i}"
        if not isinstance(row, list) or len(row) != 5:
            raise MarketDataError(f"{where}: expected [time, open, high, low, close], got {row!r}")
        closed_at = from_epoch(row[0], where, unit=1e3)
        bars.append(make_bar(where, closed_at - shift, row[1], row[2], row[3], row[4]))
    return bars


def inspect(status: int, body: Any) -> Exception | None:
    """CoinGecko error bodies on 200 answers (``{"error": ...}``); status codes go the usual way."""
    if status == 200 and isinstance(body, dict) and isinstance(body.get("error"), str):
        return MarketDataError(f"coingecko: {body['error']}")
    return None


class CoinGeckoSource(RestSource[CoinGeckoOptions]):
    """``MarketDataSource`` for crypto instruments over the CoinGecko v3 API."""

    name = "coingecko"

    def auth_headers(self, options: CoinGeckoOptions) -> dict[str, str]:
        return key_header(options, options.api_key_header)

    def coin_id(self, instrument: Instrument) -> str:
        if instrument.symbol in self.options.symbols:
            return self.options.symbols[instrument.symbol]
        if instrument.asset_class is not AssetClass.CRYPTO:
            raise MarketDataError(f"coingecko: {instrument.symbol} is not a crypto instrument")
        try:
            return COIN_IDS[instrument.base]
        except KeyError:
            raise MarketDataError(
                f"coingecko: no coin id known for {instrument.base}; "
                f"set adapters.coingecko.symbols.{instrument.symbol}"
            ) from None

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]:
        secs = interval_seconds(interval)
        days, native = plan_request(secs, limit)
        body = await self.http.get(
            f"/coins/{self.coin_id(instrument)}/ohlc",
            {"vs_currency": instrument.quote.lower(), "days": str(days)},
            inspect,
        )
        bars = sorted(parse_ohlc(body, native), key=lambda b: b.ts)
        bars = resample_bars(bars, native, secs)
        return last_closed(bars, self.clock.now(), secs, limit=limit, end=end)

    async def get_quote(self, instrument: Instrument) -> Quote:
        coin = self.coin_id(instrument)
        currency = instrument.quote.lower()
        body = await self.http.get(
            "/simple/price",
            {"ids": coin, "vs_currencies": currency, "include_last_updated_at": "true"},
            inspect,
        )
        where = "coingecko simple/price"
        entry = pick(body, coin, where)
        price = pick(entry, currency, where)
        updated = entry.get("last_updated_at")
        ts = from_epoch(updated, where) if updated is not None else self.clock.now()
        return make_quote(where, instrument.symbol, ts, price, price)
