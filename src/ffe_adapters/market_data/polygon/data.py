"""Polygon.io candles (``/v2/aggs/ticker/{ticker}/range/...``) and quotes.

Aggregates carry ``t`` = window start in Unix ms and ``o/h/l/c/v``; a window without trades has
no bar (reported as a gap by the service). Quotes: stocks ``/v2/last/nbbo/{ticker}`` (``p`` bid,
``P`` ask, ``t`` ns), FX ``/v1/last_quote/currencies/{from}/{to}`` (``last.bid/ask``, ms),
crypto ``/v1/last/crypto/{from}/{to}`` (last trade only: zero spread). A truncated aggregates
answer carries ``next_url``; every page is read. Errors:
``{"status": "ERROR", "error": ...}`` (429, 401) or ``{"status": "NOT_AUTHORIZED", "message"}``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ffe_adapters.market_data.http import (
    RestSource,
    from_epoch,
    key_header,
    last_closed,
    make_bar,
    make_quote,
    pick,
)
from ffe_adapters.market_data.polygon.config import PolygonOptions
from ffe_core.domain.errors import MarketDataError
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.domain.intervals import interval_seconds
from ffe_core.domain.market import Bar, Quote

TIMESPANS: tuple[tuple[int, str], ...] = (
    (604800, "week"),
    (86400, "day"),
    (3600, "hour"),
    (60, "minute"),
)
SPAN_FACTOR: dict[AssetClass, float] = {
    AssetClass.CRYPTO: 1.2,
    AssetClass.FOREX: 1.6,
    AssetClass.EQUITY: 4.0,
}
"""How much calendar time to ask for per wanted bar (markets close; crypto does not)."""
MAX_BASE_AGGREGATES = 50000
MAX_PAGES = 20
"""``next_url`` pages followed at most for one request of bars."""


def timespan(interval_secs: int) -> tuple[int, str]:
    """(multiplier, timespan) for an interval, e.g. 4h -> (4, "hour")."""
    for unit, name in TIMESPANS:
        if interval_secs % unit == 0:
            return interval_secs // unit, name
    raise MarketDataError(f"polygon: interval of {interval_secs}s is not whole minutes")


def inspect(status: int, body: Any) -> Exception | None:
    """``NOT_AUTHORIZED`` (plan does not include the data) reads better than a bare 403."""
    if isinstance(body, dict) and body.get("status") == "NOT_AUTHORIZED":
        return MarketDataError(f"polygon: not authorized: {body.get('message', '')}")
    return None


def parse_aggs(body: Any) -> list[Bar]:
    """``{"results": [{"t", "o", "h", "l", "c", "v"}, ...], "status": "OK"}`` -> bars."""
    if not isinstance(body, dict):
        raise MarketDataError("polygon aggs: response is not an object")
    results = body.get("results", [])
    if not isinstance(results, list):
        raise MarketDataError("polygon aggs: 'results' is not a list")
    bars = []
    for i, row in enumerate(results):
        where = f"polygon aggs results[{i}]"
        ts = from_epoch(pick(row, "t", where), where, unit=1e3)
        bars.append(
            make_bar(
                where, ts, row.get("o"), row.get("h"), row.get("l"), row.get("c"), row.get("v")
            )
        )
    return bars


class PolygonSource(RestSource[PolygonOptions]):
    """``MarketDataSource`` over the Polygon.io REST API."""

    name = "polygon"

    def auth_headers(self, options: PolygonOptions) -> dict[str, str]:
        return key_header(options, "Authorization", "Bearer ")

    def ticker(self, instrument: Instrument) -> str:
        """``AAPL``, ``C:EURUSD``, ``X:BTCUSD``."""
        if instrument.symbol in self.options.symbols:
            return self.options.symbols[instrument.symbol]
        if instrument.asset_class is AssetClass.FOREX:
            return f"C:{instrument.base}{instrument.quote}"
        if instrument.asset_class is AssetClass.CRYPTO:
            return f"X:{instrument.base}{instrument.quote}"
        return instrument.symbol

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]:
        secs = interval_seconds(interval)
        multiplier, span = timespan(secs)
        to = (end or self.clock.now()).astimezone(UTC)
        lookback = timedelta(seconds=secs * (limit + 1) * SPAN_FACTOR[instrument.asset_class])
        start = to - lookback - (timedelta(days=3) if secs < 86400 else timedelta(0))
        path = (
            f"/v2/aggs/ticker/{self.ticker(instrument)}/range/{multiplier}/{span}/"
            f"{int(start.timestamp() * 1000)}/{int(to.timestamp() * 1000)}"
        )
        params = {"adjusted": "true", "sort": "asc", "limit": str(MAX_BASE_AGGREGATES)}
        bars = await self._aggregates(path, params)
        return last_closed(bars, self.clock.now(), secs, limit=limit, end=end)

    async def _aggregates(self, path: str, params: dict[str, str]) -> list[Bar]:
        """Every page of an aggregates answer, ascending: a truncated answer carries ``next_url``
        (as the official client follows it); only its path and query are used, on our own
        ``base_url``, so the key never travels to another host."""
        by_ts: dict[datetime, Bar] = {}
        for _ in range(MAX_PAGES):
            body = await self.http.get(path, params, inspect)
            by_ts.update((b.ts, b) for b in parse_aggs(body))
            following = body.get("next_url") if isinstance(body, dict) else None
            if not isinstance(following, str) or not following:
                break
            parts = urlsplit(following)
            path, params = parts.path, dict(parse_qsl(parts.query))
        return sorted(by_ts.values(), key=lambda b: b.ts)

    async def get_quote(self, instrument: Instrument) -> Quote:
        if instrument.asset_class is AssetClass.EQUITY:
            where = "polygon last nbbo"
            body = await self.http.get(f"/v2/last/nbbo/{self.ticker(instrument)}", None, inspect)
            res = pick(body, "results", where)
            ts = from_epoch(pick(res, "t", where), where, unit=1e9)
            return make_quote(
                where, instrument.symbol, ts, pick(res, "p", where), pick(res, "P", where)
            )
        pair = f"{instrument.base}/{instrument.quote}"
        if instrument.asset_class is AssetClass.FOREX:
            where = "polygon last_quote currencies"
            body = await self.http.get(f"/v1/last_quote/currencies/{pair}", None, inspect)
            last = pick(body, "last", where)
            ts = from_epoch(pick(last, "timestamp", where), where, unit=1e3)
            return make_quote(
                where, instrument.symbol, ts, pick(last, "bid", where), pick(last, "ask", where)
            )
        where = "polygon last crypto trade"
        body = await self.http.get(f"/v1/last/crypto/{pair}", None, inspect)
        last = pick(body, "last", where)
        ts = from_epoch(pick(last, "timestamp", where), where, unit=1e3)
        price = pick(last, "price", where)
        return make_quote(where, instrument.symbol, ts, price, price)
