"""LearningService on the in-memory unit of work: scoring, idempotence, stats, memory, weights."""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ffe_adapters.storage.memory import InMemoryStore
from ffe_core.config import LearningSettings
from ffe_core.domain.decisions import Action, Decision, ProviderVote
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.domain.market import Bar
from ffe_core.domain.orders import Fill, Order, OrderStatus, Side, client_order_id_for
from ffe_core.domain.performance import ProviderStats
from ffe_core.services.learning import HORIZONS_KEY, LearningService, bar_close_lookup
from ffe_core.services.read_model import Refreshing

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
SETTINGS = LearningSettings(horizons=("1h", "4h"), give_up_after_seconds=86400)


class Prices:
    """A price per (instrument, time); anything missing is unknown."""

    def __init__(self, table: dict[datetime, str] | None = None) -> None:
        self.table = {t: Decimal(p) for t, p in (table or {}).items()}
        self.calls = 0

    async def __call__(self, symbol: str, at: datetime) -> Decimal | None:
        self.calls += 1
        return self.table.get(at) if symbol == "BTC-USD" else None


def decision(
    at: datetime = T0, votes: tuple[ProviderVote, ...] | None = None, **kw: object
) -> Decision:
    default = (
        ProviderVote(provider="bull", action=Action.BUY, confidence=0.8),
        ProviderVote(provider="bear", action=Action.SELL, confidence=0.6),
        ProviderVote(provider="calm", action=Action.HOLD, confidence=0.5),
        ProviderVote.abstain("llm", "timed out"),
    )
    return Decision.model_validate(
        {
            "instrument": "BTC-USD",
            "action": Action.BUY,
            "confidence": 0.7,
            "reference_price": Decimal("100"),
            "votes": votes if votes is not None else default,
            "weights": {"bull": 3.0, "bear": 1.0, "calm": 1.0, "llm": 1.0},
            "created_at": at,
            **kw,
        }
    )


async def stored(store: InMemoryStore, *decisions: Decision) -> None:
    async with store() as uow:
        for d in decisions:
            await uow.decisions.add(d)
        await uow.commit()


async def test_scores_every_vote_and_attributes_pnl_by_weight_share() -> None:
    store = InMemoryStore()
    await stored(store, decision())
    service = LearningService(store, SETTINGS)
    report = await service.score_due(T0 + HOUR, Prices({T0 + HOUR: "102"}))
    assert (report.scored, report.void, report.waiting) == (1, 0, 0)
    stats = {s.provider: s for s in await service.stats()}
    assert (stats["bull"].hits, stats["bear"].hits, stats["calm"].hits) == (1, 0, 0)
    assert stats["bull"].brier == pytest.approx(0.04) and stats["bear"].brier == pytest.approx(0.36)
    assert math.isclose(stats["bull"].pnl, 0.02 * 3 / 5) and math.isclose(stats["bear"].pnl, -0.004)
    assert stats["calm"].pnl == 0.0
    assert stats["bull"].weight > 1.0 > stats["bear"].weight
    assert stats["bull"].last_reason == "hit: BUY 0.80 on BTC-USD +2.00% at 1h; weight 1.00 → 1.06"
    assert (stats["llm"].votes, stats["llm"].scored, stats["llm"].weight) == (1, 0, 1.0)
    assert report.weights["bull"] == stats["bull"].weight


async def test_scoring_is_idempotent_per_decision_and_horizon() -> None:
    store = InMemoryStore()
    await stored(store, decision())
    service = LearningService(store, SETTINGS)
    prices = Prices({T0 + HOUR: "102", T0 + 4 * HOUR: "99"})
    first = await service.score_due(T0 + 5 * HOUR, prices)
    stats_after_first = await service.stats()
    again = await service.score_due(T0 + 5 * HOUR, prices)
    later = await service.score_due(T0 + 50 * HOUR, prices)
    assert first.scored == 2 and again.scored == 0 and later.scored == 0
    assert await service.stats() == stats_after_first
    assert all(s.scored <= 1 for s in stats_after_first)  # the 4h horizon does not re-learn
    async with store() as uow:
        outcomes = await uow.outcomes.by_decisions([d.id for d in store.tables.decisions.values()])
    assert sorted((o.horizon, o.realized_return) for o in outcomes) == [
        ("1h", pytest.approx(0.02)),
        ("4h", pytest.approx(-0.01)),
    ]
    assert [len(o.scores) for o in sorted(outcomes, key=lambda o: o.horizon)] == [3, 0]


async def test_not_yet_due_decisions_wait() -> None:
    store = InMemoryStore()
    await stored(store, decision())
    service = LearningService(store, SETTINGS)
    report = await service.score_due(T0 + HOUR - timedelta(seconds=1), Prices())
    assert report.scored == 0 and report.waiting == 0


async def test_missing_prices_wait_then_become_void_without_learning() -> None:
    store = InMemoryStore()
    await stored(store, decision())
    service = LearningService(store, SETTINGS)
    waiting = await service.score_due(T0 + 2 * HOUR, Prices())
    assert (waiting.scored, waiting.waiting) == (0, 1)
    gave_up = await service.score_due(T0 + 30 * HOUR, Prices())
    assert (gave_up.scored, gave_up.void) == (2, 2)
    assert await service.stats() == []
    async with store() as uow:
        [o, *_] = await uow.outcomes.list()
    assert o.is_void and o.void_reason == "no exit price for BTC-USD"


async def test_reference_price_is_looked_up_when_the_decision_has_none() -> None:
    store = InMemoryStore()
    await stored(store, decision(reference_price=None))
    service = LearningService(store, SETTINGS)
    await service.score_due(T0 + HOUR, Prices({T0: "50", T0 + HOUR: "55"}))
    async with store() as uow:
        [o] = await uow.outcomes.list()
    assert o.reference_price == Decimal("50") and math.isclose(o.realized_return or 0, 0.1)


async def test_trade_pnl_of_the_order_the_decision_placed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the orders of the pass's decisions are read (every order of the ledger was, on
    each pass a decision traded in)."""
    from ffe_adapters.storage import memory

    store = InMemoryStore()
    d = decision()
    coid = client_order_id_for(d.id)
    await stored(store, d)
    asked: list[Any] = []
    listing = memory._Orders.list

    async def counted(self: Any, **kwargs: Any) -> Any:
        asked.append(kwargs.get("decision_ids"))
        return await listing(self, **kwargs)

    monkeypatch.setattr(memory._Orders, "list", counted)
    async with store() as uow:
        await uow.orders.add(
            Order(
                client_order_id="an-older-order",
                instrument="BTC-USD",
                side=Side.BUY,
                quantity=Decimal("1"),
                decision_id="another-decision",
            )
        )
        await uow.orders.add(
            Order(
                client_order_id=coid,
                instrument="BTC-USD",
                side=Side.BUY,
                quantity=Decimal("2"),
                decision_id=d.id,
                status=OrderStatus.NEW,
            )
        )
        await uow.fills.add(
            Fill(
                client_order_id=coid,
                instrument="BTC-USD",
                side=Side.BUY,
                quantity=Decimal("2"),
                price=Decimal("100.5"),
                commission=Decimal("0.2"),
                ts=T0 + timedelta(seconds=5),
            )
        )
        await uow.commit()
    service = LearningService(store, SETTINGS)
    await service.score_due(T0 + HOUR, Prices({T0 + HOUR: "102"}))
    async with store() as uow:
        [o] = await uow.outcomes.by_decisions([d.id])
    assert o.trade_pnl == Decimal("2.8")  # 2 x (102 - 100.5) - 0.2
    assert asked == [[d.id]], f"orders read beyond the pass's decisions: {asked}"


async def test_past_decisions_carry_their_realized_return() -> None:
    store = InMemoryStore()
    old, recent = decision(T0), decision(T0 + 4 * HOUR)
    await stored(store, old, recent)
    service = LearningService(store, SETTINGS)
    await service.score_due(T0 + 4 * HOUR, Prices({T0 + HOUR: "101", T0 + 4 * HOUR: "97"}))
    async with store() as uow:
        assert len(await uow.outcomes.by_decisions([old.id])) == 2  # 1h: +1%, 4h: -3%
    memory = await service.past_decisions("BTC-USD", 5)
    assert [m.created_at for m in memory] == [recent.created_at, old.created_at]
    assert math.isclose(memory[1].outcome_return or 0, 0.01)  # learning horizon (1h) preferred
    assert memory[0].outcome_return is None  # not due yet
    assert await service.past_decisions("ETH-USD", 5) == []


async def test_weights_source_reads_persisted_bounded_weights() -> None:
    store = InMemoryStore()
    async with store() as uow:
        await uow.provider_stats.save(ProviderStats(provider="a", weight=2.5))
        await uow.provider_stats.save(ProviderStats(provider="b", weight=50.0))
        await uow.commit()
    service = LearningService(store, SETTINGS)
    assert await service.weights(["a", "b", "new"]) == {"a": 2.5, "b": 5.0, "new": 1.0}


async def test_weights_are_read_once_between_scorings_and_fresh_after_one() -> None:
    """The agent asks for weights every cycle: they are kept between scorings, and a scoring in
    this service is seen by the very next call."""
    store = InMemoryStore()
    await stored(store, decision(T0, reference_price=Decimal("100")))
    service = LearningService(store, SETTINGS)
    reads = 0
    load = service._load_weights

    async def counted() -> dict[str, float]:
        nonlocal reads
        reads += 1
        return await load()

    service._learned = Refreshing(counted, max_age=3600)
    before = await service.weights(["bull"])
    assert await service.weights(["bull"]) == before
    assert reads == 1
    report = await service.score_due(T0 + 2 * HOUR, Prices({T0: "100", T0 + HOUR: "101"}))
    assert report.weights, "the scoring moved a weight"
    after = await service.weights(["bull"])
    assert reads == 2
    assert after["bull"] == report.weights["bull"] != before["bull"]


class CountingOutcomeReads:
    """The store, counting reads of the outcomes table (``outcomes.list``)."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store, self.reads = store, 0

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[Any]:
        async with self.store() as uow:
            read = uow.outcomes.list

            async def counted(**query: Any) -> Any:
                self.reads += 1
                return await read(**query)

            uow.outcomes.list = counted
            yield uow


async def test_weight_history_is_read_once_between_scorings_and_fresh_after_one() -> None:
    """The dashboard polls the weight history: it is kept between scorings (each poll read up
    to 500 outcomes), and a scoring in this service is seen by the very next call."""
    store = InMemoryStore()
    path = ["100", "101", "102", "101"]
    await stored(
        store, *(decision(T0 + i * HOUR, reference_price=Decimal(path[i])) for i in range(3))
    )
    counting = CountingOutcomeReads(store)
    service = LearningService(counting, SETTINGS)
    prices = Prices({T0 + i * HOUR: p for i, p in enumerate(path)})
    await service.score_due(T0 + 2 * HOUR, prices)
    reads = counting.reads
    first = await service.weight_history()
    assert await service.weight_history("bull") == [m for m in first if m.provider == "bull"]
    assert await service.weight_history() == first
    assert counting.reads == reads + 1, "read once for three calls"
    await service.score_due(T0 + 3 * HOUR, prices)
    later = await service.weight_history()
    assert later[: len(first)] == first and len(later) > len(first), "the new scoring is seen"


async def test_weight_history_replays_every_update_in_time_order() -> None:
    store = InMemoryStore()
    path = ["100", "101", "102", "101"]
    await stored(
        store,
        *(decision(T0 + i * HOUR, reference_price=Decimal(path[i])) for i in range(3)),
    )
    service = LearningService(store, SETTINGS)
    prices = Prices({T0 + i * HOUR: p for i, p in enumerate(path)})
    await service.score_due(T0 + 3 * HOUR, prices)
    history = await service.weight_history("bull")
    assert [h.at for h in history] == [T0 + (i + 1) * HOUR for i in range(3)]
    assert [h.reason.split(":")[0] for h in history] == ["hit", "hit", "miss"]
    final = await service.weights(["bull"])
    assert history[-1].weight == final["bull"]
    assert len(await service.weight_history()) == 9


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    moves=st.lists(
        st.tuples(
            st.floats(min_value=-0.99, max_value=5.0),
            st.sampled_from(list(Action)),
            st.floats(min_value=0.0, max_value=1.0),
        ),
        min_size=1,
        max_size=30,
    ),
    rate=st.floats(min_value=0.01, max_value=1.0),
    decay=st.floats(min_value=0.0, max_value=0.5),
)
async def test_learned_weights_are_bounded_and_finite_for_any_outcomes(
    moves: list[tuple[float, Action, float]], rate: float, decay: float
) -> None:
    store = InMemoryStore()
    learning = LearningSettings(horizons=("1h",), learning_rate=rate, decay=decay)
    service = LearningService(store, learning)
    price = Decimal("100")
    table: dict[datetime, str] = {T0: str(price)}
    decisions = []
    for i, (move, action, confidence) in enumerate(moves):
        vote = ProviderVote(provider="p", action=action, confidence=confidence)
        decisions.append(decision(T0 + i * HOUR, votes=(vote,), reference_price=price))
        price = max(price * Decimal(str(1 + move)), Decimal("0.0001"))
        table[T0 + (i + 1) * HOUR] = str(price)
    await stored(store, *decisions)
    await service.score_due(T0 + len(moves) * HOUR, Prices(table))
    [stats] = await service.stats()
    assert stats.scored == len(moves)
    assert math.isfinite(stats.weight) and learning.w_min <= stats.weight <= learning.w_max
    for snap in await service.weight_history():
        assert math.isfinite(snap.weight) and learning.w_min <= snap.weight <= learning.w_max


class FakeBars:
    """A MarketDataSource fake: hourly bars opening at 00:00..05:00, close = 100 + hour.
    ``closed_only`` follows the port (bars that ended by ``end``); without it the source also
    returns the bar still running at ``end``, as some venues do."""

    name = "fake"

    def __init__(self, closed_only: bool = True) -> None:
        self.closed_only = closed_only
        self.bars = [
            Bar(ts=T0 + h * HOUR, open=100 + h - 0.5, high=200, low=1, close=100 + h)
            for h in range(6)
        ]

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]:
        last_open = end - HOUR if end is not None and self.closed_only else end
        eligible = [b for b in self.bars if last_open is None or b.ts <= last_open]
        return eligible[-limit:]

    async def get_quote(self, instrument: Instrument) -> Any:
        raise NotImplementedError

    async def close(self) -> None:
        return None


async def test_bar_close_lookup_prices_at_closes_and_refuses_stale_data() -> None:
    btc = Instrument(symbol="BTC-USD", base="BTC", quote="USD", asset_class=AssetClass.CRYPTO)
    lookup = bar_close_lookup(FakeBars(), {"BTC-USD": btc}.get, "1h")
    assert await lookup("BTC-USD", T0 + 2 * HOUR) == 101  # the 01:00 bar closed at 02:00
    assert await lookup("BTC-USD", T0 + 2 * HOUR + timedelta(minutes=30)) == 101
    running = bar_close_lookup(FakeBars(closed_only=False), {"BTC-USD": btc}.get, "1h")
    assert await running("BTC-USD", T0 + 2 * HOUR + timedelta(minutes=30)) == 101.5  # its open
    assert await lookup("BTC-USD", T0 + 20 * HOUR) is None  # data stopped long before
    assert await lookup("BTC-USD", T0 - HOUR) is None
    assert await lookup("ETH-USD", T0 + 2 * HOUR) is None


def test_horizons_in_bars_or_clock_intervals() -> None:
    from ffe_core.domain.errors import ValidationFailed
    from ffe_core.domain.intervals import horizon_bars, horizon_seconds

    assert (
        horizon_bars("1bar") == 1 and horizon_bars("24 Bars") == 24 and horizon_bars("4h") is None
    )
    assert horizon_seconds("4bars", 5.0) == 20.0
    assert horizon_seconds("4h", 5.0) == 4 * 3600
    for bad in ("0bars", "bars", "4x", ""):
        with pytest.raises(ValidationFailed):
            horizon_seconds(bad, 5.0)
    assert LearningSettings().horizons == ("1bar", "4bars", "24bars")
    assert LearningSettings(horizons=("2bars", "1h")).learning_horizon == "2bars"
    with pytest.raises(ValueError, match=r"learning\.horizons"):
        LearningSettings(horizons=("0bars",))


async def test_a_horizon_in_bars_is_due_after_that_many_bars_at_the_sources_pace() -> None:
    store = InMemoryStore()
    await stored(store, decision())
    # a replay forming a bar every 5 s: "1bar" is due 5 s after the decision, "4bars" after 20 s
    service = LearningService(store, LearningSettings(horizons=("1bar", "4bars")), bar_seconds=5)
    five, twenty = T0 + timedelta(seconds=5), T0 + timedelta(seconds=20)
    prices = Prices({five: "101", twenty: "99"})
    assert (await service.score_due(T0 + timedelta(seconds=4), prices)).scored == 0
    first = await service.score_due(five, prices)
    assert first.scored == 1 and first.weights  # the learning horizon moved the weights
    assert (await service.score_due(twenty, prices)).scored == 1
    async with store() as uow:
        outcomes = {o.horizon: o for o in await uow.outcomes.list()}
    assert outcomes["1bar"].due_at == five and outcomes["1bar"].realized_return == pytest.approx(
        0.01
    )
    assert outcomes["4bars"].due_at == twenty


def test_replay_attribution_reads_a_horizon_in_bars_as_written() -> None:
    import numpy as np

    from ffe_core.backtest.attribution import horizon_in_bars

    hourly = np.arange("2026-01-01T00", "2026-01-02T00", dtype="datetime64[h]")
    assert horizon_in_bars("4bars", hourly) == 4 and horizon_in_bars("1bar", None) == 1
    assert horizon_in_bars("4h", hourly) == 4


class Counted:
    """The store's units of work, counted."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.opened = 0

    def __call__(self) -> Any:
        self.opened += 1
        return self.store()


async def test_decision_memory_is_read_once_and_learns_this_process_stores_at_once() -> None:
    store = InMemoryStore()
    counted = Counted(store)
    old = decision(T0)
    await stored(store, old)
    service = LearningService(counted, SETTINGS)
    assert [m.created_at for m in await service.past_decisions("BTC-USD", 2)] == [T0]
    assert [m.created_at for m in await service.past_decisions("BTC-USD", 2)] == [T0]
    assert counted.opened == 1  # the second read is the read model's
    new, other = decision(T0 + HOUR), decision(T0 + HOUR, instrument="ETH-USD")
    await stored(store, new, other)
    for d in (new, other, new):  # told twice: remembered once
        service.remember(d)
    reads = counted.opened
    memory = await service.past_decisions("BTC-USD", 2)
    assert [(m.created_at, m.action, m.outcome_return) for m in memory] == [
        (T0 + HOUR, Action.BUY, None),
        (T0, Action.BUY, None),
    ]
    newest = decision(T0 + 2 * HOUR, action=Action.SELL)
    await stored(store, newest)
    service.remember(newest)
    assert [m.created_at for m in await service.past_decisions("BTC-USD", 2)] == [
        T0 + 2 * HOUR,
        T0 + HOUR,
    ]
    assert counted.opened == reads  # no read: what this process stored was applied


async def test_scoring_an_outcome_shows_it_in_the_decision_memory_at_once() -> None:
    store = InMemoryStore()
    counted = Counted(store)
    await stored(store, decision(T0), decision(T0 + HOUR))
    service = LearningService(counted, SETTINGS)
    assert [m.outcome_return for m in await service.past_decisions("BTC-USD", 5)] == [None, None]
    prices = Prices({T0 + HOUR: "101", T0 + 2 * HOUR: "99", T0 + 4 * HOUR: "110"})
    await service.score_due(T0 + 2 * HOUR, prices)  # both at 1h (the learning horizon)
    reads = counted.opened
    newer, older = await service.past_decisions("BTC-USD", 5)
    assert counted.opened == reads, "the memory was read again instead of amended"
    assert math.isclose(older.outcome_return or 0, 0.01)
    assert math.isclose(newer.outcome_return or 0, -0.01)
    await service.score_due(T0 + 4 * HOUR, prices)  # the older at 4h: 1h is still the one shown
    newer, older = await service.past_decisions("BTC-USD", 5)
    assert math.isclose(older.outcome_return or 0, 0.01)
    fresh = LearningService(store, SETTINGS)  # a rebuild shows the same
    assert await fresh.past_decisions("BTC-USD", 5) == [newer, older]


async def test_a_scoring_pass_with_nothing_to_score_writes_nothing() -> None:
    store = InMemoryStore()
    await stored(store, decision(T0))
    service, before = LearningService(store, SETTINGS), store.commits
    await service.score_due(T0 + HOUR / 4, Prices())  # the first pass stores the horizons
    assert store.commits - before == 1
    before = store.commits
    report = await service.score_due(T0 + HOUR / 2, Prices())  # not due yet
    assert (report.scored, report.waiting, store.commits - before) == (0, 0, 0)
    report = await service.score_due(T0 + HOUR, Prices())  # due, no price yet
    assert (report.scored, report.waiting, store.commits - before) == (0, 1, 0)
    report = await service.score_due(T0 + HOUR, Prices({T0 + HOUR: "101"}))
    assert (report.scored, store.commits - before) == (1, 1)


async def test_decisions_scored_at_every_horizon_leave_the_search_and_new_ones_are_scored() -> None:
    store = InMemoryStore()
    old = [decision(T0 + i * HOUR) for i in range(6)]
    await stored(store, *old)
    prices = Prices({T0 + i * HOUR: "100" for i in range(40)})
    service = LearningService(store, SETTINGS)
    report = await service.score_due(T0 + 20 * HOUR, prices)
    assert report.scored == 12, "each old decision at 1h and 4h"
    async with store() as uow:
        assert await uow.outcomes.pending({"1h": T0 + 30 * HOUR, "4h": T0 + 30 * HOUR}) == []
        assert store.tables.complete == {d.id: True for d in old}
    new = decision(T0 + 21 * HOUR)
    await stored(store, new)
    async with store() as uow:  # what the next pass searches: the new decision only
        due = {"1h": T0 + 21 * HOUR, "4h": T0 + 18 * HOUR}
        assert await uow.outcomes.pending(due) == [(new, ("1h",))]
    later = LearningService(store, SETTINGS)
    report = await later.score_due(T0 + 22 * HOUR, prices)
    assert report.scored == 1
    report = await later.score_due(T0 + 26 * HOUR, prices)
    assert report.scored == 1
    async with store() as uow:
        scored = {(o.decision_id, o.horizon) for o in await uow.outcomes.list()}
    assert scored == {(d.id, h) for d in [*old, new] for h in ("1h", "4h")}


async def test_a_horizon_added_to_the_configuration_scores_complete_decisions_there() -> None:
    store = InMemoryStore()
    d = decision()
    await stored(store, d)
    prices = Prices({T0 + i * HOUR: "100" for i in range(40)})
    await LearningService(store, SETTINGS).score_due(T0 + 10 * HOUR, prices)
    assert store.tables.complete == {d.id: True}
    wider = SETTINGS.model_copy(update={"horizons": ("1h", "4h", "24h")})
    report = await LearningService(store, wider).score_due(T0 + 30 * HOUR, prices)
    assert report.scored == 1
    async with store() as uow:
        assert {o.horizon for o in await uow.outcomes.by_decisions([d.id])} == {"1h", "4h", "24h"}
    assert store.tables.complete == {d.id: True}


async def test_a_pass_with_nothing_due_stores_the_horizons_so_later_passes_skip_the_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before a decision completes, the stored horizons were looked for on every pass; the
    first pass now stores them (there is nothing to reopen), and later passes read nothing."""
    store = InMemoryStore()
    state = type(store().state)
    reads: list[str] = []
    get = state.get

    async def counted(self: Any, key: str) -> dict[str, Any] | None:
        reads.append(key)
        return await get(self, key)

    monkeypatch.setattr(state, "get", counted)
    service = LearningService(store, SETTINGS)
    await service.score_due(T0, Prices())
    async with store() as uow:
        assert await uow.state.get(HORIZONS_KEY) == {"horizons": ["1h", "4h"]}
    reads.clear()
    await service.score_due(T0 + HOUR, Prices())
    assert reads == []
