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

MAX_CANDLES = 350
"""Coinbase answers at most 350 candles per request; longer histories are paged by time."""


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
        last = (stop // step) * step - step  # start of the newest closed candle
        bars: dict[int, Bar] = {}
        while len(bars) < limit:
            count = min(limit - len(bars), MAX_CANDLES)
            first = last - step * (count - 1)
            window = await self._window(instrument, interval, first, last, count)
            fresh = {t: b for t, b in window.items() if t <= last and t not in bars}
            if not fresh:
                break  # the product's history ends here
            bars.update(fresh)
            last = first - step
        ordered = sorted(bars.values(), key=lambda b: b.ts)
        return ordered[-limit:]

    async def _window(
        self, instrument: Instrument, interval: str, first: int, last: int, count: int
    ) -> dict[int, Bar]:
        """One request: the ``count`` (at most 350) candles starting from ``first`` to ``last``."""
        answer = await self._call(
            "get_public_candles",
            product_id=self._opts.product_id(instrument.symbol),
            start=str(first),
            end=str(last + INTERVAL_SECONDS[interval] - 1),
            granularity=INTERVALS[interval],
            limit=count,
        )
        return {
            int(c["start"]): Bar(
                ts=datetime.fromtimestamp(int(c["start"]), tz=UTC),
                open=float(c["open"]),
                high=float(c["high"]),
                low=float(c["low"]),
                close=float(c["close"]),
                volume=float(c.get("volume") or 0),
            )
            for c in answer.get("candles", [])
            if first <= int(c["start"]) <= last  # closed candles of this window only
        }

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
