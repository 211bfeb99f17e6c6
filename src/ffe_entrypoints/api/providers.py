"""Decision providers: performance, learned weights and circuit state; instruments."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from ffe_core.config import Settings
from ffe_core.domain.outcomes import WeightSnapshot as Move
from ffe_core.ports.capabilities import WithCircuit
from ffe_core.ports.providers import DecisionProvider, WeightSource
from ffe_core.ports.storage import UnitOfWorkFactory
from ffe_core.services.demotion import demotions
from ffe_core.services.learning import LearningService
from ffe_entrypoints.api.errors import error_responses
from ffe_entrypoints.api.schemas import (
    CircuitView,
    InstrumentList,
    InstrumentView,
    ProviderList,
    ProviderView,
    WeightSnapshot,
)

HISTORY_OUTCOMES = 500
"""The weight history covers the latest this many scored outcomes."""


def _history(moves: list[Move]) -> list[WeightSnapshot]:
    """One snapshot per scoring moment, with the weight of every provider it moved."""
    history: list[WeightSnapshot] = []
    for move in moves:
        if history and history[-1].ts == move.at:
            history[-1].weights[move.provider] = move.weight
        else:
            history.append(WeightSnapshot(ts=move.at, weights={move.provider: move.weight}))
    return history


def _circuit(provider: DecisionProvider | None) -> CircuitView | None:
    if not isinstance(provider, WithCircuit):
        return None
    breaker = provider.circuit
    return CircuitView(
        state=breaker.state.value, failures=breaker.failures, last_error=breaker.last_error
    )


class ProviderController(Controller):
    path = "/api/v1"
    tags = ["providers"]

    @get(
        "/providers",
        summary="Per-provider performance, weights, circuit state and demotion",
        responses=error_responses(),
    )
    async def providers(
        self,
        uow_factory: NamedDependency[UnitOfWorkFactory],
        decision_providers: NamedDependency[dict[str, DecisionProvider]],
        learning: NamedDependency[LearningService],
        weights: NamedDependency[WeightSource],
    ) -> ProviderList:
        async with uow_factory() as uow:
            stats = {s.provider: s for s in await uow.provider_stats.list()}
        demoted = await demotions(weights)
        names = sorted(set(stats) | set(decision_providers) | set(demoted))
        items = []
        for name in names:
            s = stats.get(name)
            items.append(
                ProviderView(
                    provider=name,
                    weight=s.weight if s else 1.0,
                    votes=s.votes if s else 0,
                    scored=s.scored if s else 0,
                    provisional=s.provisional if s else False,
                    hit_rate=s.hit_rate if s else None,
                    brier=s.brier if s else None,
                    pnl=s.pnl if s else 0.0,
                    last_reason=s.last_reason if s else "",
                    enabled=name in decision_providers,
                    circuit=_circuit(decision_providers.get(name)),
                    demoted=demoted.get(name),
                )
            )
        history = _history(await learning.weight_history(limit=HISTORY_OUTCOMES))
        if not history:  # stats from before outcomes kept their weight moves: where they stand
            history = [
                WeightSnapshot(ts=s.updated_at, weights={s.provider: s.weight})
                for s in stats.values()
            ]
        return ProviderList(items=items, weight_history=history)

    @get("/instruments", summary="Configured instruments", responses=error_responses())
    async def instruments(self, settings: NamedDependency[Settings]) -> InstrumentList:
        return InstrumentList(
            items=[
                InstrumentView(
                    symbol=i.symbol,
                    asset_class=i.asset_class.value,
                    base=i.base,
                    quote=i.quote,
                    price_increment=i.price_increment,
                    size_increment=i.size_increment,
                )
                for i in settings.instruments
            ]
        )
