"""The decisions list serves stored JSON without validating it again: the bytes must be the ones
the pydantic path (validate each decision, scrub it, let Litestar serialise the page) gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from litestar import Litestar
from litestar.serialization import encode_json
from litestar.testing import AsyncTestClient

from ffe_core.domain.decisions import Action, Decision, ProviderVote, RiskAssessment
from ffe_core.ports.storage import DecisionQuery
from ffe_core.scrubbing import REDACTED, SecretScrubber, scrub_decision
from ffe_entrypoints.api.schemas import DecisionPage
from ffe_entrypoints.container import Container
from ffe_entrypoints.logging import scrub
from tests.api.conftest import api_settings, serving

Client = AsyncTestClient[Litestar]
TOKEN = "123456789:" + "A" * 35  # a Telegram bot token's shape: scrubbed wherever it appears


def handmade(minutes: int, reasoning: str = "trend up, 2 of 3 agree") -> Decision:
    """A decision with every kind of field the payload holds: decimals, abstentions, checks."""
    votes = (
        ProviderVote(
            provider="trend",
            action=Action.BUY,
            confidence=0.7,
            reasoning=reasoning,
            stop_loss=Decimal("61000.50"),
            take_profit=Decimal("70000"),
            latency_ms=1.25,
        ),
        ProviderVote.abstain("llm", "timeout after 30 s", latency_ms=30000.0),
    )
    return Decision(
        instrument="BTC-USD",
        action=Action.BUY,
        confidence=0.1 + 0.2,
        reasoning=reasoning,
        votes=votes,
        created_at=datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC) + timedelta(minutes=minutes),
        risk=RiskAssessment(
            approved=True,
            reason="within limits",
            size=Decimal("0.0150"),
            notional=Decimal("975.00"),
            checks={"exposure": "ok"},
        ),
    )


async def pydantic_page(container: Container, query: DecisionQuery) -> bytes:
    """What the endpoint served before it read stored JSON: validated, scrubbed, serialised."""
    async with container.uow_factory()() as uow:
        items, cursor = await uow.decisions.list(query)
    page = DecisionPage(items=[scrub_decision(d, scrub) for d in items], next_cursor=cursor)
    return encode_json(page.model_dump(mode="json"))


async def store(container: Container, *decisions: Decision) -> None:
    async with container.uow_factory()() as uow:
        for decision in decisions:
            await uow.decisions.add(decision)
        await uow.commit()


async def test_the_list_is_byte_identical_to_the_pydantic_path(tmp_path: Path) -> None:
    async with serving(api_settings(tmp_path)) as (client, container):
        for instrument in ("BTC-USD", "ETH-USD", "EUR-USD"):
            response = await client.post("/api/v1/decisions", json={"instrument": instrument})
            assert response.status_code == 201, response.text
        await store(container, *(handmade(m) for m in range(4)))
        queries = [
            ({}, DecisionQuery()),
            ({"limit": "2"}, DecisionQuery(limit=2)),
            ({"instrument": "btc-usd"}, DecisionQuery(instrument="BTC-USD")),
            ({"action": "BUY", "limit": "3"}, DecisionQuery(action=Action.BUY, limit=3)),
        ]
        for params, query in queries:
            served = await client.get("/api/v1/decisions", params=params)
            assert served.status_code == 200
            assert served.content == await pydantic_page(container, query), params
        # and page by page, following the cursors
        cursor: str | None = None
        pages = 0
        while True:
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            served = await client.get("/api/v1/decisions", params=params)
            expected = await pydantic_page(container, DecisionQuery(limit=2, cursor=cursor))
            assert served.content == expected
            pages += 1
            cursor = served.json()["next_cursor"]
            if cursor is None:
                break
        assert pages == 4  # 7 decisions, 2 a page


async def test_a_stored_secret_is_scrubbed_as_before(tmp_path: Path) -> None:
    async with serving(api_settings(tmp_path)) as (client, container):
        await store(container, handmade(0, reasoning=f"the bot said {TOKEN}"), handmade(1))
        served = await client.get("/api/v1/decisions")
        assert TOKEN not in served.text
        assert REDACTED in served.text
        assert served.content == await pydantic_page(container, DecisionQuery())


def test_the_whole_document_check_sees_every_string_the_scrubber_would_change() -> None:
    scrubber = SecretScrubber(["s3cret-value", 'quote"d-secret'])
    changed = [
        "it echoed s3cret-value back",
        f"line\n{TOKEN}",
        "db at postgresql://ffe:hunter2@db:5432/ffe",
        "tab\tredis://:pw@cache:6379",
    ]
    for text in changed:
        assert scrubber(text) != text
        assert scrubber.may_change_json(encode_json({"items": [{"reasoning": text}]}).decode())
    # a secret JSON would escape cannot be searched for in the document: always walk
    assert scrubber.may_change_json("{}")
    plain = SecretScrubber(["s3cret-value"])
    assert not plain.may_change_json(encode_json({"items": [{"reasoning": "trend up"}]}).decode())
