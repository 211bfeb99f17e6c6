"""Every endpoint of docs/api.md, against the embedded defaults on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import AsyncTestClient

from ffe_core.config import Settings
from ffe_core.domain.decisions import Action, Decision
from ffe_entrypoints.container import Container
from tests.api.conftest import api_settings, serving
from tests.waiting import wait_until

Client = AsyncTestClient[Litestar]


async def decide(client: Client, instrument: str = "BTC-USD", **extra: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/decisions", json={"instrument": instrument, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# health -------------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The embedded defaults with the longest check budget: these tests are about what health
    reports, and a first check starved of CPU on a loaded machine (load average 15 on 2 cores
    in one CI run) outlasted the default 3 s and was rightly reported down."""
    return api_settings(tmp_path, {"FFE_API__HEALTH_CHECK_TIMEOUT_SECONDS": "60"})


async def test_health_reports_each_component_and_the_version(client: Client) -> None:
    body = (await client.get("/health")).json()
    assert body["status"] == "ok", body
    assert body["mode"] == "paper"
    assert body["version"] == "0.1.0"
    assert set(body["components"]) == {"storage", "broker", "market_data", "agent"}
    assert all(c["status"] == "ok" for c in body["components"].values())
    assert isinstance(body["circuit_breakers"], list)


async def test_ready_and_live_probes(client: Client) -> None:
    assert (await client.get("/ready")).json() == {"status": "ready"}
    assert (await client.get("/live")).json() == {"status": "alive"}


class DownStorage:
    """Storage whose write check fails, as when the database has gone away."""

    async def write_check(self) -> None:
        raise ConnectionError("database is gone")


async def test_ready_is_503_when_storage_is_down(api: tuple[Client, Container]) -> None:
    client, container = api
    container.storage.override(providers.Object(DownStorage()))  # health is built lazily
    health = (await client.get("/health")).json()
    assert health["components"]["storage"]["status"] == "down"
    assert health["status"] != "ok"
    response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "not ready"}


async def test_metrics_exposes_the_seed_names_in_text_format(client: Client) -> None:
    await decide(client)
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for name in (
        "ffe_decisions_total",
        "ffe_decision_latency_seconds",
        "ffe_trades_total",
        "ffe_agent_uptime_seconds",
        "ffe_circuit_breaker_state",
        "ffe_api_requests_total",
        "ffe_api_latency_seconds",
    ):
        assert f"# TYPE {name}" in text, name
    assert 'path="/api/v1/decisions"' in text


# decisions ----------------------------------------------------------------------------------


async def test_created_decision_is_stored_and_fetched_by_id(client: Client) -> None:
    created = await decide(client)
    assert created["instrument"] == "BTC-USD"
    assert created["action"] in {"BUY", "SELL", "HOLD"}
    assert {v["provider"] for v in created["votes"]} == {"trend", "mean_reversion", "breakout"}
    fetched = await client.get(f"/api/v1/decisions/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created


async def test_decision_can_be_limited_to_named_providers(client: Client) -> None:
    created = await decide(client, providers=["trend"])
    assert [v["provider"] for v in created["votes"]] == ["trend"]


async def test_decision_for_unknown_instrument_is_404(client: Client) -> None:
    response = await client.post("/api/v1/decisions", json={"instrument": "NOPE-USD"})
    assert response.status_code == 404
    assert "NOPE-USD" in response.json()["detail"]


async def test_decision_with_a_disabled_provider_is_400_naming_it(client: Client) -> None:
    response = await client.post(
        "/api/v1/decisions", json={"instrument": "BTC-USD", "providers": ["oracle"]}
    )
    assert response.status_code == 400
    assert "providers" in response.json()["detail"]
    assert "oracle" in response.json()["detail"]


async def test_unknown_decision_id_is_404(client: Client) -> None:
    response = await client.get("/api/v1/decisions/does-not-exist")
    assert response.status_code == 404


async def test_list_filters_by_instrument_action_and_time(client: Client) -> None:
    made = [await decide(client, s) for s in ("BTC-USD", "ETH-USD", "BTC-USD")]
    page = (await client.get("/api/v1/decisions", params={"instrument": "btc-usd"})).json()
    assert [d["id"] for d in page["items"]] == [made[2]["id"], made[0]["id"]]  # newest first

    action = made[1]["action"]
    page = (await client.get("/api/v1/decisions", params={"action": action})).json()
    assert made[1]["id"] in [d["id"] for d in page["items"]]
    assert all(d["action"] == action for d in page["items"])

    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert (await client.get("/api/v1/decisions", params={"since": future})).json()["items"] == []
    assert (await client.get("/api/v1/decisions", params={"until": past})).json()["items"] == []
    assert len((await client.get("/api/v1/decisions", params={"since": past})).json()["items"]) == 3


async def test_cursor_pagination_walks_every_decision_once(client: Client) -> None:
    made = {(await decide(client))["id"] for _ in range(3)}
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/decisions", params=params)).json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)


# portfolio ----------------------------------------------------------------------------------


async def test_status_positions_orders_and_fills_follow_a_paper_trade(tmp_path: Path) -> None:
    settings = api_settings(tmp_path, adapters={"paper": {"market_fill": "quote"}})
    async with serving(settings) as (client, container):
        await _paper_trade_shows_everywhere(client, container)


async def _paper_trade_shows_everywhere(client: Client, container: Container) -> None:
    status = (await client.get("/api/v1/status")).json()
    assert status["mode"] == "paper"
    assert status["broker"] == "paper"
    assert Decimal(status["cash"]) == Decimal(status["initial_cash"]) == Decimal("100000")
    assert (await client.get("/api/v1/positions")).json() == {"items": []}
    assert (await client.get("/api/v1/orders")).json() == {"items": []}
    assert (await client.get("/api/v1/fills")).json() == {"items": []}

    # a manual order goes through the execution gate like any other (which writes the ledger)
    decision = Decision(
        instrument="BTC-USD", action=Action.BUY, confidence=0.9, suggested_size=Decimal("0.1")
    )
    async with container.uow_factory()() as uow:
        await uow.decisions.add(decision)
        await uow.commit()
    sent = await container.agent().gate.execute(decision)
    assert sent.sent and sent.order is not None, sent.refused
    coid = sent.order.client_order_id

    positions = (await client.get("/api/v1/positions")).json()["items"]
    assert [(p["instrument"], Decimal(p["quantity"])) for p in positions] == [
        ("BTC-USD", Decimal("0.1"))
    ]
    orders = (await client.get("/api/v1/orders", params={"instrument": "btc-usd"})).json()
    assert [o["client_order_id"] for o in orders["items"]] == [coid]
    assert (await client.get("/api/v1/orders", params={"instrument": "ETH-USD"})).json() == {
        "items": []
    }
    filled = await client.get("/api/v1/orders", params={"status": "filled"})
    assert [o["client_order_id"] for o in filled.json()["items"]] == [coid]
    fills = (await client.get("/api/v1/fills")).json()["items"]
    assert len(fills) == 1 and fills[0]["instrument"] == "BTC-USD"
    status = (await client.get("/api/v1/status")).json()
    assert Decimal(status["cash"]) < Decimal("100000")
    assert Decimal(status["gross_exposure"]) > 0


async def test_orders_and_fills_answer_the_newest_oldest_first(
    api: tuple[Client, Container], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest ``ORDERS_SHOWN`` orders and ``FILLS_SHOWN`` fills, read as such from the
    ledger (not the whole history cut down), in the order the full listing has them."""
    from ffe_core.domain.orders import Fill, Order, Side
    from ffe_entrypoints.api import portfolio

    client, container = api
    monkeypatch.setattr(portfolio, "ORDERS_SHOWN", 3)
    monkeypatch.setattr(portfolio, "FILLS_SHOWN", 2)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    async with container.uow_factory()() as uow:
        for i in range(5):
            order = Order(
                client_order_id=f"o{i}",
                instrument="BTC-USD",
                side=Side.BUY,
                quantity=Decimal(1),
                created_at=t0 + timedelta(minutes=i),
            )
            await uow.orders.add(order)
            fill = Fill(
                client_order_id=order.client_order_id,
                instrument="BTC-USD",
                side=Side.BUY,
                quantity=Decimal(1),
                price=Decimal(100 + i),
                ts=t0 - timedelta(minutes=i),
            )
            await uow.fills.add(fill)
        await uow.commit()
    orders = (await client.get("/api/v1/orders")).json()["items"]
    assert [o["client_order_id"] for o in orders] == ["o2", "o3", "o4"]
    fills = (await client.get("/api/v1/fills")).json()["items"]
    assert [f["client_order_id"] for f in fills] == ["o3", "o4"]


# agent ----------------------------------------------------------------------------------------


async def test_bot_lifecycle_and_409_on_double_start(client: Client) -> None:
    assert (await client.get("/api/bot/status")).json()["state"] == "stopped"
    assert (await client.post("/api/bot/pause")).status_code == 409  # not running

    started = await client.post("/api/bot/start")
    assert started.status_code == 200
    assert started.json()["state"] == "running"
    assert 0 <= started.json()["uptime_seconds"] < 60

    again = await client.post("/api/bot/start")
    assert again.status_code == 409
    assert "already running" in again.json()["detail"]

    assert (await client.post("/api/bot/pause")).json()["state"] == "paused"
    assert (await client.get("/api/bot/status")).json()["state"] == "paused"
    assert (await client.post("/api/bot/resume")).json()["state"] == "running"
    assert (await client.post("/api/bot/stop")).json()["state"] == "stopped"
    assert (await client.get("/api/bot/status")).json()["state"] == "stopped"


# approvals ------------------------------------------------------------------------------------


async def _pending_approval(client: Client, container: Container) -> str:
    decision = Decision.model_validate(await decide(client))
    approval = await container.approval_service().request(decision)
    return approval.id


async def test_approve_is_recorded_and_a_second_resolution_is_409(
    api: tuple[Client, Container],
) -> None:
    client, container = api
    approval_id = await _pending_approval(client, container)
    pending = (await client.get("/api/v1/approvals", params={"status": "pending"})).json()
    assert [a["id"] for a in pending["items"]] == [approval_id]

    first = await client.post(f"/api/v1/approvals/{approval_id}/approve", json={"by": "alice"})
    assert first.status_code == 200
    assert first.json()["status"] == "approved"
    assert first.json()["decided_by"] == "alice"
    repeat = await client.post(f"/api/v1/approvals/{approval_id}/approve")
    assert repeat.status_code == 409  # only a pending approval can be resolved
    assert "already approved by alice" in repeat.json()["detail"]
    late_reject = await client.post(f"/api/v1/approvals/{approval_id}/reject")
    assert late_reject.status_code == 409
    assert "already approved" in late_reject.json()["detail"]  # the true state, unchanged
    approved = (await client.get("/api/v1/approvals", params={"status": "approved"})).json()
    assert [a["id"] for a in approved["items"]] == [approval_id]
    assert (await client.get("/api/v1/approvals", params={"status": "pending"})).json() == {
        "items": []
    }


async def test_reject_without_body_names_the_api_client(api: tuple[Client, Container]) -> None:
    client, container = api
    approval_id = await _pending_approval(client, container)
    rejected = (await client.post(f"/api/v1/approvals/{approval_id}/reject")).json()
    assert rejected["status"] == "rejected"
    assert rejected["decided_by"].startswith("api:")
    listed = (await client.get("/api/v1/approvals", params={"status": "rejected"})).json()
    assert [a["id"] for a in listed["items"]] == [approval_id]


async def test_approve_at_a_smaller_size_and_bad_sizes_are_400(
    api: tuple[Client, Container],
) -> None:
    client, container = api
    sized = Decimal("0.02")
    decision = Decision(
        instrument="BTC-USD",
        action=Action.BUY,
        confidence=0.8,
        suggested_size=sized,
        reference_price=Decimal("50000"),
    )
    approval_id = (await container.approval_service().request(decision)).id
    url = f"/api/v1/approvals/{approval_id}/approve"
    for bad in ("0", "-1", "abc"):
        answer = await client.post(url, json={"size": bad})
        assert answer.status_code == 400, answer.text
    above = await client.post(url, json={"size": str(sized * 2)})
    assert above.status_code == 400
    assert "at most the sized" in above.json()["detail"]
    half = await client.post(url, json={"by": "alice", "size": str(sized / 2)})
    assert half.status_code == 200, half.text
    assert Decimal(half.json()["approved_size"]) == sized / 2
    assert half.json()["status"] == "approved"


async def test_parity_of_a_day_without_orders_has_no_score(client: Client) -> None:
    answer = await client.get("/api/v1/parity", params={"day": "2026-01-02"})
    assert answer.status_code == 200
    assert answer.json()["score"] is None
    assert answer.json()["day"] == "2026-01-02"
    assert (await client.get("/api/v1/parity", params={"day": "yesterday"})).status_code == 400


async def test_unknown_approval_is_404(client: Client) -> None:
    for verb in ("approve", "reject"):
        assert (await client.post(f"/api/v1/approvals/nope/{verb}")).status_code == 404


# providers, instruments, strategies ----------------------------------------------------------


async def test_providers_list_enabled_providers_with_default_weights(client: Client) -> None:
    body = (await client.get("/api/v1/providers")).json()
    assert [p["provider"] for p in body["items"]] == ["breakout", "mean_reversion", "trend"]
    assert all(p["enabled"] and p["weight"] == 1.0 for p in body["items"])
    assert isinstance(body["weight_history"], list)


async def test_instruments_and_strategies(client: Client) -> None:
    instruments = (await client.get("/api/v1/instruments")).json()["items"]
    assert {"BTC-USD", "ETH-USD"} <= {i["symbol"] for i in instruments}
    by_symbol = {i["symbol"]: i for i in instruments}
    # the dashboard shows prices to the instrument's increment (EUR-USD to 5 decimals)
    assert by_symbol["EUR-USD"]["price_increment"] == "0.00001"
    assert by_symbol["BTC-USD"]["size_increment"] == "1E-8"
    strategies = (await client.get("/api/v1/strategies")).json()["items"]
    sma = next(s for s in strategies if s["name"] == "sma_cross")
    assert sma["params"]


# backtests -----------------------------------------------------------------------------------


async def test_backtest_submit_poll_and_result(client: Client) -> None:
    submitted = await client.post(
        "/api/v1/backtests", json={"instrument": "BTC-USD", "strategy": "sma_cross", "bars": 300}
    )
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    assert job["status"] in {"queued", "running"}

    async def finished() -> dict[str, Any] | None:
        polled: dict[str, Any] = (await client.get(f"/api/v1/backtests/{job['id']}")).json()
        return polled if polled["status"] in {"done", "failed"} else None

    job = await wait_until(finished, "the backtest job to end")
    assert job["status"] == "done", job["error"]
    assert job["progress"] == 1.0
    assert set(job["result"]) >= {"stats", "equity", "drawdown", "trades"}
    listed = (await client.get("/api/v1/backtests")).json()["items"]
    assert [(j["id"], j["result"]) for j in listed] == [(job["id"], None)]


async def test_backtest_rejects_unknown_strategy_and_bad_params(client: Client) -> None:
    unknown = await client.post("/api/v1/backtests", json={"strategy": "astrology"})
    assert unknown.status_code == 400
    assert "astrology" in unknown.json()["detail"]
    bad_param = await client.post(
        "/api/v1/backtests", json={"strategy": "sma_cross", "params": {"no_such_param": 3}}
    )
    assert bad_param.status_code == 400
    assert "no_such_param" in bad_param.json()["detail"]
    too_few_bars = await client.post("/api/v1/backtests", json={"bars": 5})
    assert too_few_bars.status_code == 400
    assert "bars" in too_few_bars.text
    assert (await client.get("/api/v1/backtests/nope")).status_code == 404


# telegram and dashboard ----------------------------------------------------------------------


async def test_telegram_webhook_is_404_when_telegram_is_off(client: Client) -> None:
    response = await client.post("/webhook/telegram", json={"update_id": 1})
    assert response.status_code == 404


def fake_dist(directory: Path) -> Path:
    dist = directory / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>ffe-test-dashboard</title>")
    (dist / "assets" / "app.js").write_text("console.log('ffe')")
    return dist


async def test_dashboard_is_served_with_spa_fallback(tmp_path: Path) -> None:
    settings = api_settings(tmp_path, api={"frontend_dist": str(fake_dist(tmp_path))})
    async with serving(settings) as (client, _):
        for path in ("/", "/agent-control", "/analytics", "/optimization", "/decisions/d-1"):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert "ffe-test-dashboard" in response.text, path
        asset = await client.get("/assets/app.js")
        assert asset.status_code == 200 and "console.log" in asset.text
        assert (await client.get("/assets/missing.js")).status_code == 404
