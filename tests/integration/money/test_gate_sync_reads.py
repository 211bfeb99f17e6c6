"""The ledger sync each pass: the ledger's orders are read only when the venue reports a fill
the ledger lacks (they name the order a new fill belongs to)."""

from __future__ import annotations

from typing import Any

import pytest

from ffe_adapters.storage import memory
from ffe_adapters.storage.memory import InMemoryUnitOfWorkFactory
from ffe_core.domain.decisions import Action
from tests.integration.money.test_gate_properties import build, decide


async def test_a_sync_with_no_new_fill_reads_no_ledger_orders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = build(InMemoryUnitOfWorkFactory(), policy_always=False)
    decision = await decide(w, "BTC-USD", Action.BUY, 0.9)
    result = await w.gate.execute(decision)
    assert result.sent and result.order is not None
    await w.gate.sync()
    reads: list[Any] = []
    listing = memory._Orders.list

    async def counted(self: Any, **kwargs: Any) -> Any:
        reads.append(kwargs)
        return await listing(self, **kwargs)

    monkeypatch.setattr(memory._Orders, "list", counted)
    assert await w.gate.sync() == []
    assert all("status" in r for r in reads), f"all ledger orders were read: {reads}"
    async with w.uow() as uow:
        assert len(await uow.fills.list()) == len(await w.venue.list_fills())
