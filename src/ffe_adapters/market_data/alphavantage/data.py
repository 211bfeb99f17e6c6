"""Alpha Vantage candles and quotes.

Alpha Vantage answers HTTP 200 even when it refuses: the body then holds ``"Error Message"``
(bad call), ``"Note"`` (call frequency exceeded) or ``"Information"`` (daily quota, premium-only
endpoint). Time series live under a ``"Time Series ..."`` key whose entries are keyed
``"1. open"`` (``"1a. open (USD)"`` in older digital-currency answers). Intraday timestamps are in
the zone named by ``"Meta Data"`` (``US/Eastern`` for equities); daily dates become 00:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ffe_adapters.market_data.alphavantage.config import AlphaVantageOptions
from ffe_adapters.market_data.http import (
    RestSource,
    last_closed,
    make_bar,
    make_quote,
    pick,
)
from ffe_core.domain.errors import MarketDataError, RateLimited
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.domain.intervals import interval_seconds
from ffe_core.domain.market import Bar, Quote

INTRADAY: dict[int, str] = {60: "1min", 300: "5min", 900: "15min", 1800: "30min", 3600: "60min"}
DAILY = 86400
_RATE_WORDS = ("rate limit", "call frequency", "requests per day", "api call volume")


def inspect(status: int, body: Any) -> Exception | None:
    """Alpha Vantage's in-body errors (they arrive with HTTP 200)."""
    if not isinstance(body, dict):
        return None
    if "Error Message" in body:
        return MarketDataError(f"alphavantage: {body['Error Message']}")
    if "Note" in body:
        return RateLimited(f"alphavantage: {body['Note']}")
    info = body.get("Information")
    if isinstance(info, str) and not any(k.startswith("Time Series") for k in body):
        if any(word in info.lower() for word in _RATE_WORDS):
            return RateLimited(f"alphavantage: {info}")
        return MarketDataError(f"alphavantage: {info}")
    return None


def _field_values(entry: Any, where: str, market: str) -> dict[str, Any]:
    """``{"open": ..., ...}`` from ``"1. open"`` / ``"1a. open (USD)"`` style keys."""
    if not isinstance(entry, dict):
        raise MarketDataError(f"{where}: expected an object, got {type(entry).__name__}")
    out: dict[str, Any] = {}
    for key, value in sorted(entry.items()):
        label = key.split(". ", 1)[-1]
        name, _, suffix = label.partition(" (")
        if name in out and suffix.rstrip(")") != market:
            continue
        out[name] = value
    return out


def _zone(meta: Any) -> ZoneInfo:
    if isinstance(meta, dict):
        for key, value in meta.items():
            if key.endswith("Time Zone") and isinstance(value, str):
                try:
                    return ZoneInfo(value)
                except (ZoneInfoNotFoundError, ValueError):
                    raise MarketDataError(f"alphavantage: unknown time zone {value!r}") from None
    return ZoneInfo("UTC")


def _parse_ts(text: str, zone: ZoneInfo, where: str) -> datetime:
    try:
        if len(text) <= 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        return datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)
    except ValueError:
        raise MarketDataError(f"{where}: bad timestamp {text!r}") from None


def parse_series(body: Any, market: str = "USD") -> list[Bar]:
    """Bars (any order) from a TIME_SERIES_* / FX_* / DIGITAL_CURRENCY_* / CRYPTO_* answer."""
    if not isinstance(body, dict):
        raise MarketDataError("alphavantage: response is not an object")
    key = next((k for k in body if k.startswith("Time Series")), None)
    if key is None:
        raise MarketDataError(f"alphavantage: no time series in response (keys: {sorted(body)})")
    series = body[key]
    if not isinstance(series, dict):
        raise MarketDataError(f"alphavantage: {key!r} is not an object")
    zone = _zone(body.get("Meta Data"))
    bars = []
    for stamp, entry in series.items():
        where = f"alphavantage {key} {stamp}"
        values = _field_values(entry, where, market)
        bars.append(
            make_bar(
                where,
                _parse_ts(stamp, zone, where),
                values.get("open"),
                values.get("high"),
                values.get("low"),
                values.get("close"),
                values.get("volume"),
            )
        )
    return bars


class AlphaVantageSource(RestSource[AlphaVantageOptions]):
    """``MarketDataSource`` over the Alpha Vantage ``/query`` API."""

    name = "alphavantage"

    def _params(self, **params: str) -> dict[str, str]:
        key = self.options.api_key.get_secret_value() if self.options.api_key else "demo"
        return {**params, "apikey": key}

    def _series_params(self, instrument: Instrument, secs: int, limit: int) -> dict[str, str]:
        size = "compact" if limit <= 100 else "full"
        symbol = self.options.symbols.get(instrument.symbol)
        if secs == DAILY:
            if instrument.asset_class is AssetClass.EQUITY:
                return {
                    "function": "TIME_SERIES_DAILY",
                    "symbol": symbol or instrument.symbol,
                    "outputsize": size,
                }
            if instrument.asset_class is AssetClass.FOREX:
                return {
                    "function": "FX_DAILY",
                    "from_symbol": instrument.base,
                    "to_symbol": instrument.quote,
                    "outputsize": size,
                }
            return {
                "function": "DIGITAL_CURRENCY_DAILY",
                "symbol": symbol or instrument.base,
                "market": instrument.quote,
            }
        if secs not in INTRADAY:
            raise MarketDataError(
                f"alphavantage: interval of {secs}s not offered (1m, 5m, 15m, 30m, 1h, 1d)"
            )
        common = {"interval": INTRADAY[secs], "outputsize": size}
        if instrument.asset_class is AssetClass.EQUITY:
            return {
                "function": "TIME_SERIES_INTRADAY",
                "symbol": symbol or instrument.symbol,
                **common,
            }
        if instrument.asset_class is AssetClass.FOREX:
            return {
                "function": "FX_INTRADAY",
                "from_symbol": instrument.base,
                "to_symbol": instrument.quote,
                **common,
            }
        return {
            "function": "CRYPTO_INTRADAY",
            "symbol": symbol or instrument.base,
            "market": instrument.quote,
            **common,
        }

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]:
        secs = interval_seconds(interval)
        params = self._params(**self._series_params(instrument, secs, limit))
        body = await self.http.get("/query", params, inspect)
        bars = parse_series(body, instrument.quote)
        bars = sorted(bars, key=lambda b: b.ts)
        return last_closed(bars, self.clock.now(), secs, limit=limit, end=end)

    async def get_quote(self, instrument: Instrument) -> Quote:
        if instrument.asset_class is AssetClass.EQUITY:
            symbol = self.options.symbols.get(instrument.symbol, instrument.symbol)
            body = await self.http.get(
                "/query", self._params(function="GLOBAL_QUOTE", symbol=symbol), inspect
            )
            data = pick(body, "Global Quote", "alphavantage GLOBAL_QUOTE")
            if not data:
                raise MarketDataError(f"alphavantage: no quote for {symbol}")
            price = pick(data, "05. price", "alphavantage GLOBAL_QUOTE")
            day = _parse_ts(
                str(pick(data, "07. latest trading day", "alphavantage GLOBAL_QUOTE")),
                ZoneInfo("UTC"),
                "alphavantage GLOBAL_QUOTE",
            )
            now = self.clock.now()
            ts = now if day.date() == now.date() else day
            return make_quote("alphavantage GLOBAL_QUOTE", instrument.symbol, ts, price, price)
        body = await self.http.get(
            "/query",
            self._params(
                function="CURRENCY_EXCHANGE_RATE",
                from_currency=instrument.base,
                to_currency=instrument.quote,
            ),
            inspect,
        )
        where = "alphavantage CURRENCY_EXCHANGE_RATE"
        data = pick(body, "Realtime Currency Exchange Rate", where)
        rate = pick(data, "5. Exchange Rate", where)
        zone = ZoneInfo(str(data.get("7. Time Zone") or "UTC"))
        ts = _parse_ts(str(pick(data, "6. Last Refreshed", where)), zone, where)
        bid, ask = data.get("8. Bid Price"), data.get("9. Ask Price")
        if bid in (None, "", "-") or ask in (None, "", "-"):
            bid = ask = rate
        return make_quote(where, instrument.symbol, ts, bid, ask)
