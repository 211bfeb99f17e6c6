"""The replay's fast path: every bar's ensemble decision from batch votes, in one pass.

When every provider of the ensemble is a :class:`BatchDecisionProvider` (its vote a pure
function of the last ``history`` bars, answerable for a whole series), the decisions of a replay
need no per-bar context: :func:`batch_plan` asks each provider's ``vote_batch`` once and
aggregates with :func:`~ffe_core.services.ensemble_batch.aggregate_batch`, which reproduces
``Ensemble.decide`` bar for bar (tests hold the two paths equal on every bar). Without a risk
check the targets then follow from the actions alone and the compiled simulator fills them;
with one, the replay loop consults the live stack only on bars where the decision would move
the target.

The plan is only made where it cannot differ from the per-bar path: no ``judge`` (it asks a
provider per bar), no ``on_decision`` (it wants every Decision), an unmodified
:class:`Ensemble`, and - unless the caller passes ``fast=True`` to vouch for them - equal
weights (asked once, not per bar), no metrics sink (the fast path records none) and no risk
check (a stateful one, such as the risk manager's drawdown and daily-loss tracking, expects to
see every bar). A provider failing in ``vote_batch`` sends the replay down the per-bar path,
where failures become abstentions bar by bar.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from ffe_core.backtest.data import Bars
from ffe_core.backtest.vote_log import VoteRecorder
from ffe_core.domain.series import BarSeries
from ffe_core.ports.metrics import NullMetrics
from ffe_core.ports.providers import BatchDecisionProvider, EqualWeights, SeriesBatchProvider
from ffe_core.services.ensemble import Ensemble
from ffe_core.services.ensemble_batch import BatchDecisions, aggregate_batch, weight_vector

Int8Array = npt.NDArray[np.int8]
UNTIMED_START = datetime(1970, 1, 1, tzinfo=UTC)


def _batch_providers(ensemble: Ensemble) -> list[BatchDecisionProvider] | None:
    kind = type(ensemble)
    if kind.decide is not Ensemble.decide or kind._aggregate is not Ensemble._aggregate:
        return None
    if ensemble.settings.aggregation == "judge":
        return None
    found = [p for p in ensemble.providers.values() if isinstance(p, BatchDecisionProvider)]
    return found if len(found) == len(ensemble.providers) else None


async def batch_plan(
    bars: Bars,
    volume: npt.NDArray[np.float64],
    ensemble: Ensemble,
    history: int | None,
    *,
    risk: object | None,
    on_decision: Callable[..., Awaitable[None]] | None,
    fast: bool | None,
    recorder: VoteRecorder | None = None,
) -> BatchDecisions | None:
    """Every bar's ensemble decision from batch votes, or None when the per-bar path must run.

    ``volume`` is the bars' volume as the domain bars carry it (NaN as 0); ``recorder``
    receives the providers' vote matrices when the plan is made.
    """
    if fast is False or on_decision is not None:
        return None
    providers = _batch_providers(ensemble)
    if providers is None:
        return None
    vouched = fast is True
    if not vouched and (
        risk is not None
        or not isinstance(ensemble.weight_source, EqualWeights)
        or not isinstance(ensemble.metrics, NullMetrics)
    ):
        return None
    names = list(ensemble.providers)
    try:
        weights = await ensemble.weight_source.weights(names)
        # One series for all: what several providers derive from it is computed once.
        series = BarSeries(bars.open, bars.high, bars.low, bars.close, volume, history)
        votes = [
            p.vote_series(series)
            if isinstance(p, SeriesBatchProvider)
            else p.vote_batch(bars.open, bars.high, bars.low, bars.close, volume, history)
            for p in providers
        ]
    except Exception:  # the per-bar path turns failures into abstentions where they happen
        return None
    n = len(bars)
    if not names:
        empty = np.zeros((0, n))
        return aggregate_batch(empty, empty, empty.astype(bool), np.zeros(0), ensemble.settings)
    actions = np.stack([v.actions for v in votes])
    confidences = np.stack([v.confidences for v in votes])
    abstained = np.stack([v.abstained for v in votes])
    if recorder is not None:
        recorder.record_batch(actions, confidences, abstained)
    return aggregate_batch(
        actions, confidences, abstained, weight_vector(names, weights), ensemble.settings
    )


def targets_from_actions(actions: Int8Array, start: int, allow_short: bool) -> Int8Array:
    """Target position after each bar: BUY long, SELL flat (short), HOLD keeps; 0 before start."""
    n = actions.shape[0]
    act = actions.copy()
    act[:start] = 0
    if not allow_short:
        act[act < 0] = 0
    moved = np.where(actions != 0, np.arange(n), -1)
    moved[:start] = -1
    last = np.maximum.accumulate(moved) if n else moved
    return np.where(last >= 0, act[np.maximum(last, 0)], 0).astype(np.int8)


def bar_time(bars: Bars, i: int, step: timedelta = timedelta(minutes=1)) -> datetime:
    """Bar ``i``'s timestamp as ``bar_models`` gives it."""
    if bars.time is None:
        return UNTIMED_START + step * i
    micros = int(bars.time[i].astype("datetime64[us]").astype(np.int64))
    return UNTIMED_START + timedelta(microseconds=micros)
