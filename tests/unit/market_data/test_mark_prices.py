"""Marking positions: quotes' mids, cost for views when unpriced, an error for risk checks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ffe_core.config import DEFAULT_INSTRUMENTS, Settings
from ffe_core.domain.errors import MarketDataError
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Quote
from ffe_core.domain.portfolio import Portfolio, Position
from ffe_core.services.market_data import mark_prices

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Quotes:
    name = "quotes"

    def __init__(self, **mids: str) -> None:
        self.mids = mids

    async def get_quote(self, instrument: Instrument) -> Quote:
        if instrument.symbol not in self.mids:
            raise MarketDataError(f"no quote for {instrument.symbol}")
        mid = Decimal(self.mids[instrument.symbol])
        return Quote(symbol=instrument.symbol, ts=T0, bid=mid - 1, ask=mid + 1)


BOOK = Portfolio(
    cash=Decimal(1000),
    positions={
        "BTC-USD": Position(instrument="BTC-USD", quantity=Decimal(1), average_price=Decimal(90)),
        "AAPL": Position(instrument="AAPL", quantity=Decimal(2), average_price=Decimal(150)),
    },
)


async def test_marks_are_quote_mids_and_cost_when_unpriced() -> None:
    settings = Settings()
    marks = await mark_prices(BOOK, settings.instrument, Quotes(**{"BTC-USD": "100"}))  # type: ignore[arg-type]
    assert marks == {"BTC-USD": Decimal(100), "AAPL": Decimal(150)}
    assert BOOK.equity(marks) == Decimal(1000 + 100 + 300)


async def test_risk_marks_refuse_to_guess() -> None:
    settings = Settings()
    with pytest.raises(MarketDataError, match="AAPL"):
        await mark_prices(
            BOOK,
            settings.instrument,
            Quotes(**{"BTC-USD": "100"}),
            at_cost_when_unpriced=False,  # type: ignore[arg-type]
        )
    assert {i.symbol for i in DEFAULT_INSTRUMENTS} >= set(BOOK.positions)
