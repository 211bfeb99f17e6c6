"""SQL repositories of the cost ledger and the decision flight recorder."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ffe_adapters.storage.sql.repositories import deferred, insert_new
from ffe_adapters.storage.sql.tables import ContentRow, DecisionRecordRow, ProviderCallRow
from ffe_core.domain.costs import ProviderCall, SpendTotal
from ffe_core.domain.flight import DecisionRecord, GateVerdict

COMPRESSION_LEVEL = 6
_CALLS = cast(Table, ProviderCallRow.__table__)
_RECORDS = cast(Table, DecisionRecordRow.__table__)
_CONTENTS = cast(Table, ContentRow.__table__)


def _json(model: ProviderCall | DecisionRecord) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json")
    return data


class SqlProviderCalls:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add_all(self, calls: Sequence[ProviderCall]) -> None:
        """One executemany (no ORM flush)."""
        if not calls:
            return
        await self._s.execute(
            insert(_CALLS),
            [
                {
                    "id": c.id,
                    "provider": c.provider,
                    "decision_id": c.decision_id,
                    "at": c.at,
                    "outcome": c.outcome.value,
                    "tokens_in": c.tokens_in,
                    "tokens_out": c.tokens_out,
                    "cost_usd": c.cost_usd,
                    "payload": _json(c),
                }
                for c in calls
            ],
        )

    async def totals(self, since: datetime) -> list[SpendTotal]:
        t = ProviderCallRow
        stmt = (
            select(
                t.provider,
                func.count(),
                func.coalesce(func.sum(t.tokens_in), 0),
                func.coalesce(func.sum(t.tokens_out), 0),
                func.coalesce(func.sum(t.cost_usd), 0.0),
            )
            .where(t.at >= since)
            .group_by(t.provider)
            .order_by(t.provider)
        )
        rows = (await self._s.execute(stmt)).all()
        return [
            SpendTotal(
                provider=provider,
                calls=int(calls),
                tokens_in=int(tokens_in),
                tokens_out=int(tokens_out),
                cost_usd=max(float(cost), 0.0),
            )
            for provider, calls, tokens_in, tokens_out, cost in rows
        ]

    async def list(
        self, *, provider: str | None = None, decision_id: str | None = None, limit: int = 100
    ) -> list[ProviderCall]:
        t = ProviderCallRow
        stmt = select(t).order_by(t.at.desc(), t.id.desc()).limit(max(limit, 0))
        if provider is not None:
            stmt = stmt.where(t.provider == provider)
        if decision_id is not None:
            stmt = stmt.where(t.decision_id == decision_id)
        rows = (await self._s.scalars(stmt)).all()
        return [ProviderCall.model_validate(r.payload) for r in rows]


class SqlFlight:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, record: DecisionRecord, contents: dict[str, str]) -> None:
        """Two statements, neither read back (deferred: on SQLite they ride with the next
        statement or the COMMIT): the record and the contents in one executemany, a record or
        hash already stored left as it is."""
        await self._s.execute(
            deferred(insert_new(self._s, _RECORDS)),
            {
                "decision_id": record.decision_id,
                "instrument": record.instrument,
                "decided_at": record.decided_at,
                "snapshot_hash": record.snapshot_hash,
                "payload": _json(record),
            },
        )
        if contents:  # nothing read back: sent with the next statement or COMMIT on SQLite
            await self._s.execute(
                deferred(insert_new(self._s, _CONTENTS)),
                [
                    {"hash": h, "data": zlib.compress(text.encode(), COMPRESSION_LEVEL)}
                    for h, text in contents.items()
                ],
            )

    async def get(self, decision_id: str) -> DecisionRecord | None:
        row = await self._s.get(DecisionRecordRow, decision_id)
        return None if row is None else DecisionRecord.model_validate(row.payload)

    async def add_gate_verdict(self, decision_id: str, verdict: GateVerdict) -> bool:
        row = await self._s.get(DecisionRecordRow, decision_id)
        if row is None:
            return False
        record = DecisionRecord.model_validate(row.payload)
        row.payload = _json(record.model_copy(update={"gate": (*record.gate, verdict)}))
        return True

    async def content(self, content_hash: str) -> str | None:
        row = await self._s.get(ContentRow, content_hash)
        return None if row is None else zlib.decompress(row.data).decode()
