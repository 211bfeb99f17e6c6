"""CoinbaseBroker: the Broker port over Coinbase Advanced Trade (spot).

Orders carry ffe's client order id; Coinbase answers a duplicate id with the existing order, and
before any (re)send this broker lists recent orders of the product to find it by that id.
Market and GTC limit orders are supported. A long entry that carries both a stop-loss and a
take-profit is protected once filled by a ``trigger_bracket_gtc`` SELL order (take-profit as its
limit price, stop-loss as its stop trigger; Coinbase's attached orders are not live in the SDK),
placed idempotently under the client id ``<entry id>-br``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from ffe_adapters.brokers.coinbase.client import CoinbaseClient, classify
from ffe_adapters.brokers.coinbase.config import CoinbaseOptions
from ffe_adapters.brokers.common import read_with_retry, submit_idempotently
from ffe_core.config import CoreView
from ffe_core.domain.errors import BrokerError, InvalidOrder, NotFoundError
from ffe_core.domain.orders import Fill, Order, OrderStatus, OrderType, Side
from ffe_core.domain.portfolio import Portfolio, Position, TradingMode
from ffe_core.ports.brokers import VenueKind

ORDER_IDS_PER_REQUEST = 50
"""Order ids asked for in one List Orders request (they travel in the query string)."""

STATUS: dict[str, OrderStatus] = {
    "PENDING": OrderStatus.SUBMITTED,
    "QUEUED": OrderStatus.SUBMITTED,
    "UNKNOWN_ORDER_STATUS": OrderStatus.SUBMITTED,
    "OPEN": OrderStatus.ACCEPTED,
    "CANCEL_QUEUED": OrderStatus.ACCEPTED,
    "FILLED": OrderStatus.FILLED,
    "CANCELLED": OrderStatus.CANCELED,
    "EXPIRED": OrderStatus.EXPIRED,
    "FAILED": OrderStatus.REJECTED,
}


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _base_quantity(
    venue: dict[str, Any],
    params: dict[str, Any],
    filled: Decimal,
    avg: Decimal,
    local: Order | None,
) -> Decimal:
    """The order's size in base units. A market order may be sized by ``quote_size`` alone
    (``base_size`` absent): its base size is what filled, or the quote size at its price."""
    base = _dec(params.get("base_size")) or (local.quantity if local else Decimal(0))
    if base > 0:
        return base
    if filled > 0:
        return filled
    quote = _dec(params.get("quote_size"))
    price = avg or _dec(params.get("limit_price"))
    if quote > 0 and price > 0:
        return quote / price
    raise BrokerError(
        f"coinbase order {venue.get('order_id')} is sized as {quote} {venue.get('product_id')} "
        "in quote currency and never filled: its base size is unknown"
    )


def order_from_venue(venue: dict[str, Any], symbol: str, local: Order | None = None) -> Order:
    """A Coinbase order object as a domain Order (``local`` supplies what Coinbase omits)."""
    config: dict[str, Any] = venue.get("order_configuration") or {}
    kind, params = next(iter(config.items()), ("market_market_ioc", {}))
    params = params if isinstance(params, dict) else {}
    filled = _dec(venue.get("filled_size"))
    avg = _dec(venue.get("average_filled_price"))
    status = STATUS.get(str(venue.get("status")), OrderStatus.SUBMITTED)
    if status in (OrderStatus.ACCEPTED, OrderStatus.SUBMITTED) and filled > 0:
        status = OrderStatus.PARTIALLY_FILLED
    order_type = (
        OrderType.MARKET
        if kind.startswith("market")
        else OrderType.STOP
        if kind.startswith("stop")
        else OrderType.LIMIT
    )
    quantity = _base_quantity(venue, params, filled, avg, local)
    data: dict[str, Any] = {
        **(local.model_dump() if local else {}),
        "client_order_id": venue.get("client_order_id") or (local and local.client_order_id),
        "instrument": symbol,
        "side": Side(str(venue.get("side", "BUY")).upper()),
        "type": order_type,
        "quantity": quantity,
        "limit_price": _dec(params.get("limit_price")) or None,
        "stop_price": _dec(params.get("stop_price")) or None,
        "status": status,
        "filled_quantity": min(filled, quantity),
        "average_fill_price": avg or None,
        "venue_order_id": venue.get("order_id"),
        "reject_reason": venue.get("reject_message") or venue.get("reject_reason") or None,
    }
    if order_type is OrderType.MARKET:
        data["limit_price"] = data["stop_price"] = None
    if order_type is OrderType.LIMIT:
        data["stop_price"] = None
    if status is not OrderStatus.REJECTED:
        data["reject_reason"] = None
    if venue.get("created_time"):
        data["created_at"] = datetime.fromisoformat(
            str(venue["created_time"]).replace("Z", "+00:00")
        )
    return Order.model_validate(data)


class CoinbaseBroker:
    """Coinbase Advanced Trade spot account as a Broker."""

    name = "coinbase"

    def __init__(
        self, client: CoinbaseClient, options: CoinbaseOptions, settings: CoreView
    ) -> None:
        self._client = client
        self._opts = options
        self._settings = settings
        self.mode: TradingMode = settings.trading.mode
        self.venue: VenueKind = options.venue

    async def submit_order(self, order: Order) -> Order:
        """Place ``order`` once: a known client order id returns the venue's order."""
        order = self._rounded(order)
        placed: Order = await submit_idempotently(
            lookup=lambda: self._read(lambda: self._find(order.client_order_id, order)),
            create=lambda: self._create(order),
            attempts=self._opts.retries,
            backoff=self._opts.retry_backoff_seconds,
        )
        if order.side is Side.BUY and order.stop_loss and order.take_profit:
            filled = placed
            if placed.status is not OrderStatus.FILLED:
                filled = (
                    await self._read(lambda: self._find(order.client_order_id, order)) or placed
                )
            if filled.filled_quantity > 0:
                await self._protect(order, filled.filled_quantity)
            return filled  # what the venue reports now (a market order has usually filled)
        return placed

    async def _protect(self, entry: Order, size: Decimal) -> Order:
        """The entry's bracket: one SELL ``trigger_bracket_gtc`` (take-profit limit, stop trigger)."""
        assert entry.stop_loss is not None and entry.take_profit is not None
        bracket = Order(
            client_order_id=f"{entry.client_order_id[:56]}-br",
            decision_id=entry.decision_id,
            instrument=entry.instrument,
            side=Side.SELL,
            type=OrderType.LIMIT,
            quantity=size,
            limit_price=entry.take_profit,
        )
        config = {
            "trigger_bracket_gtc": {
                "base_size": format(size, "f"),
                "limit_price": format(entry.take_profit, "f"),
                "stop_trigger_price": format(entry.stop_loss, "f"),
            }
        }
        placed: Order = await submit_idempotently(
            lookup=lambda: self._read(lambda: self._find(bracket.client_order_id, bracket)),
            create=lambda: self._create(bracket, config),
            attempts=self._opts.retries,
            backoff=self._opts.retry_backoff_seconds,
        )
        return placed

    async def get_order(self, client_order_id: str) -> Order | None:
        found: Order | None = await self._read(lambda: self._find(client_order_id, None))
        return found

    async def cancel_order(self, client_order_id: str) -> Order:
        order = await self.get_order(client_order_id)
        if order is None:
            raise NotFoundError(f"coinbase has no order with client id {client_order_id}")
        if order.status.is_terminal:
            return order
        answer = await self._client.call("cancel_orders", order_ids=[order.venue_order_id])
        result = (answer.get("results") or [{}])[0]
        if not result.get("success"):
            raise InvalidOrder(
                f"coinbase could not cancel {client_order_id}: "
                f"{result.get('failure_reason', 'unknown reason')}"
            )
        return order.transition(OrderStatus.CANCELED)

    async def get_portfolio(self) -> Portfolio:
        """Cash is the quote-currency balance (available + hold); other balances are positions."""
        cash, positions, cursor = Decimal(0), {}, None
        while True:
            page = await self._read(
                lambda c=cursor: self._client.call("get_accounts", limit=250, cursor=c)
            )
            for acct in page.get("accounts", []):
                amount = _dec((acct.get("available_balance") or {}).get("value"))
                amount += _dec((acct.get("hold") or {}).get("value"))
                currency = str(acct.get("currency", ""))
                if currency == self._opts.quote_currency:
                    cash += amount
                elif amount != 0:
                    symbol = self._opts.symbol(f"{currency}-{self._opts.quote_currency}")
                    positions[symbol] = Position(instrument=symbol, quantity=amount)
            cursor = page.get("cursor")
            if not page.get("has_next") or not cursor:
                break
        return Portfolio(
            cash=cash, positions=positions, currency=self._opts.quote_currency, mode=self.mode
        )

    async def list_fills(self, client_order_id: str | None = None) -> list[Fill]:
        """Fills of one order, or of the account (every page of List Fills, newest first), each
        under the client order id of the order it filled."""
        if client_order_id is not None:
            order = await self.get_order(client_order_id)
            if order is None or not order.venue_order_id:
                return []
            fills = await self._read(
                lambda: self._listing("get_fills", "fills", order_ids=[order.venue_order_id])
            )
            return [
                self._to_fill(f, order) for f in fills if f.get("order_id") == order.venue_order_id
            ]
        fills = await self._read(lambda: self._listing("get_fills", "fills"))
        wanted = list(dict.fromkeys(str(f["order_id"]) for f in fills if f.get("order_id")))
        by_venue: dict[str, Order] = {}
        for start in range(0, len(wanted), ORDER_IDS_PER_REQUEST):
            chunk = wanted[start : start + ORDER_IDS_PER_REQUEST]
            listed = await self._read(
                lambda ids=chunk: self._listing("list_orders", "orders", order_ids=ids)
            )
            by_venue.update(
                {
                    str(o["order_id"]): self._to_order(o)
                    for o in listed
                    if o.get("order_id") in chunk
                }
            )
        return [
            self._to_fill(f, by_venue[f["order_id"]])
            for f in fills
            if f.get("order_id") in by_venue
        ]

    async def close(self) -> None:
        self._client.close()

    # --- internals ---------------------------------------------------------------------------

    async def _read(self, fn: Any) -> Any:
        return await read_with_retry(
            fn, attempts=self._opts.retries, max_wait=self._opts.max_retry_wait_seconds
        )

    def _rounded(self, order: Order) -> Order:
        instrument = self._settings.instrument(order.instrument)
        if instrument is None:
            raise InvalidOrder(f"unknown instrument {order.instrument!r}")
        if order.type is OrderType.STOP:
            raise InvalidOrder("coinbase broker: stop entry orders are not supported")
        qty = instrument.round_size(order.quantity)
        if qty <= 0:
            raise InvalidOrder(
                f"{order.client_order_id}: size {order.quantity} rounds to 0 at increment "
                f"{instrument.size_increment}"
            )
        limit = instrument.round_price(order.limit_price) if order.limit_price else None
        return order.model_copy(update={"quantity": qty, "limit_price": limit})

    def _to_order(self, venue: dict[str, Any], local: Order | None = None) -> Order:
        return order_from_venue(venue, self._opts.symbol(str(venue.get("product_id"))), local)

    def _to_fill(self, f: dict[str, Any], order: Order) -> Fill:
        price, size = _dec(f.get("price")), _dec(f.get("size"))
        quantity = size / price if f.get("size_in_quote") else size
        return Fill(
            fill_id=str(f.get("entry_id") or f.get("trade_id")),
            client_order_id=order.client_order_id,
            instrument=order.instrument,
            side=Side(str(f.get("side", order.side)).upper()),
            quantity=quantity,
            price=price,
            commission=_dec(f.get("commission")),
            ts=datetime.fromisoformat(str(f["trade_time"]).replace("Z", "+00:00")),
        )

    async def _pages(self, method: str, key: str, **params: Any) -> AsyncIterator[list[Any]]:
        """The pages of a listing, followed through ``cursor`` while the venue says ``has_next``
        (List Fills sends only ``cursor``), at most ``max_pages`` of them."""
        cursor: str | None = None
        for _ in range(self._opts.max_pages):
            page = await self._client.call(
                method, limit=self._opts.order_lookup_limit, cursor=cursor, **params
            )
            yield list(page.get(key) or [])
            following = str(page.get("cursor") or "") or None
            if page.get("has_next") is False or following is None or following == cursor:
                return
            cursor = following

    async def _listing(self, method: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paged listing."""
        return [item async for page in self._pages(method, key, **params) for item in page]

    async def _find(self, client_order_id: str, local: Order | None) -> Order | None:
        """The venue's order by client id, looked for page by page (newest first)."""
        params: dict[str, Any] = {}
        if local is not None:
            params["product_ids"] = [self._opts.product_id(local.instrument)]
        async for page in self._pages("list_orders", "orders", **params):
            for venue in page:
                if venue.get("client_order_id") == client_order_id:
                    return self._to_order(venue, local)
        return None

    async def _create(self, order: Order, configuration: dict[str, Any] | None = None) -> Order:
        size = format(order.quantity, "f")
        if configuration is not None:
            config: dict[str, Any] = configuration
        elif order.type is OrderType.MARKET:
            config = {"market_market_ioc": {"base_size": size}}
        else:
            config = {
                "limit_limit_gtc": {
                    "base_size": size,
                    "limit_price": format(order.limit_price, "f"),
                    "post_only": False,
                }
            }
        answer = await self._client.call(
            "create_order",
            client_order_id=order.client_order_id,
            product_id=self._opts.product_id(order.instrument),
            side=order.side.value,
            order_configuration=config,
        )
        if not answer.get("success"):
            err = answer.get("error_response") or {}
            code = " ".join(
                str(err.get(k) or "")
                for k in ("error", "preview_failure_reason", "new_order_failure_reason")
            ).strip()
            raise classify(
                code or str(answer.get("failure_reason", "")),
                str(err.get("message") or err.get("error_details") or ""),
            )
        venue_id = (answer.get("success_response") or {}).get("order_id") or answer.get("order_id")
        return order.transition(OrderStatus.SUBMITTED).transition(
            OrderStatus.ACCEPTED, venue_order_id=venue_id
        )
