"""Anonymised replays: a language model sees a renamed instrument, rebased prices and shifted
dates, so it cannot look up what it may remember of the real period.

Only providers that read the prompt (:class:`~ffe_core.ports.providers.LanguageModelProvider`)
are masked; the ensemble, the risk check and the fills keep the real bars, so each vote maps back
to the real bar it was asked about. A vote's protective levels are scaled back to real prices.
The look-ahead guard still applies: a model may recognise a pattern without its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import ProviderVote
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar
from ffe_core.domain.portfolio import Position
from ffe_core.ports.providers import CallEstimate, DecisionProvider, LanguageModelProvider

BASE_PRICE = 100.0
"""The first close of an anonymised series."""
EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
"""Where an anonymised series starts (a Monday; whole weeks are shifted, keeping weekdays)."""
PRICE_LEVELS = ("close", "sma_", "ema_", "macd", "atr_", "bb_", "donchian_")
"""Indicators in price units (rebased); those in ``RATIOS`` carry over, any other is dropped."""
RATIOS = ("rsi_", "return_", "volatility_")


@dataclass(frozen=True)
class Mask:
    """How one instrument is disguised: its alias, the price factor and the time shift."""

    symbol: str
    alias: str
    scale: float
    shift: timedelta

    @classmethod
    def of(cls, instrument: Instrument, first_close: float, first_time: datetime, n: int) -> Mask:
        weeks = (first_time - EPOCH).days // 7
        return cls(
            instrument.symbol,
            f"ASSET-{_letters(n)}",
            BASE_PRICE / first_close,
            timedelta(weeks=weeks),
        )

    def price(self, value: float) -> float:
        return value * self.scale

    def level(self, value: Decimal | None, back: bool = False) -> Decimal | None:
        if value is None:
            return None
        factor = Decimal(repr(self.scale))
        return value / factor if back else value * factor

    def time(self, ts: datetime) -> datetime:
        return ts - self.shift

    def instrument(self, real: Instrument) -> Instrument:
        return real.model_copy(update={"symbol": self.alias, "base": self.alias.split("-")[0]})

    def position(self, real: Position) -> Position:
        return real.model_copy(
            update={
                "instrument": self.alias,
                "quantity": real.quantity / Decimal(repr(self.scale)),
                "average_price": self.level(real.average_price) or Decimal(0),
            }
        )

    def context(self, real: DecisionContext) -> DecisionContext:
        """What a masked provider is shown instead of ``real``."""
        bars = tuple(
            Bar.model_construct(
                ts=self.time(b.ts),
                open=self.price(b.open),
                high=self.price(b.high),
                low=self.price(b.low),
                close=self.price(b.close),
                volume=b.volume,
            )
            for b in real.bars
        )
        own = real.portfolio.positions.get(self.symbol)
        portfolio = real.portfolio.model_copy(
            update={"positions": {} if own is None else {self.alias: self.position(own)}}
        )
        return real.model_copy(
            update={
                "instrument": self.instrument(real.instrument),
                "as_of": self.time(real.as_of),
                "bars": bars,
                "indicators": self.indicators(real.indicators),
                "position": self.position(real.position),
                "portfolio": portfolio,
                "memory": tuple(
                    m.model_copy(update={"created_at": self.time(m.created_at)})
                    for m in real.memory
                ),
                "peer_votes": tuple(self.vote(v, back=False) for v in real.peer_votes),
                "series": None,
            }
        )

    def indicators(self, real: Mapping[str, float]) -> dict[str, float]:
        out = {}
        for key, value in real.items():
            if key.startswith(PRICE_LEVELS):
                out[key] = self.price(value)
            elif key.startswith(RATIOS):
                out[key] = value
        return out

    def vote(self, vote: ProviderVote, back: bool = True) -> ProviderVote:
        """A vote's levels in real prices (``back``) or disguised; a peer's words are dropped."""
        update: dict[str, object] = {
            "stop_loss": self.level(vote.stop_loss, back),
            "take_profit": self.level(vote.take_profit, back),
        }
        if not back:
            update |= {"reasoning": "", "raw_answer": None}
        return vote.model_copy(update=update)


def _letters(n: int) -> str:
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


class Anonymized:
    """A language-model provider that only ever sees masked contexts (see the module)."""

    def __init__(self, inner: LanguageModelProvider, masks: Mapping[str, Mask]) -> None:
        self.name = inner.name
        self._inner = inner
        self._masks = masks

    @property
    def model(self) -> str:
        return self._inner.model

    def knowledge_cutoff(self) -> date | None:
        return self._inner.knowledge_cutoff()

    def _mask(self, context: DecisionContext) -> Mask:
        return self._masks[context.instrument.symbol]

    async def vote(self, context: DecisionContext) -> ProviderVote:
        mask = self._mask(context)
        return mask.vote(await self._inner.vote(mask.context(context)))

    async def cached_vote(self, context: DecisionContext) -> ProviderVote | None:
        mask = self._mask(context)
        cached = await self._inner.cached_vote(mask.context(context))
        return None if cached is None else mask.vote(cached)

    def estimate_call(self, context: DecisionContext) -> CallEstimate:
        return self._inner.estimate_call(self._mask(context).context(context))


def anonymized(
    providers: Mapping[str, DecisionProvider], masks: Mapping[str, Mask]
) -> dict[str, DecisionProvider]:
    """``providers`` with every language-model provider shown masked contexts only."""
    return {
        n: Anonymized(p, masks) if isinstance(p, LanguageModelProvider) else p
        for n, p in providers.items()
    }
