"""Approvals that mean what they say, through the API, on SQLite and PostgreSQL.

- Approve and reject of one approval from 10 concurrent clients (10 app instances, each with its
  own database connections, like 10 server processes): exactly one winner, the others 409 with
  the approval's true state; a rejected approval never has an order at the venue.
- Four same-direction decisions with ``approvals.policy: always``, all approved: the position
  stays within ``max_position_fraction`` (the gate resizes or refuses the rest, with reasons).
- Approving while the kill switch is tripped is refused (409); an approval given before the trip
  is refused by the gate at send time and ends ``failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import AsyncTestClient

from ffe_core.domain.approvals import Approval, ApprovalStatus
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.domain.orders import client_order_id_for
from ffe_core.services.execution import send_approved
from ffe_core.services.risk import KillSwitch
from ffe_entrypoints.api.app import create_app
from ffe_entrypoints.container import Container, build_container
from ffe_entrypoints.lifecycle import shutdown
from ffe_entrypoints.settings import load_settings
from tests.api.conftest import API_KEY
from tests.conftest import PG_URL, drop_schema, require_postgres

CLIENTS = 10
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


class AlwaysBuy:
    def __init__(self, name: str) -> None:
        self.name = name

    async def vote(self, context: DecisionContext) -> ProviderVote:
        return ProviderVote(provider=self.name, action=Action.BUY, confidence=0.9, reasoning="buy")


def environ(kind: str, tmp_path: Path, schema: str) -> dict[str, str]:
    url = PG_URL if kind == "postgres" else f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}"
    env = {
        "FFE_STORAGE__URL": url,
        "FFE_AGENT__INSTRUMENTS": '["BTC-USD"]',
        "FFE_APPROVALS__POLICY": "always",
        "FFE_API__API_KEY": API_KEY,
        "FFE_RISK__RISK_PER_TRADE": "0.05",  # sizing wants more than max_position_fraction
    }
    if kind == "postgres":
        env["FFE_STORAGE__SCHEMA_NAME"] = schema
    return env


class FrozenClock:
    """One instant for every app: the bundled data (replayed as if live) holds still, so the
    book is priced the same when the gate sends and when the test looks."""

    at = datetime.now(UTC).replace(second=30, microsecond=0)

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def container_for(kind: str, tmp_path: Path, schema: str) -> Container:
    container = build_container(load_settings(tmp_path, environ=environ(kind, tmp_path, schema)))
    container.clock.override(providers.Object(FrozenClock()))
    container.decision_providers.override(
        providers.Object({"a": AlwaysBuy("a"), "b": AlwaysBuy("b")})
    )
    return container


@contextlib.asynccontextmanager
async def servers(
    kind: str, tmp_path: Path, n: int
) -> AsyncIterator[tuple[list[AsyncTestClient[Litestar]], list[Container], Container]]:
    """``n`` API apps on one database, each with its own container and connection pool (the
    test client runs each app on its own event loop), plus a container of the test's own for
    deciding, sending and looking."""
    if kind == "postgres":
        require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    async with contextlib.AsyncExitStack() as stack:
        apps, served = [], []
        for _ in range(n):
            container = container_for(kind, tmp_path, schema)
            client = AsyncTestClient(create_app(container, start_agent=False))
            apps.append(await stack.enter_async_context(client))
            served.append(container)
        if kind == "postgres":
            stack.push_async_callback(drop_schema, schema)
        own = container_for(kind, tmp_path, schema)
        stack.push_async_callback(shutdown, own)
        yield apps, served, own


HEADERS = {"X-API-Key": API_KEY}


async def pending_approval(container: Container) -> Approval:
    decision = await container.decision_service().decide("BTC-USD")
    assert decision.risk is not None and decision.risk.approved, decision.risk
    return await container.approval_service().request(decision)


async def venue_orders(container: Container, decision_id: str) -> int:
    coid = client_order_id_for(decision_id)
    async with container.uow_factory()() as uow:
        return sum(1 for o in await uow.venue_orders.list() if o.client_order_id == coid)


@pytest.mark.parametrize("kind", BACKENDS)
async def test_approve_and_reject_from_ten_clients_have_exactly_one_winner(
    kind: str, tmp_path: Path
) -> None:
    for round_ in range(3):  # a fresh account each round: every race starts from a flat book
        async with servers(kind, tmp_path / f"round{round_}", CLIENTS) as (apps, _, owner):
            approval = await pending_approval(owner)

            async def tap(i: int, approval_id: str = approval.id, shift: int = round_) -> Any:
                client = apps[i]
                verb = "approve" if (i + shift) % 2 else "reject"
                return verb, await client.post(
                    f"/api/v1/approvals/{approval_id}/{verb}",
                    json={"by": f"client-{i}"},
                    headers=HEADERS,
                )

            answers = await asyncio.gather(*(tap(i) for i in range(CLIENTS)))
            codes = sorted(r.status_code for _, r in answers)
            assert codes == [200] + [409] * (CLIENTS - 1), [(v, r.text) for v, r in answers]
            (verb, won) = next((v, r) for v, r in answers if r.status_code == 200)
            final = await owner.approval_service().get(approval.id)
            assert final.status.value == ("approved" if verb == "approve" else "rejected")
            for _, lost in (a for a in answers if a[1].status_code == 409):
                assert f"already {final.status.value}" in lost.json()["detail"]
            await send_approved(owner.approval_service(), owner.agent().gate)
            sent = await venue_orders(owner, approval.decision_id)
            assert sent == (1 if final.status is ApprovalStatus.APPROVED else 0), final
            assert won.json()["status"] == final.status.value


@pytest.mark.parametrize("kind", BACKENDS)
async def test_piled_up_approvals_all_approved_stay_within_the_position_limit(
    kind: str, tmp_path: Path
) -> None:
    async with servers(kind, tmp_path, 1) as ((client,), _, c):
        service = c.approval_service()
        # (1) asked four times while pending: each newer decision supersedes the older one
        asked = [await pending_approval(c) for _ in range(4)]
        statuses = [(await service.get(a.id)).status for a in asked]
        assert statuses == [ApprovalStatus.SUPERSEDED] * 3 + [ApprovalStatus.PENDING]
        answers = [
            await client.post(f"/api/v1/approvals/{a.id}/approve", headers=HEADERS) for a in asked
        ]
        assert [r.status_code for r in answers] == [409, 409, 409, 200]
        assert "superseded by decision" in answers[0].json()["detail"]
        # (2) approved one by one as they arrive, all sized against a flat book, sent later
        for _ in range(3):
            one = await pending_approval(c)
            assert (
                await client.post(f"/api/v1/approvals/{one.id}/approve", headers=HEADERS)
            ).status_code == 200
        extra = await pending_approval(c)  # still pending: what would the gate send for it?

        async def size_now() -> Decimal | None:
            listed = await client.get(
                "/api/v1/approvals/", params={"status": "pending"}, headers=HEADERS
            )
            (item,) = listed.json()["items"]
            assert item["id"] == extra.id and Decimal(item["notional"]) > 0
            return None if item["size_now"] is None else Decimal(item["size_now"])

        assert await size_now() == extra.size  # a flat book: all that was sized
        results = await send_approved(service, c.agent().gate)
        now = await size_now()  # the book is full now: nothing (or a sliver) would be sent
        assert now is None or (extra.size is not None and now < extra.size / 100), now
        assert len(results) == 4, results
        first, rest = results[0], results[1:]
        assert first[1].sent and first[1].order is not None
        cap = first[0].size
        assert cap is not None and first[1].order.quantity == cap
        for approval, result in rest:  # sized against a flat book; the book is no longer flat
            assert approval.size == cap
            if result.sent:  # resized to what still fits (a sliver: prices moved a little)
                assert result.order is not None and result.order.quantity < cap / 100
            else:
                assert approval.status is ApprovalStatus.FAILED
                assert approval.reason and "risk now" in approval.reason, approval.reason
        assert any(not r.sent for _, r in rest)
        portfolio = await c.broker().get_portfolio()
        context = await c.decision_service().context_for(c.decision_service().instrument("BTC-USD"))
        mark = {"BTC-USD": Decimal(str(context.last_price))}  # the price the risk manager uses
        held = portfolio.position("BTC-USD").quantity * mark["BTC-USD"]
        limit = Decimal(str(c.settings().risk.max_position_fraction)) * portfolio.equity(mark)
        # the paper venue fills at its quote, a hair from the bar close the limit is priced at
        assert 0 < held <= limit * Decimal("1.0001"), (held, limit)
        listed = (
            await client.get("/api/v1/approvals/", params={"status": "failed"}, headers=HEADERS)
        ).json()
        assert len(listed["items"]) == sum(1 for _, r in rest if not r.sent)


@pytest.mark.parametrize("kind", BACKENDS)
async def test_kill_switch_refuses_approving_and_stops_an_earlier_approval(
    kind: str, tmp_path: Path
) -> None:
    async with servers(kind, tmp_path, 1) as ((client,), (served,), c):
        early = await pending_approval(c)
        ok = await client.post(f"/api/v1/approvals/{early.id}/approve", headers=HEADERS)
        assert ok.status_code == 200
        late = await pending_approval(c)
        for risk in (served.risk_manager(), c.risk_manager()):  # the server's and our agent's
            risk.state = risk.state.model_copy(
                update={
                    "kill_switch": KillSwitch(
                        tripped=True, reason="drawdown test", at=c.clock().now()
                    )
                }
            )
        refused = await client.post(f"/api/v1/approvals/{late.id}/approve", headers=HEADERS)
        assert refused.status_code == 409 and "kill switch" in refused.json()["detail"]
        assert (await c.approval_service().get(late.id)).status is ApprovalStatus.PENDING
        ((approval, _),) = await send_approved(c.approval_service(), c.agent().gate)
        assert approval.status is ApprovalStatus.FAILED and "kill switch" in (approval.reason or "")
        assert await venue_orders(c, early.decision_id) == 0
