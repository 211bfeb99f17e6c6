"""What a decision provider sees: the past only, never a future bar."""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar, UtcDatetime
from ffe_core.domain.portfolio import Portfolio, Position
from ffe_core.domain.series import SeriesCursor


class PastDecision(BaseModel):
    """A recent decision on this instrument and, once known, how it turned out."""

    model_config = ConfigDict(defer_build=True, frozen=True, allow_inf_nan=False)

    created_at: UtcDatetime
    action: Action
    confidence: float
    outcome_return: float | None = None


class DecisionContext(BaseModel):
    """Everything providers get for one decision, as of ``as_of``."""

    model_config = ConfigDict(
        defer_build=True, frozen=True, arbitrary_types_allowed=True, allow_inf_nan=False
    )

    instrument: Instrument
    as_of: UtcDatetime
    bars: tuple[Bar, ...] = Field(min_length=1)
    indicators: dict[str, float] = Field(default_factory=dict)
    position: Position
    portfolio: Portfolio
    memory: tuple[PastDecision, ...] = ()
    peer_votes: tuple[ProviderVote, ...] = ()
    """Other providers' votes; only set when asking a judge to weigh them (bull/bear debate)."""
    series: SeriesCursor | None = Field(default=None, exclude=True, repr=False)
    """Set by the backtest replay: this bar in the whole series, so a provider can compute its
    indicators once per series (see :mod:`ffe_core.domain.series`); None in live decisions."""

    @model_validator(mode="after")
    def _no_future_bars(self) -> DecisionContext:
        if self.bars[-1].ts > self.as_of:
            raise ValueError("context contains a bar after as_of")
        return self

    @property
    def last_price(self) -> float:
        return self.bars[-1].close


class Recalled(NamedTuple):
    """A recent decision as a replay remembers it: made at the close of bar ``bar`` of the
    series, no outcome known yet (the context's :class:`PastDecision` is built from it)."""

    bar: int
    action: Action
    confidence: float


class ReplayedBar(NamedTuple):
    """A replayed bar's decision context without its models: bar ``at.index`` of ``at.series``
    with the last ``window`` bars, the replay's account, its recent decisions (most recent
    first) and its indicators when ``with_indicators`` (read from the series). The replay builds
    the :class:`DecisionContext` from exactly these values; a provider that answers from a cache
    keyed on them can skip that context (see ``ports.providers.SeriesCachedProvider``).
    """

    at: SeriesCursor
    window: int
    instrument: Instrument
    position: Position
    portfolio: Portfolio
    memory: tuple[Recalled, ...]
    with_indicators: bool
