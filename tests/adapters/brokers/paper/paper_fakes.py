"""Hand-written fakes for the paper broker tests: a market whose bars and quote the test sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ffe_adapters.brokers.paper.config import PaperOptions
from ffe_adapters.brokers.paper.execution import PaperBroker
from ffe_adapters.storage.memory import InMemoryUnitOfWorkFactory
from ffe_core.config import CoreView, Settings, TradingSettings
from ffe_core.domain.errors import MarketDataError
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar, Quote
from ffe_core.ports.clock import ManualClock

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


class FakeMarket:
    """A MarketDataSource answering with whatever the test put in it."""

    name = "fake"

    def __init__(self) -> None:
        self.bars: dict[str, list[Bar]] = {}
        self.quotes: dict[str, Quote] = {}
        self.down = False

    def add_bar(self, symbol: str, ts: datetime, o: float, h: float, lo: float, c: float) -> None:
        self.bars.setdefault(symbol, []).append(Bar(ts=ts, open=o, high=h, low=lo, close=c))

    def set_quote(self, symbol: str, bid: str, ask: str, ts: datetime = T0) -> None:
        self.quotes[symbol] = Quote(symbol=symbol, ts=ts, bid=Decimal(bid), ask=Decimal(ask))

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]:
        if self.down:
            raise MarketDataError("fake market is down")
        return self.bars.get(instrument.symbol, [])[-limit:]

    async def get_quote(self, instrument: Instrument) -> Quote:
        if self.down or instrument.symbol not in self.quotes:
            raise MarketDataError("no quote")
        return self.quotes[instrument.symbol]

    async def close(self) -> None:
        return None


def make_settings(
    cash: str = "10000", commission: str = "0.001", slippage: str = "0.0005", spread: str = "0"
) -> Settings:
    return Settings(
        trading=TradingSettings(
            initial_cash=Decimal(cash),
            commission=Decimal(commission),
            slippage=Decimal(slippage),
            spread=Decimal(spread),
            account_id="paper-test",
        )
    )


def make_broker(
    store: InMemoryUnitOfWorkFactory,
    market: FakeMarket,
    settings: Settings | None = None,
    clock: ManualClock | None = None,
    **options: object,
) -> PaperBroker:
    return PaperBroker(
        settings=CoreView.of(settings or make_settings()),
        uow_factory=store,
        market_data=market,
        clock=clock or ManualClock(T0),
        options=PaperOptions.model_validate(options),
    )


HOUR = timedelta(hours=1)
