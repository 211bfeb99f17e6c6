"""OANDA mid candles and pricing as the ``oanda`` MarketDataSource."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import oandapyV20.endpoints.instruments as instruments
import oandapyV20.endpoints.pricing as pricing

from ffe_adapters.brokers.common import read_with_retry
from ffe_adapters.brokers.oanda.client import OandaClient
from ffe_adapters.brokers.oanda.config import GRANULARITY, OandaOptions
from ffe_adapters.brokers.oanda.execution import parse_time
from ffe_core.domain.errors import BrokerError, MarketDataError
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar, Quote

MAX_CANDLES = 5000


class OandaMarketData:
    """Complete mid-price candles (ascending, UTC) and the top of book."""

    name = "oanda"

    def __init__(self, client: OandaClient, options: OandaOptions) -> None:
        self._client = client
        self._opts = options

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]:
        if interval not in GRANULARITY:
            raise MarketDataError(f"oanda has no {interval!r} candles ({', '.join(GRANULARITY)})")
        params: dict[str, Any] = {
            "granularity": GRANULARITY[interval],
            "count": min(limit + 1, MAX_CANDLES),
            "price": "M",
        }
        if end is not None:
            params["to"] = end.isoformat().replace("+00:00", "Z")
        name = OandaOptions.instrument(instrument.symbol)
        answer = await self._call(instruments.InstrumentsCandles(name, params=params))
        bars = [
            Bar(
                ts=parse_time(c["time"]),
                open=float(c["mid"]["o"]),
                high=float(c["mid"]["h"]),
                low=float(c["mid"]["l"]),
                close=float(c["mid"]["c"]),
                volume=float(c.get("volume") or 0),
            )
            for c in answer.get("candles", [])
            if c.get("complete")
        ]
        return sorted(bars, key=lambda b: b.ts)[-limit:]

    async def get_quote(self, instrument: Instrument) -> Quote:
        if not self._client.account_id:
            raise MarketDataError("oanda quotes need adapters.oanda.account_id")
        name = OandaOptions.instrument(instrument.symbol)
        answer = await self._call(
            pricing.PricingInfo(self._client.account_id, params={"instruments": name})
        )
        price = next((p for p in answer.get("prices", []) if p.get("instrument") == name), None)
        if price is None or not price.get("bids") or not price.get("asks"):
            raise MarketDataError(f"oanda: no price for {instrument.symbol}")
        return Quote(
            symbol=instrument.symbol,
            ts=parse_time(price["time"]),
            bid=Decimal(str(price["bids"][0]["price"])),
            ask=Decimal(str(price["asks"][0]["price"])),
        )

    async def close(self) -> None:
        self._client.close()

    async def _call(self, endpoint: Any) -> dict[str, Any]:
        try:
            return await read_with_retry(
                lambda: self._client.request(endpoint),
                attempts=self._opts.retries,
                max_wait=self._opts.max_retry_wait_seconds,
            )
        except BrokerError as exc:
            raise MarketDataError(f"oanda market data: {exc}") from exc
