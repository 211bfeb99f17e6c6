"""In-memory repositories of the cost ledger and the flight recorder (see ``memory.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ffe_core.domain.costs import ProviderCall, SpendTotal
from ffe_core.domain.flight import DecisionRecord, GateVerdict


class MemoryProviderCalls:
    def __init__(self, rows: dict[str, ProviderCall]) -> None:
        self._rows = rows

    async def add_all(self, calls: Sequence[ProviderCall]) -> None:
        for call in calls:
            self._rows[call.id] = call

    async def totals(self, since: datetime) -> list[SpendTotal]:
        sums: dict[str, SpendTotal] = {}
        for c in self._rows.values():
            if c.at < since:
                continue
            t = sums.get(c.provider) or SpendTotal(provider=c.provider)
            sums[c.provider] = SpendTotal(
                provider=c.provider,
                calls=t.calls + 1,
                tokens_in=t.tokens_in + c.tokens_in,
                tokens_out=t.tokens_out + c.tokens_out,
                cost_usd=t.cost_usd + c.cost_usd,
            )
        return [sums[p] for p in sorted(sums)]

    async def list(
        self, *, provider: str | None = None, decision_id: str | None = None, limit: int = 100
    ) -> list[ProviderCall]:
        rows = [
            c
            for c in self._rows.values()
            if (provider is None or c.provider == provider)
            and (decision_id is None or c.decision_id == decision_id)
        ]
        rows.sort(key=lambda c: (c.at, c.id), reverse=True)
        return rows[: max(limit, 0)]


class MemoryFlight:
    def __init__(self, records: dict[str, DecisionRecord], contents: dict[str, str]) -> None:
        self._records = records
        self._contents = contents

    async def add(self, record: DecisionRecord, contents: dict[str, str]) -> None:
        self._records.setdefault(record.decision_id, record)
        for content_hash, text in contents.items():
            self._contents.setdefault(content_hash, text)

    async def get(self, decision_id: str) -> DecisionRecord | None:
        return self._records.get(decision_id)

    async def add_gate_verdict(self, decision_id: str, verdict: GateVerdict) -> bool:
        record = self._records.get(decision_id)
        if record is None:
            return False
        self._records[decision_id] = record.model_copy(update={"gate": (*record.gate, verdict)})
        return True

    async def content(self, content_hash: str) -> str | None:
        return self._contents.get(content_hash)
