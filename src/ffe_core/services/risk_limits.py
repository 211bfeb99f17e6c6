"""Exposure limits on an entry, each linear in the quantity traded, and the largest size that fits.

Every limit has the form ``base + coef·q·p ≤ fraction·(equity − fee·q·p)``: what is already held
plus what the entry adds must stay within a fraction of the equity left after paying the fee.
So the largest fitting quantity has a closed form, and it is checked again after rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from ffe_core.config import RiskSettings
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.portfolio import Portfolio
from ffe_core.services.risk_sizing import dec

ZERO = Decimal(0)
N = TypeVar("N", Decimal, float)
Correlation = Callable[[str, str], float | None]
"""Correlation of two instruments' returns, None when not known (then treated as fully adverse)."""


@dataclass(frozen=True, slots=True)
class Book:
    """The account as the risk manager sees it for one decision: marked at ``marks``."""

    equity: Decimal
    values: Mapping[str, Decimal]
    symbol: str
    price: Decimal
    quantity: Decimal
    fee_rate: Decimal

    @classmethod
    def of(
        cls,
        portfolio: Portfolio,
        marks: Mapping[str, Decimal],
        symbol: str,
        price: Decimal,
        fee_rate: Decimal = ZERO,
    ) -> Book:
        values = {
            s: p.market_value(marks.get(s, p.average_price))
            for s, p in portfolio.positions.items()
            if not p.is_flat
        }
        return cls(
            equity=portfolio.equity(marks),
            values=values,
            symbol=symbol,
            price=price,
            quantity=portfolio.position(symbol).quantity,
            fee_rate=fee_rate,
        )

    @property
    def gross(self) -> Decimal:
        return sum((abs(v) for v in self.values.values()), ZERO)


def limit_room(fraction: N, equity: N, base: N, coef: N, price: N, fee: N) -> N:
    """The largest quantity with ``base + coef·q·price ≤ fraction·(equity − fee·q·price)``; 0 when
    none fits. Plain arithmetic, so the agent calls it on Decimals and the portfolio backtest
    compiles it for floats: one formula for both."""
    free = fraction * equity - base
    if free <= 0:
        return free * 0
    return free / (price * (coef + fraction * fee))


@dataclass(frozen=True, slots=True)
class Limit:
    """``base + coef·q·price ≤ fraction·(equity − fee·q·price)``, named after its setting."""

    name: str
    label: str
    base: Decimal
    coef: Decimal
    fraction: Decimal

    def ratio_after(self, book: Book, q: Decimal) -> Decimal:
        notional = q * book.price
        equity = book.equity - book.fee_rate * notional
        used = self.base + self.coef * notional
        return used / equity if equity > 0 else Decimal("Infinity")

    def fits(self, book: Book, q: Decimal) -> bool:
        notional = q * book.price
        return self.base + self.coef * notional <= self.fraction * (
            book.equity - book.fee_rate * notional
        )

    def room(self, book: Book) -> Decimal:
        """The largest (unrounded) quantity that fits; 0 when none does."""
        return limit_room(
            self.fraction, book.equity, self.base, self.coef, book.price, book.fee_rate
        )

    def describe(self, book: Book, q: Decimal) -> str:
        return (
            f"{self.label} {self.ratio_after(book, q):.4f}x of equity "
            f"(limit {self.fraction:g}x, equity {book.equity:,.2f})"
        )


def _contribution(sign: int, rho: float | None, value: Decimal) -> Decimal:
    """How much of a position moves with an exposure of ``sign``; unknown correlation: all of it."""
    if rho is None:
        return abs(value)
    return max(ZERO, dec(rho) * sign * value)


def _sign(value: Decimal) -> int:
    return 1 if value > 0 else -1


def correlation_limits(
    book: Book, direction: int, fraction: Decimal, correlation: Correlation
) -> list[Limit]:
    """Correlated exposure around the traded instrument and around each other open position:
    a position plus the correlation-weighted value of those that move with it."""
    others = {s: v for s, v in book.values.items() if s != book.symbol and v != 0}
    held = abs(book.values.get(book.symbol, ZERO))
    rho = {s: correlation(book.symbol, s) for s in others}
    base = held + sum((_contribution(direction, rho[s], v) for s, v in others.items()), ZERO)
    limits = [Limit("correlated_exposure", "correlated exposure", base, Decimal(1), fraction)]
    for center, value in others.items():
        sign = _sign(value)
        r = rho[center]
        coef = Decimal(1) if r is None else max(ZERO, dec(r) * sign * direction)
        if coef == 0:
            continue
        rest = sum(
            (
                _contribution(sign, correlation(center, s), v)
                for s, v in others.items()
                if s != center
            ),
            ZERO,
        )
        limits.append(
            Limit(
                f"correlated_exposure:{center}",
                f"correlated exposure around {center}",
                abs(value) + rest + coef * held,
                coef,
                fraction,
            )
        )
    return limits


def entry_limits(
    book: Book, direction: int, settings: RiskSettings, correlation: Correlation
) -> list[Limit]:
    """Every limit an entry of ``direction`` (+1 buy, -1 sell) in ``book.symbol`` must respect."""
    held = abs(book.values.get(book.symbol, ZERO))
    one = Decimal(1)
    return [
        Limit("max_position_fraction", "position", held, one, dec(settings.max_position_fraction)),
        Limit(
            "max_gross_exposure",
            "gross exposure",
            book.gross,
            one,
            dec(settings.max_gross_exposure),
        ),
        Limit("max_leverage", "leverage", book.gross, one, dec(settings.max_leverage)),
        *correlation_limits(book, direction, dec(settings.max_correlated_exposure), correlation),
    ]


def fit_quantity(
    book: Book, limits: list[Limit], wanted: Decimal, instrument: Instrument
) -> tuple[Decimal, Limit | None]:
    """The largest quantity up to ``wanted``, on the instrument's grid, that every limit allows,
    and the limit that made it smaller than ``wanted`` (None when none did)."""
    size, binding = wanted, None
    for limit in limits:
        room = limit.room(book)
        if room < size:
            size, binding = room, limit
    size = instrument.round_size(max(size, ZERO))
    while size > 0:
        failing = next((lim for lim in limits if not lim.fits(book, size)), None)
        if failing is None:
            break
        binding = binding or failing
        size = instrument.round_size(size - instrument.size_increment)
    return size, binding
