"""Builders for risk tests: instruments, bars, contexts and decisions with round numbers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.domain.market import Bar
from ffe_core.domain.portfolio import Portfolio, Position

D = Decimal
TS = datetime(2026, 3, 2, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)

BTC = Instrument(
    symbol="BTC-USD",
    asset_class=AssetClass.CRYPTO,
    base="BTC",
    quote="USD",
    price_increment=D("0.01"),
    size_increment=D("0.0001"),
)
ETH = Instrument(
    symbol="ETH-USD",
    asset_class=AssetClass.CRYPTO,
    base="ETH",
    quote="USD",
    price_increment=D("0.01"),
    size_increment=D("0.001"),
)
AAPL = Instrument(symbol="AAPL", asset_class=AssetClass.EQUITY, base="AAPL", quote="USD")


def bars(closes: Sequence[float], end: datetime = TS) -> tuple[Bar, ...]:
    """Flat bars (open = high = low = close) ending at ``end``, one hour apart."""
    start = end - HOUR * (len(closes) - 1)
    return tuple(
        Bar(ts=start + HOUR * i, open=c, high=c, low=c, close=c) for i, c in enumerate(closes)
    )


def portfolio(cash: str | Decimal, **positions: tuple[str, str]) -> Portfolio:
    """``portfolio("1000", BTC_USD=("0.5", "50000"))``: quantity and average price per symbol."""
    held = {
        s.replace("_", "-"): Position(
            instrument=s.replace("_", "-"), quantity=D(q), average_price=D(a)
        )
        for s, (q, a) in positions.items()
    }
    return Portfolio(cash=D(cash), positions=held)


def context(
    instrument: Instrument,
    price: float,
    book: Portfolio,
    *,
    atr: float | None = None,
    history: Sequence[float] | None = None,
    as_of: datetime = TS,
) -> DecisionContext:
    closes = list(history) if history is not None else [price]
    indicators = {"close": closes[-1]} | ({"atr_14": atr} if atr is not None else {})
    return DecisionContext(
        instrument=instrument,
        as_of=as_of,
        bars=bars(closes, as_of),
        indicators=indicators,
        position=book.position(instrument.symbol),
        portfolio=book,
    )


def decision(
    action: Action,
    instrument: Instrument = BTC,
    *,
    confidence: float = 0.8,
    price: str | None = None,
    stop: str | None = None,
    target: str | None = None,
    size: str | None = None,
) -> Decision:
    return Decision(
        instrument=instrument.symbol,
        action=action,
        confidence=confidence,
        reference_price=D(price) if price else None,
        stop_loss=D(stop) if stop else None,
        take_profit=D(target) if target else None,
        suggested_size=D(size) if size else None,
    )
