"""Tiered approvals end to end through the real app and the fake Telegram Bot API.

Below ``approvals.auto_below_notional`` the agent's order is sent at once; at or above
``approve_above_notional`` an approval card (notional, exposure and VaR before -> after,
agreement, expected fill, expiry) waits with Approve / Reject / ½ / ¼ buttons, and a ½ tap has
the execution gate send half the sized order. The rest is as in ``test_telegram_approval``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from ffe_adapters.brokers.paper.execution import is_bracket
from ffe_core.domain.orders import client_order_id_for
from ffe_core.ports.clock import Clock, SystemClock
from ffe_entrypoints.api.app import create_app
from ffe_entrypoints.container import Container, build_container
from tests.e2e.test_telegram_approval import (
    INSTRUMENT,
    BuyVoter,
    Call,
    Client,
    FakeBotApi,
    approval_messages,
    callback_update,
    e2e_settings,
    fills_of,
    post_update,
    telegram_api,
)
from tests.waiting import wait_until

__all__ = ["telegram_api"]  # the fake Bot API fixture, shared with test_telegram_approval


class StandingClock(SystemClock):
    """Real sleeps at a time that stands still, so the replayed market (a bar every half
    second) does not move between a decision and its approval card: the card's expected fill
    is then comparable with the decision's reference price. A run whose decision and card fell
    either side of a bar boundary failed that comparison (seen in CI)."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at


async def running_app(
    tmp_path: Path, api: FakeBotApi, approvals: dict[str, Any], clock: Clock | None = None
) -> AsyncIterator[tuple[Client, Container]]:
    container = build_container(e2e_settings(tmp_path, api.url, approvals))
    if clock is not None:
        container.clock.override(providers.Object(clock))
    container.decision_providers.override(
        providers.Object({"buy_a": BuyVoter("buy_a"), "buy_b": BuyVoter("buy_b")})
    )
    async with AsyncTestClient(create_app(container, start_agent=False)) as client:
        started = await client.post("/api/bot/start")
        assert started.status_code == 200, started.text
        yield client, container
        await client.post("/api/bot/stop")


async def entries(client: Client) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = (await client.get("/api/v1/orders")).json()["items"]
    return [o for o in orders if not is_bracket(o["client_order_id"])]


@pytest.fixture
async def auto_app(
    tmp_path: Path, telegram_api: FakeBotApi
) -> AsyncIterator[tuple[Client, Container]]:
    tiers = {"policy": "tiered", "auto_below_notional": "1e12", "approve_above_notional": "1e12"}
    async for app in running_app(tmp_path, telegram_api, tiers):
        yield app


@pytest.fixture
async def card_app(
    tmp_path: Path, telegram_api: FakeBotApi
) -> AsyncIterator[tuple[Client, Container]]:
    tiers = {
        "policy": "tiered",
        "auto_below_notional": "1",
        "approve_above_notional": "1",
        "expiry_seconds": 600,
        # the replay moves a bar every half second; drift and age are proven by the money tests
        "max_price_drift": 1,
    }
    async for app in running_app(tmp_path, telegram_api, tiers, StandingClock(datetime.now(UTC))):
        yield app


async def test_an_order_below_the_auto_tier_is_executed_without_asking(
    auto_app: tuple[Client, Container], telegram_api: FakeBotApi
) -> None:
    client, _ = auto_app

    async def filled() -> list[dict[str, Any]]:
        return [o for o in await entries(client) if o["status"] == "filled"]

    [order] = await wait_until(filled, "the agent's order to fill without an approval")
    assert order["instrument"] == INSTRUMENT
    assert (await client.get("/api/v1/approvals")).json()["items"] == []
    assert approval_messages(telegram_api) == []


async def test_an_order_above_the_approval_tier_shows_a_card_and_a_half_tap_halves_it(
    card_app: tuple[Client, Container], telegram_api: FakeBotApi
) -> None:
    client, container = card_app

    async def shown() -> list[Call]:
        return approval_messages(telegram_api)

    async def presented() -> list[dict[str, Any]]:
        pending = (await client.get("/api/v1/approvals", params={"status": "pending"})).json()
        items: list[dict[str, Any]] = pending["items"]
        return items if any(a["channel_ref"] for a in items) else []

    [request] = await wait_until(shown, "the approval card with buttons")
    [approval] = await wait_until(presented, "the approval to record its Telegram message")
    assert await fills_of(client, client_order_id_for(approval["decision_id"])) == []

    # the card: notional, exposure and VaR before -> after, agreement, expected fill, expiry
    card = approval["card"]
    sized = Decimal(approval["size"])
    assert Decimal(approval["notional"]) > 1
    assert Decimal(card["exposure_before"]) == 0
    assert Decimal(card["exposure_after"]) > 0
    assert Decimal(card["var_before"]) == 0
    assert Decimal(card["var_after"]) > 0, "the position's one-bar VaR"
    assert (card["agreeing"], card["voters"]) == (2, 2)
    assert Decimal(card["expected_price"]) >= Decimal(approval["reference_price"])
    text = request.params["text"]
    assert f"notional <b>{Decimal(approval['notional']):,.2f}</b>" in text
    assert f"VaR 95% 0.00 → <b>{Decimal(card['var_after']):,.2f}</b>" in text
    assert "2/2 providers agree" in text
    assert "expires in 10m 00s" in text
    [_, [half, _quarter]] = request.json("reply_markup")["inline_keyboard"]
    assert half["callback_data"] == f"appr:{approval['id']}:h"

    # Alice taps ½: approved at half the sized order, which the gate sends and the venue fills
    update = callback_update(approval["id"], "h", update_id=700000401)
    _, _, message_id = approval["channel_ref"].partition(":")
    update["callback_query"]["message"]["message_id"] = int(message_id)
    response = await post_update(client, update)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "approval"

    instrument = container.settings().instrument(INSTRUMENT)
    half_size = instrument.round_size(sized / 2)
    assert 0 < half_size < sized
    [fill] = await fills_of(client, client_order_id_for(approval["decision_id"]))
    assert Decimal(fill["quantity"]) == half_size
    [done] = (await client.get("/api/v1/approvals", params={"status": "approved"})).json()["items"]
    assert Decimal(done["approved_size"]) == sized / 2
    assert done["decided_by"] == "telegram:@alice"
    [answer] = telegram_api.called("answerCallbackQuery")
    assert answer.params["text"] == "✅ Approved by @alice"
    assert "approved size" in telegram_api.called("editMessageText")[-1].params["text"]
