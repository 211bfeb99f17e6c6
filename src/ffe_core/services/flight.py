"""The decision flight recorder: records what reproduces a decision, gathers its trail from input
to fills, and replays it offline from the stored snapshot and votes.

A replay re-runs the ensemble on the recorded input snapshot with each provider answering its
stored vote (nothing is called), under the weights and configuration in force now, and compares
the result with the recorded verdict. It is identical when nothing changed; otherwise it names
what did: weights, configuration, prompt version, a provider's model, parameters or rendered
prompt (inputs) and the action, confidence, reasoning or levels (outputs). The risk verdict is
shown as recorded, not re-run: it depends on the risk manager's state across instruments.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from ffe_core.config import Settings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Decision, ProviderVote
from ffe_core.domain.errors import NotFoundError
from ffe_core.domain.flight import (
    DecisionRecord,
    DecisionTrail,
    Difference,
    EnsembleVerdict,
    GateVerdict,
    ProviderSpec,
    ReplayReport,
)
from ffe_core.domain.orders import Fill
from ffe_core.ports.clock import Clock
from ffe_core.ports.providers import DecisionProvider, WeightSource
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.prompts import PROMPT_VERSION
from ffe_core.scrubbing import Scrub, scrub_model
from ffe_core.services.ensemble import Deliberation, Ensemble, call_plan

log = logging.getLogger(__name__)

CONFIG_SECTIONS = ("ensemble", "risk")
"""The settings sections a decision depends on, recorded with it and compared on replay."""


def content_hash(text: str) -> str:
    """The sha256 of ``text`` (the key of a stored snapshot)."""
    return hashlib.sha256(text.encode()).hexdigest()


def recorded_config(settings: Settings) -> dict[str, Any]:
    return {name: getattr(settings, name).model_dump(mode="json") for name in CONFIG_SECTIONS}


class StoredVote:
    """A provider that answers its recorded vote (what a replay asks instead of the provider)."""

    def __init__(self, vote: ProviderVote) -> None:
        self.name = vote.provider
        self._vote = vote

    async def vote(self, context: DecisionContext) -> ProviderVote:
        return self._vote


class FlightRecorder:
    """Writes and reads flight records (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        *,
        scrub: Scrub | None = None,
    ) -> None:
        self.settings = settings
        self.uow_factory = uow_factory
        self.clock = clock
        self.scrub = scrub

    # --- recording ---------------------------------------------------------------------------

    def prepare(
        self, decision: Decision, context: DecisionContext, deliberation: Deliberation
    ) -> tuple[DecisionRecord, dict[str, str]] | None:
        """:meth:`build`, or None (logged) for a record that cannot be built: the decision then
        stands without one. Called before the transaction storing the decision opens (the
        snapshot's JSON and hashes are the work), whose ``uow.flight.add`` stores the result
        with the decision: both are stored or neither."""
        try:
            return self.build(decision, context, deliberation)
        except Exception as exc:
            log.warning("could not record decision %s: %s", decision.id, exc)
            return None

    def build(
        self, decision: Decision, context: DecisionContext, deliberation: Deliberation
    ) -> tuple[DecisionRecord, dict[str, str]]:
        """The record of ``decision`` and the texts it points to, by hash."""
        snapshot = context.model_dump_json()
        snapshot_hash = content_hash(snapshot)
        contents = {snapshot_hash: snapshot}
        for plan in deliberation.plans.values():
            if plan.prompt is not None and plan.spec.prompt_hash is not None:
                contents[plan.spec.prompt_hash] = plan.prompt
        verdict = EnsembleVerdict.of(deliberation.decision)
        if self.scrub is not None:
            verdict = scrub_model(verdict, self.scrub)
        record = DecisionRecord(
            decision_id=decision.id,
            instrument=decision.instrument,
            decided_at=decision.created_at,
            recorded_at=self.clock.now(),
            snapshot_hash=snapshot_hash,
            prompt_version=PROMPT_VERSION,
            providers=tuple(p.spec for p in deliberation.plans.values()),
            ensemble=verdict,
            config=recorded_config(self.settings),
        )
        return record, contents

    async def gate_verdict(self, decision_id: str, verdict: GateVerdict) -> None:
        """Append what the execution gate did with the decision (logged if it cannot be)."""
        try:
            async with self.uow_factory() as uow:
                if await uow.flight.add_gate_verdict(decision_id, verdict):
                    await uow.commit()
        except Exception as exc:
            log.warning("could not record the gate verdict on %s: %s", decision_id, exc)

    # --- reading -----------------------------------------------------------------------------

    async def trail(self, decision_id: str) -> DecisionTrail:
        """The decision, its record, input snapshot, prompts, and the orders and fills of the
        ledger that it caused (its entry and any venue-side exit)."""
        async with self.uow_factory() as uow:
            decision = await uow.decisions.get(decision_id)
            if decision is None:
                raise NotFoundError(f"unknown decision {decision_id!r}")
            record = await uow.flight.get(decision_id)
            snapshot: dict[str, Any] | None = None
            prompts: dict[str, str] = {}
            if record is not None:
                text = await uow.flight.content(record.snapshot_hash)
                snapshot = json.loads(text) if text is not None else None
                for spec in record.providers:
                    if spec.prompt_hash is not None and spec.prompt_hash not in prompts:
                        prompt = await uow.flight.content(spec.prompt_hash)
                        if prompt is not None:
                            prompts[spec.prompt_hash] = prompt
            orders = await uow.orders.list(decision_ids=[decision_id])
            fills: list[Fill] = []
            for order in orders:
                fills += await uow.fills.list(order.client_order_id)
        return DecisionTrail(
            decision=decision,
            record=record,
            snapshot=snapshot,
            prompts=prompts,
            orders=tuple(orders),
            fills=tuple(fills),
        )

    async def replay(
        self,
        decision_id: str,
        weights: WeightSource,
        providers: Mapping[str, DecisionProvider] | None = None,
    ) -> ReplayReport:
        """Re-run the decision offline (see the module docstring). ``weights`` are the weights
        in force now; ``providers``, the providers enabled now, are asked to describe (never
        to answer) the snapshot, so a changed model, parameter or prompt is named."""
        async with self.uow_factory() as uow:
            decision = await uow.decisions.get(decision_id)
            if decision is None:
                raise NotFoundError(f"unknown decision {decision_id!r}")
            record = await uow.flight.get(decision_id)
            if record is None:
                raise NotFoundError(
                    f"decision {decision_id!r} has no flight record (made before the recorder "
                    "existed, or not stored)"
                )
            snapshot = await uow.flight.content(record.snapshot_hash)
        if snapshot is None:
            raise NotFoundError(f"the input snapshot of decision {decision_id!r} is missing")
        context = DecisionContext.model_validate_json(snapshot)
        stored = {v.provider: StoredVote(v) for v in decision.votes}
        ensemble = Ensemble(stored, self.settings.ensemble, weights=weights)
        replayed = EnsembleVerdict.of(await ensemble.decide(context, list(stored)))
        if self.scrub is not None:
            replayed = scrub_model(replayed, self.scrub)
        inputs = [
            *_weight_changes(record.ensemble.weights, replayed.weights),
            *_config_changes(record.config, recorded_config(self.settings)),
            *_prompt_version_change(record.prompt_version),
            *_provider_changes(record.providers, providers or {}, context),
        ]
        outputs = list(_output_changes(record.ensemble, replayed))
        return ReplayReport(
            decision_id=decision_id,
            identical=not inputs and not outputs,
            recorded=record.ensemble,
            replayed=replayed,
            inputs_changed=tuple(inputs),
            outputs_changed=tuple(outputs),
        )


def _text(value: object) -> str:
    return "-" if value is None else str(value)


def _weight_changes(recorded: dict[str, float], now: dict[str, float]) -> Iterator[Difference]:
    for name in sorted(set(recorded) | set(now)):
        before, after = recorded.get(name), now.get(name)
        if before != after:
            yield Difference(what=f"weight of {name}", recorded=_text(before), now=_text(after))


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _flatten(f"{prefix}.{key}" if prefix else str(key), value[key])
    else:
        yield prefix, value


def _config_changes(recorded: dict[str, Any], now: dict[str, Any]) -> Iterator[Difference]:
    before, after = dict(_flatten("", recorded)), dict(_flatten("", now))
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            yield Difference(
                what=f"config {key}",
                recorded=json.dumps(before.get(key)),
                now=json.dumps(after.get(key)),
            )


def _prompt_version_change(recorded: str) -> Iterator[Difference]:
    if recorded != PROMPT_VERSION:
        yield Difference(what="prompt template version", recorded=recorded, now=PROMPT_VERSION)


def _provider_changes(
    recorded: tuple[ProviderSpec, ...],
    providers: Mapping[str, DecisionProvider],
    context: DecisionContext,
) -> Iterator[Difference]:
    for spec in recorded:
        provider = providers.get(spec.provider)
        if provider is None:
            continue
        plan = call_plan(provider, spec.provider, context)
        if plan is None:
            continue
        now = plan.spec
        for what in ("model", "prompt_version", "prompt_hash"):
            if getattr(spec, what) != getattr(now, what):
                yield Difference(
                    what=f"{spec.provider} {what.replace('_', ' ')}",
                    recorded=_text(getattr(spec, what)),
                    now=_text(getattr(now, what)),
                )
        yield from (
            Difference(what=f"{spec.provider} parameter {k}", recorded=_text(a), now=_text(b))
            for k, a, b in _changed(spec.parameters, now.parameters)
        )


def _changed(before: dict[str, Any], after: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            yield key, before.get(key), after.get(key)


def _output_changes(recorded: EnsembleVerdict, replayed: EnsembleVerdict) -> Iterator[Difference]:
    for what in ("action", "confidence", "stop_loss", "take_profit", "aggregation", "reasoning"):
        before, after = getattr(recorded, what), getattr(replayed, what)
        if before != after:
            yield Difference(what=what, recorded=_text(before), now=_text(after))
