"""The cost ledger and its budgets.

Before the ensemble asks its providers, :meth:`CostLedger.refusals` says which of them are past a
budget (``costs.budgets``: overall and per provider, per UTC day and month); those abstain with
the reason and are not called, and the ensemble's quorum rule decides with the others. Budgets
fail closed: when the spend cannot be read, every priced provider is refused. The first refusal
of each budget and period sends one notification. After the votes, :meth:`CostLedger.record`
writes one ledger row per provider: tokens, dollars, latency and outcome. Rows that may record
spend are written at once, before anything else can fail (a crash loop after paid calls must
not hide their cost from the budget); the rows of free calls may instead be written with the
decision, in its transaction (``Ensemble.deliberate(defer_free_calls=True)``).

A budget can be overshot by the calls of one decision already under way when it is reached.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ffe_core.config import Budget, CostSettings
from ffe_core.domain.costs import (
    CallOutcome,
    ProviderCall,
    ProviderValue,
    SpendLine,
    SpendReport,
    SpendTotal,
)
from ffe_core.domain.decisions import Decision, ProviderVote
from ffe_core.domain.flight import ProviderSpec
from ffe_core.domain.outcomes import DecisionOutcome
from ffe_core.ports.clock import Clock
from ffe_core.ports.notify import EventKind, Notification, Notifier
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.scrubbing import Scrub, scrub_model
from ffe_core.services.learning_scoring import weight_shares

log = logging.getLogger(__name__)

ALL = "*"
"""The scope of the overall budget (every priced provider together)."""
ALERTS_KEY = "costs.budget_alerts"
"""Service-state document listing the budget alerts already sent (one per budget and period)."""
UNINFORMED_BRIER = 0.25
"""The Brier score of a forecast of 0.5: what a provider must beat to add information."""


def may_have_cost(calls: Sequence[ProviderCall], specs: Mapping[str, ProviderSpec | None]) -> bool:
    """Whether any of ``calls`` may have spent money: it cost something, or its provider is
    priced or of unknown price (a provider refused for its budget was not called)."""
    for call in calls:
        if call.cost_usd > 0:
            return True
        spec = specs.get(call.provider)
        if call.outcome is not CallOutcome.OVER_BUDGET and (spec is None or spec.priced):
            return True
    return False


def period_starts(now: datetime) -> tuple[datetime, datetime]:
    """The start of ``now``'s UTC day and UTC month."""
    utc = now.astimezone(UTC)
    day = utc.replace(hour=0, minute=0, second=0, microsecond=0)
    return day, day.replace(day=1)


@dataclass(frozen=True)
class _Exhausted:
    """A budget reached: its alert key and the sentence a refused provider abstains with."""

    key: str
    reason: str


def _check(
    scope: str, budget: Budget | None, day: float, month: float, where: str, now: datetime
) -> _Exhausted | None:
    if budget is None:
        return None
    who = "all priced providers together" if scope == ALL else scope
    if budget.daily_usd is not None and day >= budget.daily_usd:
        return _Exhausted(
            f"{scope}|daily|{now:%Y-%m-%d}",
            f"over budget: {who} spent ${day:.4f} today (UTC), {where}.daily_usd is "
            f"${budget.daily_usd:.2f}",
        )
    if budget.monthly_usd is not None and month >= budget.monthly_usd:
        return _Exhausted(
            f"{scope}|monthly|{now:%Y-%m}",
            f"over budget: {who} spent ${month:.4f} this month (UTC), {where}.monthly_usd is "
            f"${budget.monthly_usd:.2f}",
        )
    return None


class CostLedger:
    """Records provider calls and enforces ``costs.budgets`` (see the module docstring)."""

    def __init__(
        self,
        settings: CostSettings,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        *,
        notifier: Notifier | None = None,
        scrub: Scrub | None = None,
    ) -> None:
        self.settings = settings
        self.uow_factory = uow_factory
        self.clock = clock
        self.notifier = notifier
        self.scrub = scrub  # a refusal's reason is upstream text: it may echo a secret
        self._alerted: set[str] = set()

    @property
    def has_budgets(self) -> bool:
        b = self.settings.budgets
        limits = [b, *b.providers.values()]
        return any(x.daily_usd is not None or x.monthly_usd is not None for x in limits)

    async def refusals(self, specs: Mapping[str, ProviderSpec | None]) -> dict[str, str]:
        """``{provider: reason}`` for each provider that may not be asked now. ``specs`` gives
        each provider's prices (None: unknown, treated as priced); a free provider is held only
        by its own budget."""
        if not self.has_budgets or not specs:
            return {}
        now = self.clock.now()
        day_start, month_start = period_starts(now)
        try:
            async with self.uow_factory() as uow:
                month = {t.provider: t for t in await uow.provider_calls.totals(month_start)}
                day = {t.provider: t for t in await uow.provider_calls.totals(day_start)}
        except Exception as exc:  # fail closed: without the spend, priced providers are not asked
            log.warning("cost ledger unreadable, priced providers refused: %s", exc)
            reason = f"over budget: the cost ledger cannot be read ({type(exc).__name__})"
            return {n: reason for n, s in specs.items() if s is None or s.priced}
        budgets = self.settings.budgets
        overall = _check(
            ALL,
            budgets,
            sum(t.cost_usd for t in day.values()),
            sum(t.cost_usd for t in month.values()),
            "costs.budgets",
            now,
        )
        refused: dict[str, str] = {}
        reached: list[_Exhausted] = []
        for name, spec in specs.items():
            own = _check(
                name,
                budgets.providers.get(name),
                day[name].cost_usd if name in day else 0.0,
                month[name].cost_usd if name in month else 0.0,
                f"costs.budgets.providers.{name}",
                now,
            )
            priced = spec is None or spec.priced
            hit = own or (overall if priced else None)
            if hit is not None:
                refused[name] = hit.reason
                reached.append(hit)
        for hit in dict.fromkeys(reached):
            await self._alert_once(hit)
        return refused

    async def record(
        self,
        decision_id: str | None,
        votes: Sequence[ProviderVote],
        specs: Mapping[str, ProviderSpec | None],
        refused: Mapping[str, str],
    ) -> None:
        """One ledger row per vote (see :meth:`calls`), written now in its own transaction."""
        await self.write(self.calls(decision_id, votes, specs, refused))

    def calls(
        self,
        decision_id: str | None,
        votes: Sequence[ProviderVote],
        specs: Mapping[str, ProviderSpec | None],
        refused: Mapping[str, str],
    ) -> list[ProviderCall]:
        """The ledger rows of ``votes``, one per vote (a refused provider's as
        ``over_budget``), scrubbed."""
        now = self.clock.now()
        calls = []
        for vote in votes:
            spec = specs.get(vote.provider)
            if vote.provider in refused:
                outcome = CallOutcome.OVER_BUDGET
            else:
                outcome = CallOutcome.ABSTAINED if vote.abstained else CallOutcome.OK
            calls.append(
                ProviderCall(
                    provider=vote.provider,
                    model=vote.model or (spec.model if spec else None),
                    decision_id=decision_id,
                    at=now,
                    outcome=outcome,
                    reason=(vote.abstain_reason or "")[:500] or None,
                    tokens_in=vote.tokens_in,
                    tokens_out=vote.tokens_out,
                    cost_usd=vote.cost_usd,
                    latency_ms=vote.latency_ms,
                )
            )
        if self.scrub is not None:
            calls = [scrub_model(call, self.scrub) for call in calls]
        return calls

    async def write(self, calls: Sequence[ProviderCall]) -> None:
        """Write ``calls`` in their own transaction; a storage failure is logged, never
        raised: the decision goes on."""
        if not calls:
            return
        try:
            async with self.uow_factory() as uow:
                await uow.provider_calls.add_all(calls)
                await uow.commit()
        except Exception as exc:
            log.warning("could not record %d provider calls: %s", len(calls), exc)

    async def report(self) -> SpendReport:
        """The day's and the month's spend against every configured budget."""
        now = self.clock.now()
        day_start, month_start = period_starts(now)
        async with self.uow_factory() as uow:
            month = {t.provider: t for t in await uow.provider_calls.totals(month_start)}
            day = {t.provider: t for t in await uow.provider_calls.totals(day_start)}
        budgets = self.settings.budgets
        names = sorted(set(month) | set(budgets.providers))
        empty = SpendTotal(provider=ALL)
        lines = [
            self._line(p, budgets.providers.get(p), day.get(p, empty), month.get(p, empty), now)
            for p in names
        ]
        total_day = SpendTotal(
            provider=ALL,
            calls=sum(t.calls for t in day.values()),
            tokens_in=sum(t.tokens_in for t in day.values()),
            tokens_out=sum(t.tokens_out for t in day.values()),
            cost_usd=sum(t.cost_usd for t in day.values()),
        )
        total_month = sum(t.cost_usd for t in month.values())
        total = self._line(
            ALL, budgets, total_day, SpendTotal(provider=ALL, cost_usd=total_month), now
        )
        return SpendReport(
            as_of=now,
            day_start=day_start,
            month_start=month_start,
            total=total,
            providers=tuple(lines),
        )

    def _line(
        self, scope: str, budget: Budget | None, day: SpendTotal, month: SpendTotal, now: datetime
    ) -> SpendLine:
        reached = _check(scope, budget, day.cost_usd, month.cost_usd, "", now) is not None
        return SpendLine(
            scope=scope,
            spent_today_usd=day.cost_usd,
            spent_month_usd=month.cost_usd,
            daily_budget_usd=budget.daily_usd if budget else None,
            monthly_budget_usd=budget.monthly_usd if budget else None,
            calls_today=day.calls,
            tokens_in_today=day.tokens_in,
            tokens_out_today=day.tokens_out,
            exhausted=reached,
        )

    async def value(self, horizon: str, window_days: int | None = None) -> list[ProviderValue]:
        """Value for money per provider over the last ``window_days`` (``costs.value_window_days``
        by default): outcomes scored at the learning ``horizon`` against the ledger's spend."""
        days = window_days or self.settings.value_window_days
        since = self.clock.now() - timedelta(days=days)
        async with self.uow_factory() as uow:
            outcomes = await uow.outcomes.list(horizon=horizon, since=since, limit=1_000_000)
            traded = [o.decision_id for o in outcomes if o.trade_pnl is not None]
            decisions = await uow.decisions.get_many(traded)
            spend = await uow.provider_calls.totals(since)
        return value_for_money(outcomes, decisions, spend, days)

    async def _alert_once(self, hit: _Exhausted) -> None:
        """Notify the first time a budget is reached in its period (kept in service state, so a
        restart or another process does not send it again)."""
        if hit.key in self._alerted:
            return
        self._alerted.add(hit.key)
        try:
            async with self.uow_factory() as uow:
                doc = await uow.state.get(ALERTS_KEY) or {}
                sent = [k for k in doc.get("sent", []) if isinstance(k, str)]
                if hit.key in sent:
                    return
                await uow.state.put(ALERTS_KEY, {"sent": [*sent, hit.key][-200:]})
                await uow.commit()
        except Exception as exc:
            log.warning("could not store the budget alert %s: %s", hit.key, exc)
        log.warning("budget reached: %s", hit.reason)
        if self.notifier is None:
            return
        try:
            await self.notifier.notify(
                Notification(
                    kind=EventKind.BUDGET,
                    title="Budget reached: provider abstains",
                    body=hit.reason,
                    fields={"budget": hit.key},
                    ts=self.clock.now(),
                )
            )
        except Exception as exc:  # notifications never stop trading
            log.warning("notifier failed: %s", exc)


def value_for_money(
    outcomes: Sequence[DecisionOutcome],
    decisions: Mapping[str, Decision],
    spend: Sequence[SpendTotal],
    window_days: int,
) -> list[ProviderValue]:
    """Per provider: Brier improvement over the uninformed forecast and the P&L of the trades it
    backed (split among the voters for the action taken by weight share), each per dollar."""
    scored: dict[str, int] = {}
    brier_sum: dict[str, float] = {}
    pnl: dict[str, float] = {}
    for outcome in outcomes:
        for score in outcome.scores:
            scored[score.provider] = scored.get(score.provider, 0) + 1
            brier_sum[score.provider] = brier_sum.get(score.provider, 0.0) + score.brier
        decision = decisions.get(outcome.decision_id)
        if outcome.trade_pnl is None or decision is None:
            continue
        backers = [v for v in decision.counted_votes if v.action is decision.action]
        for provider, share in weight_shares(backers, decision.weights).items():
            pnl[provider] = pnl.get(provider, 0.0) + float(outcome.trade_pnl) * share
    costs = {t.provider: t for t in spend}
    values = []
    for provider in sorted(set(scored) | set(pnl) | set(costs)):
        n = scored.get(provider, 0)
        cost = costs[provider].cost_usd if provider in costs else 0.0
        improvement = n * UNINFORMED_BRIER - brier_sum.get(provider, 0.0)
        made = pnl.get(provider, 0.0)
        values.append(
            ProviderValue(
                provider=provider,
                window_days=window_days,
                calls=costs[provider].calls if provider in costs else 0,
                cost_usd=cost,
                scored=n,
                brier=brier_sum[provider] / n if n else None,
                brier_improvement=improvement,
                pnl_usd=made,
                brier_improvement_per_usd=improvement / cost if cost > 0 else None,
                pnl_per_usd=made / cost if cost > 0 else None,
            )
        )
    return values
