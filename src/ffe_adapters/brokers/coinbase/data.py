"""Coinbase public candles and top of book as the ``coinbase`` MarketDataSource."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from ffe_adapters.brokers.coinbase.client import CoinbaseClient
from ffe_adapters.brokers.coinbase.config import INTERVAL_SECONDS, INTERVALS, CoinbaseOptions
from ffe_adapters.brokers.common import read_with_retry
from ffe_core.domain.errors import BrokerError, MarketDataError
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar, Quote
from ffe_core.ports.clock import Clock

MAX_CANDLES = 350  # Coinbase answers at most 350 candles per request


class CoinbaseMarketData:
    """Closed candles (ascending, UTC) and the best bid / ask of a product."""

    name = "coinbase"

    def __init__(self, client: CoinbaseClient, options: CoinbaseOptions, clock: Clock) -> None:
        self._client = client
        self._opts = options
        self._clock = clock

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]:
        if interval not in INTERVALS:
            raise MarketDataError(f"coinbase has no {interval!r} candles ({', '.join(INTERVALS)})")
        step = INTERVAL_SECONDS[interval]
        stop = int((end or self._clock.now()).timestamp())
        count = min(limit, MAX_CANDLES)
        answer = await self._call(
            "get_public_candles",
            product_id=self._opts.product_id(instrument.symbol),
            start=str(stop - step * (count + 1)),
            end=str(stop),
            granularity=INTERVALS[interval],
            limit=count + 1,
        )
        bars = [
            Bar(
                ts=datetime.fromtimestamp(int(c["start"]), tz=UTC),
                open=float(c["open"]),
                high=float(c["high"]),
                low=float(c["low"]),
                close=float(c["close"]),
                volume=float(c.get("volume") or 0),
            )
            for c in answer.get("candles", [])
            if int(c["start"]) + step <= stop  # only closed candles
        ]
        bars.sort(key=lambda b: b.ts)
        return bars[-limit:]

    async def get_quote(self, instrument: Instrument) -> Quote:
        answer = await self._call(
            "get_public_product_book", product_id=self._opts.product_id(instrument.symbol), limit=1
        )
        book = answer.get("pricebook") or {}
        if not book.get("bids") or not book.get("asks"):
            raise MarketDataError(f"coinbase: empty order book for {instrument.symbol}")
        ts = book.get("time")
        return Quote(
            symbol=instrument.symbol,
            ts=datetime.fromisoformat(str(ts).replace("Z", "+00:00")) if ts else self._clock.now(),
            bid=Decimal(str(book["bids"][0]["price"])),
            ask=Decimal(str(book["asks"][0]["price"])),
        )

    async def close(self) -> None:
        self._client.close()

    async def _call(self, method: str, **kwargs: object) -> dict:  # type: ignore[type-arg]
        try:
            return await read_with_retry(
                lambda: self._client.call(method, **kwargs),
                attempts=self._opts.retries,
                max_wait=self._opts.max_retry_wait_seconds,
            )
        except BrokerError as exc:
            raise MarketDataError(f"coinbase market data: {exc}") from exc
