"""Making a decision end to end: context from market data and the account, the ensemble,
the risk manager's verdict, then persistence (before the decision is returned) in one transaction
with, given a flight recorder, the record that reproduces and explains it and the cost-ledger rows
of free provider calls (those that may have cost money are written as soon as they are made)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ffe_core.config import Settings
from ffe_core.domain.context import DecisionContext, PastDecision
from ffe_core.domain.costs import ProviderCall
from ffe_core.domain.decisions import Decision
from ffe_core.domain.errors import MarketDataError, NotFoundError, ValidationFailed
from ffe_core.domain.flight import DecisionRecord
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.intervals import interval_seconds
from ffe_core.domain.market import Bar
from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.clock import Clock
from ffe_core.ports.market_data import MarketDataSource
from ffe_core.ports.storage import DecisionQuery, UnitOfWork, UnitOfWorkFactory
from ffe_core.scrubbing import Scrub, scrub_decision
from ffe_core.services.bar_quality import bar_age_seconds, is_stale
from ffe_core.services.context import build_context
from ffe_core.services.ensemble import Deliberation, Ensemble
from ffe_core.services.flight import FlightRecorder

UNRECORDED_KEPT = 64
"""Decisions made with ``persist=False`` whose record waits for ``write_stored`` (oldest
dropped beyond this: a caller that never stores them leaves no record, no ledger rows of its
free calls, and no leak)."""


@dataclass(frozen=True)
class _Trail:
    """What is stored with a decision: the ledger rows of its free provider calls and its
    flight record with the texts it points to (None: no recorder, or it could not be built)."""

    calls: Sequence[ProviderCall]
    record: tuple[DecisionRecord, dict[str, str]] | None


RiskCheck = Callable[[Decision, DecisionContext], Awaitable[Decision]]
"""Annotates a decision with the risk manager's verdict (see ``ffe_core.services.risk``)."""


class DecisionService:
    def __init__(
        self,
        settings: Settings,
        ensemble: Ensemble,
        market_data: MarketDataSource,
        portfolio: Callable[[], Awaitable[Portfolio]],
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        risk: RiskCheck | None = None,
        memory_size: int = 5,
        memory_source: Callable[[str, int], Awaitable[list[PastDecision]]] | None = None,
        scrub: Scrub | None = None,
        recorder: FlightRecorder | None = None,
        stored: Callable[[], None] | None = None,
        remember: Callable[[Decision], None] | None = None,
    ) -> None:
        """``stored``: told after a decision is stored (read models of the decision list
        rebuild); ``remember``: given each decision stored, to keep the decision memory current
        (``LearningService.remember``, the read model behind ``memory_source``)."""
        self.settings = settings
        self._stored = stored
        self._remember = remember
        self.ensemble = ensemble
        self.market_data = market_data
        self.portfolio = portfolio
        self.uow_factory = uow_factory
        self.clock = clock
        self.risk = risk
        self.memory_size = memory_size
        self.memory_source = memory_source
        self.scrub = scrub
        self.recorder = recorder
        self._unrecorded: dict[str, _Trail] = {}

    def instrument(self, symbol: str) -> Instrument:
        found = self.settings.instrument(symbol)
        if found is None:
            known = ", ".join(i.symbol for i in self.settings.instruments)
            raise NotFoundError(f"unknown instrument {symbol!r} (known: {known})")
        return found

    def check_providers(self, names: Sequence[str] | None) -> list[str] | None:
        if not names:
            return None
        unknown = [n for n in names if n not in self.ensemble.providers]
        if unknown:
            enabled = ", ".join(self.ensemble.providers)
            raise ValidationFailed(
                f"providers: not enabled: {', '.join(unknown)} (enabled: {enabled})"
            )
        return list(dict.fromkeys(names))

    async def memory(self, symbol: str) -> list[PastDecision]:
        """Recent decisions on ``symbol``, with outcomes when a learning service provides them."""
        if self.memory_source is not None:
            return await self.memory_source(symbol, self.memory_size)
        async with self.uow_factory() as uow:
            past, _ = await uow.decisions.list(
                DecisionQuery(instrument=symbol, limit=self.memory_size)
            )
        return [
            PastDecision(created_at=d.created_at, action=d.action, confidence=d.confidence)
            for d in past
        ]

    async def context_for(
        self, instrument: Instrument, portfolio: Portfolio | None = None
    ) -> DecisionContext:
        """Bars, indicators, memory and the account (``portfolio``, or the broker's now)."""
        bars = await self.market_data.get_bars(
            instrument,
            self.settings.market_data.interval,
            limit=self.settings.market_data.history_bars,
        )
        if not bars:
            raise MarketDataError(f"no bars for {instrument.symbol}")
        self._refuse_stale(instrument, bars)
        as_of = max(self.clock.now(), bars[-1].ts)
        return build_context(
            instrument,
            bars,
            as_of,
            portfolio if portfolio is not None else await self.portfolio(),
            await self.memory(instrument.symbol),
        )

    def _refuse_stale(self, instrument: Instrument, bars: Sequence[Bar]) -> None:
        """No decision (hence no order) on bars older than ``market_data.max_staleness_seconds``."""
        limit = self.settings.market_data.max_staleness_seconds
        if limit is None:
            return
        secs = interval_seconds(self.settings.market_data.interval)
        now = self.clock.now()
        if is_stale(bars, now, limit, secs):
            age = bar_age_seconds(bars[-1], now, secs)
            raise MarketDataError(
                f"stale market data for {instrument.symbol}: the last bar closed {age:.0f}s ago "
                f"(market_data.max_staleness_seconds is {limit:g})"
            )

    async def decide(
        self, symbol: str, providers: Sequence[str] | None = None, *, persist: bool = True
    ) -> Decision:
        """Decide for ``symbol``; the decision is scrubbed of secrets (any provider's text may
        echo one), then stored before it is returned."""
        instrument = self.instrument(symbol)
        only = self.check_providers(providers)
        context = await self.context_for(instrument)
        deliberation = await self.ensemble.deliberate(
            context, only, plan=self.recorder is not None, defer_free_calls=True
        )
        decision = deliberation.decision
        if self.risk is not None:
            decision = await self.risk(decision, context)
        if self.scrub is not None:
            decision = scrub_decision(decision, self.scrub)
        trail = self._trail(decision, context, deliberation)  # built outside any transaction
        if persist:
            async with self.uow_factory() as uow:
                await uow.decisions.add(decision)
                await self._add_trail(uow, trail)
                await uow.commit()
            self.was_stored(decision)
        else:  # the caller stores it and calls write_stored in that transaction
            self._unrecorded[decision.id] = trail
            while len(self._unrecorded) > UNRECORDED_KEPT:
                del self._unrecorded[next(iter(self._unrecorded))]
        return decision

    def was_stored(self, decision: Decision) -> None:
        """``decision`` is stored (committed): the read models this process keeps of
        decisions learn of it at once."""
        if self._stored is not None:
            self._stored()
        if self._remember is not None:
            self._remember(decision)

    async def write_stored(self, uow: UnitOfWork, decision: Decision) -> None:
        """Add to ``uow``, the transaction storing ``decision`` (made with ``persist=False``;
        the agent stores it with its cycle journal), the decision's flight record and the
        ledger rows of its free provider calls; a no-op for any other decision."""
        pending = self._unrecorded.pop(decision.id, None)
        if pending is not None:
            await self._add_trail(uow, pending)

    def _trail(
        self, decision: Decision, context: DecisionContext, deliberation: Deliberation
    ) -> _Trail:
        """What is stored with ``decision``, built before its transaction opens."""
        record = (
            self.recorder.prepare(decision, context, deliberation)
            if self.recorder is not None
            else None
        )
        return _Trail(deliberation.unwritten_calls, record)

    async def _add_trail(self, uow: UnitOfWork, trail: _Trail) -> None:
        """What is stored with a decision, in its transaction: a crash leaves all or none."""
        if trail.calls:
            await uow.provider_calls.add_all(trail.calls)
        if trail.record is not None:
            await uow.flight.add(*trail.record)
