"""Learning from outcomes: score stored decisions once their horizons pass, keep per-provider
performance (hit rate, Brier, P&L attribution) and learn bounded, explainable ensemble weights.

Storage: outcomes go to the ``outcomes`` repository, one row per (decision, horizon), which
makes scoring idempotent. Per-provider totals and the current weight live in ``provider_stats``.
The weight history ("weights over time") is not a separate table: every learning-horizon
outcome carries, per vote, ``weight_before``/``weight_after`` and the reason, so
:meth:`LearningService.weight_history` reads it back from the outcomes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Protocol

from ffe_core.config import LearningSettings
from ffe_core.domain.context import PastDecision
from ffe_core.domain.decisions import Decision
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.intervals import horizon_seconds, interval_delta, interval_seconds
from ffe_core.domain.market import Bar
from ffe_core.domain.orders import Fill
from ffe_core.domain.outcomes import DecisionOutcome, VoteScore, WeightSnapshot
from ffe_core.domain.performance import ProviderStats
from ffe_core.ports.storage import DecisionQuery, UnitOfWork, UnitOfWorkFactory
from ffe_core.services.learning_scoring import (
    bounded,
    brier,
    direction,
    explain,
    is_hit,
    next_weight,
    trade_pnl,
    weight_shares,
)
from ffe_core.services.market_data import MarketDataService
from ffe_core.services.read_model import Refreshing

_Preference = tuple[bool, timedelta]
"""Which outcome of a decision its memory shows: the learning horizon's, else the longest."""

_Past = tuple[datetime, str, PastDecision, _Preference | None]
"""A remembered decision: its time and id (the stored order, newest first), what the prompt
shows of it, and the preference of the outcome shown (None: none yet)."""

HORIZONS_KEY = "learning.horizons"
"""Service-state key of the horizons decisions marked complete were scored at (all of them)."""

PriceLookup = Callable[[str, datetime], Awaitable[float | Decimal | None]]
"""Price of an instrument (by symbol) as of a time, or None when it is not known (yet)."""


@dataclass
class ScoringReport:
    """What one ``score_due`` pass did."""

    scored: int = 0
    void: int = 0
    waiting: int = 0
    """Due decisions left pending because a price is not available yet."""
    weights: dict[str, float] = field(default_factory=dict)
    """Weights after the pass, for the providers it updated."""


class _TradeBook:
    """The orders of one scoring pass's decisions, read once (those alone: not the ledger's
    every order), and the fills, read once and only if one of them traded."""

    def __init__(self, uow: UnitOfWork, decision_ids: list[str]) -> None:
        self._uow = uow
        self._decision_ids = decision_ids
        self._orders: dict[str, set[str]] | None = None
        self._fills: list[Fill] = []

    async def pnl(self, decision: Decision, due: datetime, exit_price: Decimal) -> Decimal | None:
        if self._orders is None:
            self._orders = {}
            for order in await self._uow.orders.list(decision_ids=self._decision_ids):
                if order.decision_id is not None:
                    self._orders.setdefault(order.decision_id, set()).add(order.client_order_id)
            self._fills = await self._uow.fills.list() if self._orders else []
        ids = self._orders.get(decision.id)
        if not ids:
            return None
        fills = [f for f in self._fills if f.instrument == decision.instrument and f.ts <= due]
        return trade_pnl(fills, ids, exit_price)


def _price(value: float | Decimal | None) -> Decimal | None:
    """A usable positive, finite price, or None."""
    if value is None:
        return None
    try:
        price = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return price if price.is_finite() and price > 0 else None


class LearningService:
    """Scores decisions, keeps provider stats and serves the learned weights (a WeightSource)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        settings: LearningSettings | None = None,
        bar_seconds: float = 3600.0,
    ) -> None:
        """``bar_seconds``: clock seconds a bar of the configured interval takes at the data
        source (its interval; a replay's own pace), which horizons in bars count in."""
        self.uow_factory = uow_factory
        self.settings = settings or LearningSettings()
        self.bar_seconds = bar_seconds
        # the agent asks for weights every cycle; they change only when outcomes are scored
        # (here: invalidated at once; by another process: seen within a second)
        self._learned: Refreshing[dict[str, float]] = Refreshing(self._load_weights)
        # the decision memory of each prompt, per (instrument, n): see past_decisions
        self._horizons_noted = False  # the configured horizons are the stored ones
        self._memory: dict[tuple[str, int], Refreshing[list[_Past]]] = {}
        # the weight moves of the latest ``limit`` outcomes, per limit: see weight_history
        self._moves: dict[int, Refreshing[list[WeightSnapshot]]] = {}

    def horizon_delta(self, horizon: str) -> timedelta:
        """How long after a decision its outcome at ``horizon`` is due."""
        return timedelta(seconds=horizon_seconds(horizon, self.bar_seconds))

    async def weights(self, providers: list[str]) -> dict[str, float]:
        """Persisted learned weights, within the bounds; 1.0 for providers never scored."""
        known = await self._learned.get()
        return {p: bounded(known[p], self.settings) if p in known else 1.0 for p in providers}

    async def _load_weights(self) -> dict[str, float]:
        async with self.uow_factory() as uow:
            return {s.provider: s.weight for s in await uow.provider_stats.list()}

    async def stats(self) -> list[ProviderStats]:
        async with self.uow_factory() as uow:
            return await uow.provider_stats.list()

    async def score_due(self, now: datetime, price_lookup: PriceLookup) -> ScoringReport:
        """Score every decision whose horizon has passed by ``now`` (oldest first), in one
        transaction; already scored (decision, horizon) pairs are skipped. Decisions scored at
        every horizon are marked complete, so the search stays bounded by the open ones."""
        report = ScoringReport()
        horizons = self.settings.horizons
        deltas = {h: self.horizon_delta(h) for h in horizons}
        async with self.uow_factory() as uow:
            reopened = await self._match_horizons(uow)
            stats: dict[str, ProviderStats] | None = None  # read once an outcome is known
            changed: set[str] = set()
            learned: list[DecisionOutcome] = []  # the outcomes stored by this pass
            due = {h: now - deltas[h] for h in horizons}
            pending = await uow.outcomes.pending(due, self.settings.batch_size)
            trades = _TradeBook(uow, [decision.id for decision, _ in pending])
            for decision, open_at in pending:
                for horizon in open_at:
                    delta = deltas[horizon]
                    outcome = await self._outcome(
                        trades, decision, horizon, delta, now, price_lookup
                    )
                    if outcome is None:
                        report.waiting += 1
                        continue
                    if stats is None:
                        stats = {s.provider: s for s in await uow.provider_stats.list()}
                    kept = dict(stats)
                    learns = horizon == self.settings.learning_horizon and not outcome.is_void
                    if learns:
                        outcome = self._learn(decision, outcome, stats, now)
                    if not await uow.outcomes.add(outcome):
                        stats = kept  # scored meanwhile: learn from each outcome once
                        continue
                    if learns:
                        changed.update(v.provider for v in decision.votes)
                    learned.append(outcome)
                    report.scored += 1
                    report.void += outcome.is_void
            if stats is None and not reopened:  # nothing was due, or no price yet
                return report
            if learned:  # decisions due at the longest horizon may be complete now
                await uow.outcomes.complete(horizons, min(due.values()))
            for name in sorted(changed):
                await uow.provider_stats.save((stats or {})[name])
            if not self._horizons_noted:
                await uow.state.put(HORIZONS_KEY, {"horizons": list(horizons)})
            await uow.commit()
        self._horizons_noted = True
        if changed:  # only these providers' stats were written
            self._learned.invalidate()
        if report.scored:  # outcomes were stored: their weight moves too
            for moves in self._moves.values():
                moves.invalidate()
        self._show_outcomes(learned)
        report.weights = {n: (stats or {})[n].weight for n in sorted(changed)}
        return report

    async def _match_horizons(self, uow: UnitOfWork) -> bool:
        """Reopen every complete decision when the stored horizons (those decisions were
        completed for) differ from the configured ones, or store them when none are stored;
        True when it did either (to commit). Asked once per process, until the configured
        horizons are known to be stored."""
        if self._horizons_noted:
            return False
        stored = await uow.state.get(HORIZONS_KEY)
        if stored is None:  # nothing completed yet: stored with this pass's commit
            return True
        if list(stored.get("horizons", ())) == list(self.settings.horizons):
            self._horizons_noted = True
            return False
        await uow.outcomes.reopen()
        return True

    async def _outcome(
        self,
        trades: _TradeBook,
        decision: Decision,
        horizon: str,
        delta: timedelta,
        now: datetime,
        price_lookup: PriceLookup,
    ) -> DecisionOutcome | None:
        """The decision's outcome at ``horizon`` (void if prices never came), or None to wait."""
        due = decision.created_at + delta
        reference = _price(decision.reference_price) or _price(
            await price_lookup(decision.instrument, decision.created_at)
        )
        exit_price = _price(await price_lookup(decision.instrument, due))
        base = {
            "decision_id": decision.id,
            "instrument": decision.instrument,
            "action": decision.action,
            "horizon": horizon,
            "decided_at": decision.created_at,
            "due_at": due,
            "reference_price": reference,
            "scored_at": now,
        }
        if reference is None or exit_price is None:
            late = (now - due).total_seconds() >= self.settings.give_up_after_seconds
            if not late:
                return None
            missing = "reference" if reference is None else "exit"
            return DecisionOutcome.model_validate(
                {**base, "void_reason": f"no {missing} price for {decision.instrument}"}
            )
        realized = float(exit_price / reference) - 1.0
        if not math.isfinite(realized):
            return DecisionOutcome.model_validate({**base, "void_reason": "return not finite"})
        return DecisionOutcome.model_validate(
            {
                **base,
                "exit_price": exit_price,
                "realized_return": realized,
                "trade_pnl": await trades.pnl(decision, due, exit_price),
            }
        )

    def _learn(
        self,
        decision: Decision,
        outcome: DecisionOutcome,
        stats: dict[str, ProviderStats],
        now: datetime,
    ) -> DecisionOutcome:
        """Update ``stats`` for every vote and return the outcome with its vote scores."""
        assert outcome.realized_return is not None
        ret = outcome.realized_return
        shares = weight_shares(decision.votes, decision.weights)
        scores: list[VoteScore] = []
        for vote in decision.votes:
            current = stats.get(vote.provider) or ProviderStats(provider=vote.provider)
            if vote.abstained:
                stats[vote.provider] = current.model_copy(
                    update={"votes": current.votes + 1, "updated_at": now}
                )
                continue
            hit = is_hit(vote.action, ret, self.settings.hold_band)
            before = bounded(current.weight, self.settings)
            after = next_weight(before, 1.0 if hit else -1.0, self.settings)
            reason = explain(
                vote, hit, decision.instrument, ret, outcome.horizon, before, after, self.settings
            )
            score = VoteScore(
                provider=vote.provider,
                action=vote.action,
                confidence=vote.confidence,
                hit=hit,
                brier=brier(vote.confidence, hit),
                pnl=ret * direction(vote.action) * shares[vote.provider],
                weight_before=before,
                weight_after=after,
                reason=reason,
            )
            scores.append(score)
            stats[vote.provider] = current.model_copy(
                update={
                    "weight": after,
                    "votes": current.votes + 1,
                    "scored": current.scored + 1,
                    "hits": current.hits + int(hit),
                    "brier_sum": current.brier_sum + score.brier,
                    "pnl": current.pnl + score.pnl,
                    "last_reason": reason,
                    "updated_at": now,
                }
            )
        return outcome.model_copy(update={"scores": tuple(scores)})

    async def past_decisions(self, instrument: str, n: int) -> list[PastDecision]:
        """The ``n`` latest decisions on ``instrument`` (newest first) with their realized return:
        at the learning horizon when scored, else at the longest horizon scored so far.

        A read model per (instrument, n): the agent asks every cycle; a decision this process
        stores is added to it at once (:meth:`remember`), an outcome this process scores is
        shown in it at once, and what another process stores is seen within a second."""
        memory = self._memory.get((instrument, n))
        if memory is None:
            memory = self._memory[instrument, n] = Refreshing(
                lambda: self._load_past(instrument, n)
            )
        return [past for _, _, past, _ in await memory.get()]

    def remember(self, decision: Decision) -> None:
        """``decision`` was stored by this process: its instrument's memory includes it now."""
        key = (decision.created_at, decision.id)
        past = PastDecision(
            created_at=decision.created_at,
            action=decision.action,
            confidence=decision.confidence,
        )
        for (instrument, n), memory in self._memory.items():
            if instrument != decision.instrument:
                continue

            def add(held: list[_Past], n: int = n) -> list[_Past]:
                if any(p[1] == decision.id for p in held):
                    return held  # read back with the decision already
                merged = sorted(
                    [*held, (*key, past, None)], key=lambda p: (p[0], p[1]), reverse=True
                )
                return merged[:n]

            memory.amend(add)

    def _show_outcomes(self, outcomes: list[DecisionOutcome]) -> None:
        """``outcomes`` were stored by this process: the memories holding their decisions show
        each decision's preferred one (as a rebuild would), without a rebuild."""
        best: dict[str, DecisionOutcome] = {}
        for o in outcomes:
            held = best.get(o.decision_id)
            if not o.is_void and (held is None or self._preference(o) > self._preference(held)):
                best[o.decision_id] = o
        instruments = {o.instrument for o in best.values()}

        def show(held: list[_Past]) -> list[_Past]:
            shown = []
            for at, ident, past, preference in held:
                o = best.get(ident)
                if o is not None and (preference is None or self._preference(o) > preference):
                    preference = self._preference(o)
                    past = past.model_copy(update={"outcome_return": o.realized_return})
                shown.append((at, ident, past, preference))
            return shown

        for (instrument, _), memory in self._memory.items():
            if instrument in instruments:
                memory.amend(show)

    async def _load_past(self, instrument: str, n: int) -> list[_Past]:
        async with self.uow_factory() as uow:
            decisions, _ = await uow.decisions.list(DecisionQuery(instrument=instrument, limit=n))
            outcomes = await uow.outcomes.by_decisions([d.id for d in decisions])
        best: dict[str, DecisionOutcome] = {}
        for o in outcomes:
            if o.is_void:
                continue
            held = best.get(o.decision_id)
            if held is None or self._preference(o) > self._preference(held):
                best[o.decision_id] = o
        return [
            (
                d.created_at,
                d.id,
                PastDecision(
                    created_at=d.created_at,
                    action=d.action,
                    confidence=d.confidence,
                    outcome_return=best[d.id].realized_return if d.id in best else None,
                ),
                self._preference(best[d.id]) if d.id in best else None,
            )
            for d in decisions
        ]

    def _preference(self, outcome: DecisionOutcome) -> _Preference:
        return (
            outcome.horizon == self.settings.learning_horizon,
            self.horizon_delta(outcome.horizon),
        )

    async def weight_history(
        self, provider: str | None = None, limit: int = 1000
    ) -> list[WeightSnapshot]:
        """Weights after each learning update, oldest first, from the latest ``limit`` outcomes.

        A read model (the dashboard polls it): rebuilt when this process scores outcomes, and at
        most once a second for another process's scoring, not on every call."""
        moves = self._moves.get(limit)
        if moves is None:
            moves = self._moves[limit] = Refreshing(functools.partial(self._load_moves, limit))
        return [m for m in await moves.get() if provider is None or m.provider == provider]

    async def _load_moves(self, limit: int) -> list[WeightSnapshot]:
        async with self.uow_factory() as uow:
            outcomes = await uow.outcomes.list(horizon=self.settings.learning_horizon, limit=limit)
        return [
            WeightSnapshot(at=o.due_at, provider=s.provider, weight=s.weight_after, reason=s.reason)
            for o in outcomes
            for s in o.scores
        ]


class BarSource(Protocol):
    """Anything with ``get_bars`` (a MarketDataSource or the MarketDataService)."""

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]: ...


def bar_close_lookup(
    source: BarSource,
    resolve: Callable[[str], Instrument | None],
    interval: str,
    max_gap_bars: int = 2,
) -> PriceLookup:
    """A PriceLookup from bars: the close of the last bar that ended by the asked time (its open
    if the source returned the bar still running then), provided it is no more than
    ``max_gap_bars`` intervals old (else None: wait for data)."""
    step = interval_delta(interval)

    async def lookup(symbol: str, at: datetime) -> float | None:
        instrument = resolve(symbol)
        if instrument is None:
            return None
        bars = await source.get_bars(instrument, interval, limit=1, end=at)
        if not bars:
            return None
        bar = bars[-1]
        closed = bar.ts + step
        if bar.ts > at or at - closed > step * max_gap_bars:
            return None
        return bar.close if closed <= at else bar.open

    return lookup


def bar_clock_seconds(market: MarketDataService, interval: str) -> float:
    """Clock seconds a bar of ``interval`` takes: a replaying source's own pace (``ReplayPace``),
    else the interval itself. Horizons in bars count in these."""
    pace = market.replay_pace()
    return pace.bar_seconds(interval) if pace is not None else float(interval_seconds(interval))


def outcome_price_lookup(
    market: MarketDataService, resolve: Callable[[str], Instrument | None], interval: str
) -> PriceLookup:
    """The prices outcomes are scored with: what a replaying source quoted at the time, else
    the close of the bar that ended by then (:func:`bar_close_lookup`)."""
    pace = market.replay_pace()
    if pace is None:
        return bar_close_lookup(market, resolve, interval)

    async def quoted(symbol: str, at: datetime) -> float | None:
        instrument = resolve(symbol)
        return None if instrument is None else await pace.price_at(instrument, at)

    return quoted
