"""Market data through a fallback chain of sources, cached, normalised and quality-reported.

The first source that answers wins; every source that failed on the way is logged and listed in
the result with its reason. Bars are cached per source under a versioned key whose ``end`` part
is the last closed interval when no ``end`` is given, so a new bar means a new key and closed
candles can live long (``bar_ttl``) while quotes expire in seconds (``quote_ttl``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from ffe_core.domain.errors import FfeError, MarketDataError
from ffe_core.domain.instruments import Instrument, round_to_increment
from ffe_core.domain.intervals import interval_seconds, last_closed_open
from ffe_core.domain.market import Bar, Quote
from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.capabilities import CachePolicy
from ffe_core.ports.clock import Clock, SystemClock
from ffe_core.ports.market_data import Cache, MarketDataSource, ReplayPace
from ffe_core.services.bar_quality import DataQualityReport, normalise_bars

logger = logging.getLogger(__name__)

CACHE_VERSION = "v1"


@dataclass(frozen=True)
class SourceFailure:
    """One source that did not answer, and why."""

    source: str
    error: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.error}: {self.reason}"


@dataclass(frozen=True)
class BarsResult:
    bars: list[Bar]
    source: str
    report: DataQualityReport
    from_cache: bool = False
    failures: tuple[SourceFailure, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class QuoteResult:
    quote: Quote
    source: str
    from_cache: bool = False
    failures: tuple[SourceFailure, ...] = field(default_factory=tuple)


def bars_cache_key(
    source: str, symbol: str, interval: str, limit: int, end: datetime | None, now: datetime
) -> str:
    """``ffe:md:v1:bars:<source>:<symbol>:<interval>:<limit>:<end>``; ``end`` defaults to the
    open of the last closed interval, so the key rolls over when a new bar closes."""
    anchor = end if end is not None else last_closed_open(now, interval_seconds(interval))
    stamp = anchor.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"ffe:md:{CACHE_VERSION}:bars:{source}:{symbol}:{interval}:{limit}:{stamp}"


def quote_cache_key(source: str, symbol: str) -> str:
    return f"ffe:md:{CACHE_VERSION}:quote:{source}:{symbol}"


def encode_bars(bars: Sequence[Bar]) -> bytes:
    rows = [[b.ts.timestamp(), b.open, b.high, b.low, b.close, b.volume] for b in bars]
    return json.dumps(rows, separators=(",", ":")).encode()


def decode_bars(raw: bytes) -> list[Bar]:
    return [
        Bar(
            ts=datetime.fromtimestamp(r[0], UTC),
            open=r[1],
            high=r[2],
            low=r[3],
            close=r[4],
            volume=r[5],
        )
        for r in json.loads(raw)
    ]


def _failure(source: str, exc: BaseException) -> SourceFailure:
    return SourceFailure(source=source, error=type(exc).__name__, reason=str(exc) or repr(exc))


class MarketDataService:
    """The chain the rest of ffe asks for market data; also a ``MarketDataSource`` itself.

    ``get_bars``/``get_quote`` satisfy the port (the latest report per symbol and interval is
    kept in :attr:`reports`); ``fetch_bars``/``fetch_quote`` return the full result objects.
    A source with ``cacheable = False`` (local files, replay, synthetic) is never cached.
    """

    name = "chain"

    def __init__(
        self,
        sources: Sequence[MarketDataSource],
        cache: Cache | None = None,
        *,
        quote_ttl_seconds: float = 5.0,
        bar_ttl_seconds: float = 3600.0,
        clock: Clock | None = None,
    ) -> None:
        if not sources:
            raise MarketDataError("no market data source configured")
        self.sources = list(sources)
        self.cache = cache
        self.quote_ttl_seconds = quote_ttl_seconds
        self.bar_ttl_seconds = bar_ttl_seconds
        self.clock: Clock = clock or SystemClock()
        self.reports: dict[tuple[str, str], DataQualityReport] = {}
        self.failures: list[SourceFailure] = []

    def replay_pace(self) -> ReplayPace | None:
        """The first source when it replays recorded bars at its own pace, else None."""
        first = self.sources[0] if self.sources else None
        return first if isinstance(first, ReplayPace) else None

    def _cached(self, source: MarketDataSource) -> Cache | None:
        if isinstance(source, CachePolicy) and not source.cacheable:
            return None
        return self.cache

    async def fetch_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> BarsResult:
        """Bars from the first source that returns any, normalised, with its quality report."""
        secs = interval_seconds(interval)
        failures: list[SourceFailure] = []
        for source in self.sources:
            cache = self._cached(source)
            key = bars_cache_key(
                source.name, instrument.symbol, interval, limit, end, self.clock.now()
            )
            raw: list[Bar] | None = None
            from_cache = False
            if cache is not None:
                hit = await cache.get(key)
                if hit is not None:
                    try:
                        raw, from_cache = decode_bars(hit), True
                    except (ValueError, TypeError, IndexError, KeyError):
                        logger.warning("market data cache entry %s is unreadable; refetching", key)
            if raw is None:
                try:
                    raw = await source.get_bars(instrument, interval, limit=limit, end=end)
                except FfeError as exc:
                    failures.append(_failure(source.name, exc))
                    logger.warning("market data source failed: %s", failures[-1])
                    continue
                if not raw:
                    failures.append(SourceFailure(source.name, "NoData", "returned no bars"))
                    logger.warning("market data source failed: %s", failures[-1])
                    continue
                if cache is not None:
                    await cache.set(key, encode_bars(raw), self.bar_ttl_seconds)
            bars, report = normalise_bars(
                raw, secs, source=source.name, symbol=instrument.symbol, interval=interval
            )
            bars = bars[-limit:]
            if not report.clean:
                logger.warning(
                    "market data from %s for %s %s: %s",
                    source.name,
                    instrument.symbol,
                    interval,
                    "; ".join(report.issues()),
                )
            self.reports[(instrument.symbol, interval)] = report
            self.failures.extend(failures)
            return BarsResult(bars, source.name, report, from_cache, tuple(failures))
        self.failures.extend(failures)
        raise MarketDataError(self._all_failed(instrument, failures))

    async def fetch_quote(self, instrument: Instrument) -> QuoteResult:
        """A quote from the first source that gives one."""
        failures: list[SourceFailure] = []
        for source in self.sources:
            cache = self._cached(source)
            key = quote_cache_key(source.name, instrument.symbol)
            if cache is not None:
                hit = await cache.get(key)
                if hit is not None:
                    try:
                        return QuoteResult(Quote.model_validate_json(hit), source.name, True)
                    except ValueError:
                        logger.warning("market data cache entry %s is unreadable; refetching", key)
            try:
                quote = await source.get_quote(instrument)
            except FfeError as exc:
                failures.append(_failure(source.name, exc))
                logger.warning("market data source failed: %s", failures[-1])
                continue
            if cache is not None:
                await cache.set(key, quote.model_dump_json().encode(), self.quote_ttl_seconds)
            self.failures.extend(failures)
            return QuoteResult(quote, source.name, False, tuple(failures))
        self.failures.extend(failures)
        raise MarketDataError(self._all_failed(instrument, failures))

    @staticmethod
    def _all_failed(instrument: Instrument, failures: Sequence[SourceFailure]) -> str:
        reasons = "; ".join(str(f) for f in failures)
        return f"no market data for {instrument.symbol}: {reasons}"

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]:
        return (await self.fetch_bars(instrument, interval, limit=limit, end=end)).bars

    async def get_quote(self, instrument: Instrument) -> Quote:
        return (await self.fetch_quote(instrument)).quote

    async def close(self) -> None:
        for source in self.sources:
            try:
                await source.close()
            except Exception:  # closing must not mask the real outcome
                logger.warning("closing market data source %s failed", source.name, exc_info=True)


def spread_quote(
    instrument: Instrument, mid: float, ts: datetime, spread_bps: float = 0.0
) -> Quote:
    """A quote around ``mid`` with a total spread of ``spread_bps``, on the instrument's tick grid.

    The bid is rounded down and the ask up, so rounding never narrows the spread.
    """
    half = Decimal(str(mid)) * Decimal(str(spread_bps)) / Decimal(20000)
    price = Decimal(str(mid))
    tick = instrument.price_increment
    bid = round_to_increment(price - half, tick, ROUND_FLOOR)
    ask = round_to_increment(price + half, tick, ROUND_CEILING)
    if bid <= 0:
        bid = tick
    return Quote(symbol=instrument.symbol, ts=ts, bid=bid, ask=max(ask, bid))


async def mark_prices(
    portfolio: Portfolio,
    instrument: Callable[[str], Instrument | None],
    market_data: MarketDataSource,
    *,
    at_cost_when_unpriced: bool = True,
) -> dict[str, Decimal]:
    """Mid price of every held instrument. One that cannot be priced is marked at its average
    cost (views), or the error propagates (``at_cost_when_unpriced=False``: risk checks must
    not mistake a missing price for a flat one)."""
    marks: dict[str, Decimal] = {}
    for symbol, position in portfolio.positions.items():
        found = instrument(symbol)
        try:
            if found is None:
                raise MarketDataError(f"no instrument {symbol!r} in settings.instruments")
            marks[symbol] = (await market_data.get_quote(found)).mid
        except Exception:  # a view keeps working when one source is down
            if not at_cost_when_unpriced:
                raise
            marks[symbol] = position.average_price
    return marks
