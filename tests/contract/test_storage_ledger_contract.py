"""The cost ledger and flight record repositories' contract, run by every storage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ffe_core.domain.costs import CallOutcome, ProviderCall
from ffe_core.domain.decisions import Action
from ffe_core.domain.flight import DecisionRecord, EnsembleVerdict, GateVerdict, ProviderSpec
from tests.contract.storages import STORAGES
from tests.contract.storages import storage as opened

T0 = datetime(2026, 5, 1, 12, tzinfo=UTC)


@pytest.fixture(params=STORAGES)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    async with opened(request.param, tmp_path) as stored:
        yield stored.uow_factory


def uow_factory(storage: Any) -> Any:
    return storage


def call(provider: str, minutes: int, cost: float, **extra: Any) -> ProviderCall:
    return ProviderCall(
        provider=provider,
        at=T0 + timedelta(minutes=minutes),
        cost_usd=cost,
        tokens_in=100,
        tokens_out=10,
        **extra,
    )


async def test_totals_sum_calls_since_a_time_per_provider(storage: Any) -> None:
    calls = [
        call("llm", -90, 5.0),  # before the window
        call("llm", 0, 0.25, decision_id="d1"),
        call("llm", 5, 0.5, decision_id="d2", outcome=CallOutcome.ABSTAINED, reason="timeout"),
        call("trend", 5, 0.0, decision_id="d2"),
        call("llm", 6, 0.0, decision_id="d3", outcome=CallOutcome.OVER_BUDGET),
    ]
    async with uow_factory(storage)() as uow:
        await uow.provider_calls.add_all(calls)
        await uow.commit()
    async with uow_factory(storage)() as uow:
        totals = await uow.provider_calls.totals(T0)
        everything = await uow.provider_calls.totals(T0 - timedelta(days=1))
        latest = await uow.provider_calls.list(provider="llm", limit=2)
        of_d2 = await uow.provider_calls.list(decision_id="d2")
    assert [(t.provider, t.calls, t.tokens_in, t.tokens_out) for t in totals] == [
        ("llm", 3, 300, 30),
        ("trend", 1, 100, 10),
    ]
    assert totals[0].cost_usd == 0.75 and totals[1].cost_usd == 0.0
    assert everything[0].cost_usd == 5.75
    assert latest == [calls[4], calls[2]]  # newest first
    assert sorted(c.provider for c in of_d2) == ["llm", "trend"]


async def test_uncommitted_calls_leave_nothing(storage: Any) -> None:
    async with uow_factory(storage)() as uow:
        await uow.provider_calls.add_all([call("llm", 0, 1.0)])
    async with uow_factory(storage)() as uow:
        assert await uow.provider_calls.totals(T0 - timedelta(days=1)) == []


def record(decision_id: str = "d1") -> DecisionRecord:
    return DecisionRecord(
        decision_id=decision_id,
        instrument="BTC-USD",
        decided_at=T0,
        recorded_at=T0,
        snapshot_hash="s" * 64,
        prompt_version="1",
        providers=(
            ProviderSpec(provider="llm", model="m", prompt_version="1", prompt_hash="p" * 64),
        ),
        ensemble=EnsembleVerdict(
            action=Action.BUY, confidence=0.7, reasoning="why", weights={"llm": 1.0}
        ),
        config={"ensemble": {"quorum": 2}},
    )


async def test_a_record_its_contents_and_gate_verdicts_round_trip(storage: Any) -> None:
    snapshot = '{"bars": [' + ", ".join(['{"close": 100.0}'] * 500) + "]}"
    contents = {"s" * 64: snapshot, "p" * 64: "system\n\nuser prompt"}
    async with uow_factory(storage)() as uow:
        await uow.flight.add(record(), contents)
        await uow.commit()
    verdict = GateVerdict(
        at=T0, sent=True, client_order_id="c1", quantity=Decimal("0.5"), status="filled"
    )
    async with uow_factory(storage)() as uow:
        assert await uow.flight.add_gate_verdict("d1", verdict)
        assert not await uow.flight.add_gate_verdict("unknown", verdict)
        await uow.commit()
    async with uow_factory(storage)() as uow:
        stored = await uow.flight.get("d1")
        assert stored == record().model_copy(update={"gate": (verdict,)})
        assert await uow.flight.content("s" * 64) == snapshot
        assert await uow.flight.content("p" * 64) == "system\n\nuser prompt"
        assert await uow.flight.content("x" * 64) is None
        assert await uow.flight.get("d2") is None
        # a second record of the same decision is not stored: the first is kept
        await uow.flight.add(record().model_copy(update={"prompt_version": "other"}), {})
        await uow.commit()
    async with uow_factory(storage)() as uow:
        assert await uow.flight.get("d1") == stored
    # a second record sharing a content keeps the one stored (content-addressed)
    async with uow_factory(storage)() as uow:
        await uow.flight.add(record("d2"), {"p" * 64: "system\n\nuser prompt"})
        await uow.commit()
    async with uow_factory(storage)() as uow:
        assert (await uow.flight.get("d2")) == record("d2")
