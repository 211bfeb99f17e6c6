"""The outcomes repository's contract, run by every storage (see test_storage_contract.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ffe_core.domain.decisions import Action, Decision, ProviderVote
from ffe_core.domain.outcomes import DecisionOutcome, VoteScore
from tests.contract.storages import STORAGES, storage

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=STORAGES)
async def uow_factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async with storage(request.param, tmp_path) as stored:
        yield stored.uow_factory


def decision(i: int, instrument: str = "BTC-USD") -> Decision:
    return Decision(
        instrument=instrument,
        action=Action.BUY,
        confidence=0.6,
        reference_price=Decimal("100"),
        votes=(ProviderVote(provider="trend", action=Action.BUY, confidence=0.7),),
        created_at=T0 + timedelta(hours=i),
    )


def outcome(d: Decision, horizon: str = "1h", ret: float | None = 0.01) -> DecisionOutcome:
    hours = int(horizon.rstrip("h"))
    return DecisionOutcome(
        decision_id=d.id,
        instrument=d.instrument,
        action=d.action,
        horizon=horizon,
        decided_at=d.created_at,
        due_at=d.created_at + timedelta(hours=hours),
        reference_price=d.reference_price,
        exit_price=None if ret is None else Decimal("101"),
        realized_return=ret,
        trade_pnl=Decimal("-0.5") if ret is not None else None,
        scores=(
            VoteScore(
                provider="trend",
                action=Action.BUY,
                confidence=0.7,
                hit=True,
                brier=0.09,
                pnl=0.01,
                weight_before=1.0,
                weight_after=1.06,
                reason="hit",
            ),
        ),
        void_reason=None if ret is not None else "no price",
        scored_at=T0 + timedelta(days=2),
    )


async def store(uow_factory: Any, decisions: list[Decision]) -> None:
    async with uow_factory() as uow:
        for d in decisions:
            await uow.decisions.add(d)
        await uow.commit()


async def test_outcome_roundtrip_is_exact_and_idempotent(uow_factory: Any) -> None:
    d = decision(0)
    await store(uow_factory, [d])
    first = outcome(d)
    async with uow_factory() as uow:
        assert await uow.outcomes.add(first) is True
        assert await uow.outcomes.add(outcome(d, ret=-0.5)) is False
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outcomes.add(outcome(d, ret=-0.5)) is False
        assert await uow.outcomes.by_decisions([d.id]) == [first]
        assert await uow.outcomes.by_decisions([]) == []


async def test_void_outcome_keeps_its_reason(uow_factory: Any) -> None:
    d = decision(0)
    await store(uow_factory, [d])
    void = outcome(d, ret=None)
    async with uow_factory() as uow:
        await uow.outcomes.add(void)
        await uow.commit()
    async with uow_factory() as uow:
        [got] = await uow.outcomes.by_decisions([d.id])
    assert got.is_void and got.void_reason == "no price" and got.trade_pnl is None


async def test_pending_lists_unscored_due_decisions_oldest_first(uow_factory: Any) -> None:
    ds = [decision(i) for i in range(5)]
    await store(uow_factory, ds)
    async with uow_factory() as uow:
        await uow.outcomes.add(outcome(ds[1], "1h"))
        await uow.outcomes.add(outcome(ds[2], "4h"))
        await uow.commit()
    async with uow_factory() as uow:
        due_1h = await uow.outcomes.pending({"1h": T0 + timedelta(hours=3)})
        due_4h = await uow.outcomes.pending({"4h": T0 + timedelta(hours=3)}, limit=2)
        both = await uow.outcomes.pending(
            {"1h": T0 + timedelta(hours=3), "4h": T0 + timedelta(hours=1)}
        )
    assert [d.id for d, _ in due_1h] == [ds[0].id, ds[2].id, ds[3].id]
    assert all(h == ("1h",) for _, h in due_1h)
    assert [(d.id, h) for d, h in due_4h] == [(ds[0].id, ("4h",)), (ds[1].id, ("4h",))]
    assert [(d.id, h) for d, h in both] == [
        (ds[0].id, ("1h", "4h")),
        (ds[1].id, ("4h",)),
        (ds[2].id, ("1h",)),
        (ds[3].id, ("1h",)),
    ]
    assert ds[0] == due_1h[0][0], "the decision read back whole"


async def test_complete_decisions_are_no_longer_pending_until_reopened(uow_factory: Any) -> None:
    ds = [decision(i) for i in range(4)]
    await store(uow_factory, ds)
    async with uow_factory() as uow:
        for d in ds[:3]:
            await uow.outcomes.add(outcome(d, "1h"))
        await uow.outcomes.add(outcome(ds[0], "4h"))
        await uow.outcomes.add(outcome(ds[2], "4h"))
        # ds[2] is scored at both but made after the cut: not marked
        await uow.outcomes.complete(["1h", "4h"], T0 + timedelta(hours=1))
        await uow.commit()
    everything = {"1h": T0 + timedelta(days=1), "4h": T0 + timedelta(days=1)}
    async with uow_factory() as uow:
        pending = await uow.outcomes.pending(everything)
        only_1h = await uow.outcomes.pending({"1h": T0 + timedelta(days=1)})
    assert [(d.id, h) for d, h in pending] == [
        (ds[1].id, ("4h",)),
        (ds[3].id, ("1h", "4h")),
    ], "ds[0] complete; ds[2] has nothing to score"
    assert [d.id for d, _ in only_1h] == [ds[3].id]
    async with uow_factory() as uow:  # a horizon was added to the configuration
        await uow.outcomes.reopen()
        await uow.commit()
    async with uow_factory() as uow:
        reopened = await uow.outcomes.pending({**everything, "24h": T0 + timedelta(days=1)})
    assert [(d.id, h) for d, h in reopened] == [
        (ds[0].id, ("24h",)),
        (ds[1].id, ("4h", "24h")),
        (ds[2].id, ("24h",)),
        (ds[3].id, ("1h", "4h", "24h")),
    ]


async def test_list_filters_and_keeps_the_most_recent_in_time_order(uow_factory: Any) -> None:
    ds = [decision(i, "ETH-USD" if i % 2 else "BTC-USD") for i in range(6)]
    await store(uow_factory, ds)
    async with uow_factory() as uow:
        for d in ds:
            await uow.outcomes.add(outcome(d, "1h"))
            await uow.outcomes.add(outcome(d, "4h"))
        await uow.commit()
    async with uow_factory() as uow:
        btc_1h = await uow.outcomes.list(instrument="BTC-USD", horizon="1h")
        last_two = await uow.outcomes.list(horizon="4h", limit=2)
        recent = await uow.outcomes.list(since=T0 + timedelta(hours=8))
    assert [o.decision_id for o in btc_1h] == [ds[0].id, ds[2].id, ds[4].id]
    assert [o.decision_id for o in last_two] == [ds[4].id, ds[5].id]
    assert [(o.decision_id, o.horizon) for o in recent] == [(ds[4].id, "4h"), (ds[5].id, "4h")]


async def test_uncommitted_outcome_leaves_nothing(uow_factory: Any) -> None:
    d = decision(0)
    await store(uow_factory, [d])
    with pytest.raises(RuntimeError):
        async with uow_factory() as uow:
            await uow.outcomes.add(outcome(d))
            raise RuntimeError("crash mid-write")
    async with uow_factory() as uow:
        assert await uow.outcomes.by_decisions([d.id]) == []
        assert len(await uow.outcomes.pending({"1h": T0 + timedelta(days=1)})) == 1
