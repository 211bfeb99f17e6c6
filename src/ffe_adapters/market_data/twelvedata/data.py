"""Twelve Data candles (``/time_series``) and quotes (``/quote``).

Errors come as ``{"code": ..., "message": ..., "status": "error"}``, often with HTTP 200 (e.g.
``code`` 429 "You have run out of API credits for the current minute"); codes 429 and >= 500 are
retried, and what still fails carries the vendor's message. We ask for
``timezone=UTC`` so ``datetime`` values are UTC. ``/quote`` carries no bid/ask: quotes use the
last price on both sides.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ffe_adapters.market_data.http import (
    RestSource,
    from_epoch,
    key_header,
    last_closed,
    make_bar,
    make_quote,
    pick,
)
from ffe_adapters.market_data.twelvedata.config import TwelveDataOptions
from ffe_adapters.resilience import TransientError
from ffe_core.domain.errors import MarketDataError, RateLimited
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.domain.intervals import interval_seconds
from ffe_core.domain.market import Bar, Quote

INTERVALS: dict[int, str] = {
    60: "1min",
    300: "5min",
    900: "15min",
    1800: "30min",
    2700: "45min",
    3600: "1h",
    7200: "2h",
    14400: "4h",
    86400: "1day",
    604800: "1week",
}
MAX_OUTPUTSIZE = 5000


def inspect(status: int, body: Any) -> Exception | None:
    """Twelve Data's ``status: error`` bodies, whatever the HTTP status."""
    if not isinstance(body, dict) or body.get("status") != "error":
        return None
    code = body.get("code")
    message = body.get("message", "error")
    if code == 429 or status == 429:
        return RateLimited(f"twelvedata: {message}")
    if code in (401, 403):
        return MarketDataError(f"twelvedata: credentials refused ({code}): {message}")
    if isinstance(code, int) and code >= 500:  # a server-side failure: retried like a 5xx
        return TransientError(f"twelvedata: server error {code}: {message}")
    return MarketDataError(f"twelvedata: {message} (code {code})")


def parse_values(body: Any) -> list[Bar]:
    """``{"meta": ..., "values": [{"datetime", "open", ...}], "status": "ok"}`` -> bars."""
    values = pick(body, "values", "twelvedata time_series")
    if not isinstance(values, list):
        raise MarketDataError("twelvedata time_series: 'values' is not a list")
    bars = []
    for i, row in enumerate(values):
        where = f"twelvedata time_series values[{i}]"
        stamp = pick(row, "datetime", where)
        try:
            ts = datetime.fromisoformat(str(stamp))
        except ValueError:
            raise MarketDataError(f"{where}: bad datetime {stamp!r}") from None
        ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts
        bars.append(
            make_bar(
                where,
                ts,
                row.get("open"),
                row.get("high"),
                row.get("low"),
                row.get("close"),
                row.get("volume"),
            )
        )
    return bars


class TwelveDataSource(RestSource[TwelveDataOptions]):
    """``MarketDataSource`` over the Twelve Data REST API."""

    name = "twelvedata"

    def auth_headers(self, options: TwelveDataOptions) -> dict[str, str]:
        return key_header(options, "Authorization", "apikey ")

    def symbol(self, instrument: Instrument) -> str:
        """``AAPL``; ``EUR/USD`` and ``BTC/USD`` for pairs."""
        if instrument.symbol in self.options.symbols:
            return self.options.symbols[instrument.symbol]
        if instrument.asset_class is AssetClass.EQUITY:
            return instrument.symbol
        return f"{instrument.base}/{instrument.quote}"

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]:
        secs = interval_seconds(interval)
        if secs not in INTERVALS:
            raise MarketDataError(f"twelvedata: interval {interval!r} not offered")
        params = {
            "symbol": self.symbol(instrument),
            "interval": INTERVALS[secs],
            "outputsize": str(min(limit + 1, MAX_OUTPUTSIZE)),
            "timezone": "UTC",
        }
        if end is not None:
            params["end_date"] = end.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        body = await self.http.get("/time_series", params, inspect)
        bars = sorted(parse_values(body), key=lambda b: b.ts)
        return last_closed(bars, self.clock.now(), secs, limit=limit, end=end)

    async def get_quote(self, instrument: Instrument) -> Quote:
        body = await self.http.get("/quote", {"symbol": self.symbol(instrument)}, inspect)
        where = "twelvedata quote"
        price = pick(body, "close", where)
        stamp = body.get("last_quote_at") or body.get("timestamp")
        ts = from_epoch(stamp, where) if stamp is not None else self.clock.now()
        return make_quote(where, instrument.symbol, ts, price, price)
