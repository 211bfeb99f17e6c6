"""The Broker port's contract, run by every built-in broker on a venue that keeps state.

What a broker promises the execution gate: orders keyed by client order id and never placed
twice, fills with stable ids (of one order and of the account, however many pages the venue
splits them into), a portfolio that shows what filled, cancels of resting orders, and a declared
``venue`` kind. A venue-only behaviour (rejections, outages, timeouts) is in each adapter's tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ffe_core.domain.orders import Order, OrderStatus, OrderType, Side
from ffe_core.ports.brokers import Broker
from tests.contract.venues import BROKERS, PAGE, Venue, venue


@pytest.fixture(params=BROKERS)
def on(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Venue]:
    with venue(request.param, tmp_path, monkeypatch) as built:
        yield built


def buy(v: Venue, coid: str, **kw: object) -> Order:
    return Order.model_validate(
        {
            "client_order_id": coid,
            "instrument": v.symbol,
            "side": Side.BUY,
            "quantity": v.quantity,
            **kw,
        }
    )


async def test_declares_the_port_and_what_its_orders_reach(on: Venue) -> None:
    assert isinstance(on.broker, Broker)
    assert on.broker.venue is on.expected
    assert on.broker.name == on.name


async def test_a_market_order_fills_and_its_fills_keep_their_ids(on: Venue) -> None:
    placed = await on.broker.submit_order(buy(on, "ffe-contract-1"))
    assert placed.client_order_id == "ffe-contract-1"
    known = await on.broker.get_order("ffe-contract-1")
    assert known is not None and known.status is OrderStatus.FILLED
    fills = await on.broker.list_fills("ffe-contract-1")
    assert sum(f.quantity for f in fills) == on.quantity
    assert {f.client_order_id for f in fills} == {"ffe-contract-1"}
    again = await on.broker.list_fills("ffe-contract-1")
    assert [f.fill_id for f in again] == [f.fill_id for f in fills]
    account = {f.fill_id for f in await on.broker.list_fills()}
    assert {f.fill_id for f in fills} <= account


async def test_resubmitting_a_client_order_id_places_nothing_new(on: Venue) -> None:
    first = await on.broker.submit_order(buy(on, "ffe-contract-1"))
    held = (await on.broker.get_portfolio()).position(on.symbol).quantity
    second = await on.broker.submit_order(buy(on, "ffe-contract-1"))
    assert second.venue_order_id == first.venue_order_id
    assert (await on.broker.get_portfolio()).position(on.symbol).quantity == held == on.quantity
    assert len(await on.broker.list_fills("ffe-contract-1")) == len(
        await on.broker.list_fills("ffe-contract-1")
    )
    assert sum(f.quantity for f in await on.broker.list_fills()) == on.quantity


async def test_an_order_the_venue_never_saw_is_none(on: Venue) -> None:
    assert await on.broker.get_order("ffe-never-sent") is None
    assert await on.broker.list_fills("ffe-never-sent") == []


async def test_the_portfolio_shows_what_filled(on: Venue) -> None:
    before = await on.broker.get_portfolio()
    await on.broker.submit_order(buy(on, "ffe-contract-1"))
    after = await on.broker.get_portfolio()
    assert after.position(on.symbol).quantity == before.position(on.symbol).quantity + on.quantity
    assert after.cash < before.cash


async def test_orders_and_fills_beyond_the_first_listing_page_are_found(on: Venue) -> None:
    """More orders than one listing page holds: the oldest is still found by client id, and
    the account's fills of every page reach the caller (Coinbase pages by ``cursor``)."""
    coids = [f"ffe-contract-{n}" for n in range(1, PAGE + 3)]
    for coid in coids:
        await on.broker.submit_order(buy(on, coid))
    oldest = await on.broker.get_order(coids[0])
    assert oldest is not None and oldest.status is OrderStatus.FILLED
    account = await on.broker.list_fills()
    assert {f.client_order_id for f in account} >= set(coids)
    assert sum(f.quantity for f in account) == on.quantity * len(coids)


async def test_a_resting_order_beyond_the_first_page_can_be_cancelled(on: Venue) -> None:
    if on.resting_limit is None:
        pytest.skip(f"the {on.name} venue fills every order at once: nothing rests")
    resting = buy(on, "ffe-contract-rest", type=OrderType.LIMIT, limit_price=on.resting_limit)
    placed = await on.broker.submit_order(resting)
    assert placed.status is OrderStatus.ACCEPTED
    for n in range(PAGE + 1):  # newer orders push it past the first page
        await on.broker.submit_order(buy(on, f"ffe-contract-{n}"))
    canceled = await on.broker.cancel_order("ffe-contract-rest")
    assert canceled.status is OrderStatus.CANCELED
    seen = await on.broker.get_order("ffe-contract-rest")
    assert seen is not None and seen.status is OrderStatus.CANCELED
