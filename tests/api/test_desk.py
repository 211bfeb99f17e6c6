"""The desk routes: cancel a working order, flatten one position, flatten all — each through the
execution gate (the ledger records every order and fill), audited, 404/409 with the reason."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

from litestar import Litestar
from litestar.testing import AsyncTestClient

from ffe_core.domain.decisions import Action, Decision
from ffe_core.domain.orders import Order, OrderStatus, Side
from ffe_core.ports.control import AUDIT_LOGGER
from ffe_entrypoints.container import Container
from tests.api.conftest import api_settings, serving

Client = AsyncTestClient[Litestar]

RESTING = {
    # market orders wait for the next bar's open, and a bar lasts an hour: an order stays working
    "paper": {"market_fill": "next_bar_open"},
    "bundled": {"seconds_per_bar": 3600},
}


class _Audit(logging.Handler):
    """The audit log's records (the app's logging set-up replaces pytest's capture handler)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def __enter__(self) -> _Audit:
        logging.getLogger(AUDIT_LOGGER).addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger(AUDIT_LOGGER).removeHandler(self)


async def _trade(container: Container, action: Action, size: str, symbol: str = "BTC-USD") -> str:
    """A decision sent through the execution gate, as an approved one would be."""
    decision = Decision(
        instrument=symbol, action=action, confidence=0.9, suggested_size=Decimal(size)
    )
    async with container.uow_factory()() as uow:
        await uow.decisions.add(decision)
        await uow.commit()
    result = await container.agent().gate.execute(decision)
    assert result.order is not None and result.refused is None, result.refused
    return result.order.client_order_id


async def test_cancel_a_working_order_goes_through_the_gate_and_is_audited(
    tmp_path: Path,
) -> None:
    async with serving(api_settings(tmp_path, adapters=RESTING)) as (client, container):
        coid = await _trade(container, Action.BUY, "0.1")
        orders = (await client.get("/api/v1/orders")).json()["items"]
        assert [(o["client_order_id"], o["status"]) for o in orders] == [(coid, "accepted")]

        with _Audit() as audit:
            canceled = await client.post(f"/api/v1/orders/{coid}/cancel")
        assert canceled.status_code == 200, canceled.text
        assert canceled.json()["status"] == "canceled"
        # the ledger and the venue agree: canceled in both
        ledger = (await client.get("/api/v1/orders", params={"status": "canceled"})).json()
        assert [o["client_order_id"] for o in ledger["items"]] == [coid]
        venue = await container.broker().get_order(coid)
        assert venue is not None and venue.status.value == "canceled"
        assert any("api:testclient canceled order " + coid in line for line in audit.lines)

        again = await client.post(f"/api/v1/orders/{coid}/cancel")
        assert again.status_code == 409
        assert "already canceled" in again.json()["detail"]
        unknown = await client.post("/api/v1/orders/no-such-order/cancel")
        assert unknown.status_code == 404
        assert "no order 'no-such-order'" in unknown.json()["detail"]


async def test_cancel_of_a_filled_order_is_409_naming_its_state(tmp_path: Path) -> None:
    async with serving(api_settings(tmp_path)) as (client, container):
        coid = await _trade(container, Action.BUY, "0.1")
        refused = await client.post(f"/api/v1/orders/{coid}/cancel")
        assert refused.status_code == 409
        assert f"order {coid} is already filled" in refused.json()["detail"]


async def test_flatten_one_position_sends_the_opposite_order_through_the_gate(
    tmp_path: Path,
) -> None:
    async with serving(api_settings(tmp_path)) as (client, container):
        await _trade(container, Action.BUY, "0.1")
        with _Audit() as audit:
            flat = await client.post("/api/v1/positions/btc-usd/flatten")
        assert flat.status_code == 200, flat.text
        body = flat.json()
        assert body["instrument"] == "BTC-USD" and Decimal(body["held"]) == Decimal("0.1")
        assert body["sent"] is True and body["order"]["side"] == "SELL"
        assert Decimal(body["order"]["quantity"]) == Decimal("0.1")
        assert (await client.get("/api/v1/positions")).json() == {"items": []}
        # the order is in the ledger with the stored decision that names who asked
        decision = (await client.get(f"/api/v1/decisions/{body['decision_id']}")).json()
        assert decision["aggregation"] == "manual"
        assert decision["reasoning"] == "flatten requested by api:testclient"
        assert any("api:testclient flattened BTC-USD" in line for line in audit.lines)

        none = await client.post("/api/v1/positions/BTC-USD/flatten")
        assert none.status_code == 404
        assert "no open position in BTC-USD" in none.json()["detail"]
        bad = await client.post("/api/v1/positions/not a symbol!/flatten")
        assert bad.status_code == 400


async def test_flatten_is_409_with_the_gates_reason_while_an_order_is_working(
    tmp_path: Path,
) -> None:
    async with serving(api_settings(tmp_path)) as (client, container):
        await _trade(container, Action.BUY, "0.1")
        # a send whose outcome is unknown (the venue never answered): working in the ledger
        stuck = Order(
            client_order_id="stuck-1",
            instrument="BTC-USD",
            side=Side.BUY,
            quantity=Decimal("0.1"),
        ).transition(OrderStatus.SUBMITTED)
        async with container.uow_factory()() as uow:
            await uow.orders.add(stuck)
            await uow.commit()
        refused = await client.post("/api/v1/positions/BTC-USD/flatten")
        assert refused.status_code == 409
        assert "order stuck-1 on BTC-USD is still working" in refused.json()["detail"]
        unknown = await client.post("/api/v1/orders/stuck-1/cancel")
        assert unknown.status_code == 409
        assert "the venue does not know order stuck-1" in unknown.json()["detail"]
        assert len((await client.get("/api/v1/positions")).json()["items"]) == 1


async def test_flatten_all_closes_every_position_and_reports_each(tmp_path: Path) -> None:
    async with serving(api_settings(tmp_path)) as (client, container):
        await _trade(container, Action.BUY, "0.1", "BTC-USD")
        await _trade(container, Action.SELL, "1", "ETH-USD")  # a short
        flat = await client.post("/api/v1/positions/flatten")
        assert flat.status_code == 200, flat.text
        items = flat.json()["items"]
        assert [(i["instrument"], i["sent"], i["order"]["side"]) for i in items] == [
            ("BTC-USD", True, "SELL"),
            ("ETH-USD", True, "BUY"),
        ]
        assert (await client.get("/api/v1/positions")).json() == {"items": []}
        empty = await client.post("/api/v1/positions/flatten")
        assert empty.status_code == 200 and empty.json() == {"items": []}


async def test_flatten_passes_a_tripped_kill_switch_because_it_reduces(tmp_path: Path) -> None:
    async with serving(api_settings(tmp_path)) as (client, container):
        await _trade(container, Action.BUY, "0.1")
        watch = container.risk_state()  # the equity watch every process shares
        now = container.clock().now()
        watch.update_equity(Decimal(100000), now)
        assert watch.update_equity(Decimal(1), now)  # tripped
        assert (await client.get("/api/bot/status")).json()["kill_switch"]["tripped"] is True
        flat = await client.post("/api/v1/positions/BTC-USD/flatten")
        assert flat.status_code == 200, flat.text
        assert flat.json()["sent"] is True
