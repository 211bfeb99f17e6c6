"""OandaBroker: the Broker port over an OANDA v20 account (practice or live).

Orders carry ffe's client order id as ``clientExtensions.id``, so the venue can be asked for
``@<id>`` before anything is (re)sent; stop-loss / take-profit ride along as
``stopLossOnFill`` / ``takeProfitOnFill``, whose dependent orders carry the entry's id with
``-sl`` / ``-tp`` appended (as the paper venue names its exits), so their fills reach the ledger
under an id the venue answers for. A fill of an order without a client id (placed outside ffe)
is reported as ``oanda-<order id>`` and that order is looked up by its venue id. Units are signed
(negative sells), whole numbers.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

import oandapyV20.endpoints.accounts as accounts
import oandapyV20.endpoints.orders as orders
import oandapyV20.endpoints.positions as positions
import oandapyV20.endpoints.trades as trades
import oandapyV20.endpoints.transactions as transactions

from ffe_adapters.brokers.common import read_with_retry, submit_idempotently
from ffe_adapters.brokers.oanda.client import OandaClient, classify
from ffe_adapters.brokers.oanda.config import OandaOptions
from ffe_core.config import CoreView
from ffe_core.domain.errors import InvalidOrder, NotFoundError
from ffe_core.domain.orders import Fill, Order, OrderStatus, OrderType, Side
from ffe_core.domain.portfolio import Portfolio, Position, TradingMode
from ffe_core.ports.brokers import VenueKind

STATE: dict[str, OrderStatus] = {
    "PENDING": OrderStatus.ACCEPTED,
    "TRIGGERED": OrderStatus.ACCEPTED,
    "FILLED": OrderStatus.FILLED,
    "CANCELLED": OrderStatus.CANCELED,
}
TYPES = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "STOP": OrderType.STOP,
    "MARKET_IF_TOUCHED": OrderType.STOP,
    "STOP_LOSS": OrderType.STOP,
    "GUARANTEED_STOP_LOSS": OrderType.STOP,
    "TRAILING_STOP_LOSS": OrderType.STOP,
    "TAKE_PROFIT": OrderType.LIMIT,
}
"""v20 order types; the dependent exits (stop-loss, take-profit) rest as stop / limit orders."""
EXIT_LEGS = {"stopLossOnFill": "sl", "takeProfitOnFill": "tp"}
UNNAMED = "oanda-"
"""Prefix of the id ffe gives an order that has no client id: ``oanda-<venue order id>``."""


def exit_id(entry_client_order_id: str, leg: str) -> str:
    """The client id of an entry's dependent exit order (fits 64 characters)."""
    return f"{entry_client_order_id[:56]}-{leg}"


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def parse_time(value: Any) -> datetime:
    text = str(value).replace("Z", "+00:00")
    head, _, frac = text.partition(".")
    if frac:  # v20 sends nanoseconds; Python parses at most microseconds
        digits, tz = frac[:-6], frac[-6:]
        text = f"{head}.{digits[:6]}{tz}"
    return datetime.fromisoformat(text)


def client_id_of(tx: dict[str, Any]) -> str:
    """The client order id of the order an ORDER_FILL transaction filled."""
    return str(tx.get("clientOrderID") or f"{UNNAMED}{tx['orderID']}")


def fill_from_transaction(tx: dict[str, Any], client_order_id: str) -> Fill:
    units = _dec(tx.get("units"))
    return Fill(
        fill_id=f"oanda-{tx['id']}",
        client_order_id=client_order_id,
        instrument=OandaOptions.symbol(str(tx["instrument"])),
        side=Side.BUY if units > 0 else Side.SELL,
        quantity=abs(units),
        price=_dec(tx.get("fullVWAP") or tx.get("price")),
        commission=abs(_dec(tx.get("commission"))),
        ts=parse_time(tx["time"]),
    )


class OandaBroker:
    """An OANDA v20 account as a Broker."""

    name = "oanda"

    def __init__(self, client: OandaClient, options: OandaOptions, settings: CoreView) -> None:
        if not client.account_id:
            raise InvalidOrder("oanda: adapters.oanda.account_id is required")
        self._client = client
        self._account = client.account_id
        self._opts = options
        self._settings = settings
        self.mode: TradingMode = settings.trading.mode
        self.venue: VenueKind = options.venue

    async def submit_order(self, order: Order) -> Order:
        """Place ``order`` once: a known client order id returns the venue's order."""
        order = self._rounded(order)
        return await submit_idempotently(
            lookup=lambda: self._find(order.client_order_id, order),
            create=lambda: self._create(order),
            attempts=self._opts.retries,
            backoff=self._opts.retry_backoff_seconds,
        )

    async def get_order(self, client_order_id: str) -> Order | None:
        return await self._find(client_order_id, None)

    async def cancel_order(self, client_order_id: str) -> Order:
        order = await self.get_order(client_order_id)
        if order is None:
            raise NotFoundError(f"oanda has no order with client id {client_order_id}")
        if order.status.is_terminal:
            return order
        await self._client.request(orders.OrderCancel(self._account, f"@{client_order_id}"))
        return order.transition(OrderStatus.CANCELED)

    async def get_portfolio(self) -> Portfolio:
        """Cash is the account balance; net positions come from the open long / short units."""
        summary = await self._read(accounts.AccountSummary(self._account))
        opened = await self._read(positions.OpenPositions(self._account))
        book: dict[str, Position] = {}
        for p in opened.get("positions", []):
            symbol = OandaOptions.symbol(str(p["instrument"]))
            long_u, short_u = _dec(p["long"].get("units")), _dec(p["short"].get("units"))
            side = p["long"] if long_u != 0 else p["short"]
            net = long_u + short_u
            if net != 0:
                avg = _dec(side.get("averagePrice"))
                book[symbol] = Position(instrument=symbol, quantity=net, average_price=avg)
        account = summary["account"]
        # a margin account: its balance already holds the positions' cost, and ffe's equity is
        # cash + Σ units × price, so cash is the balance less what the positions cost
        cost = sum((p.quantity * p.average_price for p in book.values()), Decimal(0))
        return Portfolio(
            cash=_dec(account["balance"]) - cost,
            positions=book,
            currency=str(account.get("currency", "USD")),
            mode=self.mode,
        )

    async def list_fills(self, client_order_id: str | None = None) -> list[Fill]:
        """Fills of one order (OANDA fills an order in one transaction), or of the account:
        the ORDER_FILL transactions, read page by page through their id ranges."""
        if client_order_id is None:
            return await self._all_fills()
        venue = await self._venue_order(client_order_id)
        tx_id = (venue or {}).get("fillingTransactionID")
        if not tx_id:
            return []
        tx = await self._read(transactions.TransactionDetails(self._account, tx_id))
        return [fill_from_transaction(tx["transaction"], client_order_id)]

    async def _all_fills(self) -> list[Fill]:
        listing = await self._read(
            transactions.TransactionList(self._account, params={"type": "ORDER_FILL"})
        )
        fills: list[Fill] = []
        for page in listing.get("pages", []):
            query = parse_qs(urlparse(str(page)).query)
            span = {"from": query["from"][0], "to": query["to"][0], "type": "ORDER_FILL"}
            chunk = await self._read(transactions.TransactionIDRange(self._account, params=span))
            fills += [
                fill_from_transaction(tx, client_id_of(tx))
                for tx in chunk.get("transactions", [])
                if tx.get("type") == "ORDER_FILL"
            ]
        return fills

    async def close(self) -> None:
        self._client.close()

    # --- internals ---------------------------------------------------------------------------

    async def _read(self, endpoint: Any) -> dict[str, Any]:
        return await read_with_retry(
            lambda: self._client.request(endpoint),
            attempts=self._opts.retries,
            max_wait=self._opts.max_retry_wait_seconds,
        )

    def _rounded(self, order: Order) -> Order:
        instrument = self._settings.instrument(order.instrument)
        if instrument is None:
            raise InvalidOrder(f"unknown instrument {order.instrument!r}")
        qty = instrument.round_size(order.quantity)
        if qty <= 0:
            raise InvalidOrder(
                f"{order.client_order_id}: size {order.quantity} rounds to 0 at increment "
                f"{instrument.size_increment}"
            )
        prices = {
            k: instrument.round_price(v)
            for k in ("limit_price", "stop_price", "stop_loss", "take_profit")
            if (v := getattr(order, k)) is not None
        }
        return order.model_copy(update={"quantity": qty, **prices})

    async def _venue_order(self, client_order_id: str) -> dict[str, Any] | None:
        """The venue's order by client id (``@<id>``), or by venue id for ``oanda-<id>``."""
        venue_id = client_order_id.removeprefix(UNNAMED)
        specifier = venue_id if venue_id != client_order_id else f"@{client_order_id}"
        try:
            answer = await self._read(orders.OrderDetails(self._account, specifier))
        except NotFoundError:
            return None
        return dict(answer["order"])

    async def _find(self, client_order_id: str, local: Order | None) -> Order | None:
        venue = await self._venue_order(client_order_id)
        if venue is None:
            return None
        fill = None
        if venue.get("state") == "FILLED" and venue.get("fillingTransactionID"):
            tx = await self._read(
                transactions.TransactionDetails(self._account, venue["fillingTransactionID"])
            )
            fill = fill_from_transaction(tx["transaction"], client_order_id)
        units = _dec(venue.get("units"))
        if not units and fill is not None:
            units = fill.signed_quantity
        if not units and venue.get("tradeID"):  # a dependent exit: it closes its trade
            trade = await self._read(trades.TradeDetails(self._account, venue["tradeID"]))
            units = -_dec(trade["trade"].get("currentUnits"))
        return self._to_order(venue, client_order_id, local, fill, units)

    def _to_order(
        self,
        venue: dict[str, Any],
        coid: str,
        local: Order | None,
        fill: Fill | None,
        units: Decimal,
    ) -> Order:
        kind = TYPES.get(str(venue.get("type")), OrderType.MARKET)
        price = _dec(venue.get("price")) or None
        data: dict[str, Any] = {
            **(local.model_dump() if local else {}),
            "client_order_id": coid,
            "instrument": OandaOptions.symbol(str(venue.get("instrument"))),
            "side": Side.BUY if units > 0 else Side.SELL,
            "type": kind,
            "quantity": abs(units),
            "limit_price": price if kind is OrderType.LIMIT else None,
            "stop_price": price if kind is OrderType.STOP else None,
            "status": STATE.get(str(venue.get("state")), OrderStatus.SUBMITTED),
            "venue_order_id": str(venue.get("id")),
            "filled_quantity": fill.quantity if fill else Decimal(0),
            "average_fill_price": fill.price if fill else None,
        }
        if local is None and venue.get("createTime"):
            data["created_at"] = parse_time(venue["createTime"])
        return Order.model_validate(data)

    def _body(self, order: Order) -> dict[str, Any]:
        units = order.quantity if order.side is Side.BUY else -order.quantity
        body: dict[str, Any] = {
            "type": order.type.value.upper(),
            "instrument": OandaOptions.instrument(order.instrument),
            "units": format(units, "f"),
            "timeInForce": "FOK" if order.type is OrderType.MARKET else "GTC",
            "positionFill": "DEFAULT",
            "clientExtensions": {"id": order.client_order_id},
        }
        price = order.limit_price if order.type is OrderType.LIMIT else order.stop_price
        if price is not None:
            body["price"] = format(price, "f")
        exits = {"stopLossOnFill": order.stop_loss, "takeProfitOnFill": order.take_profit}
        for leg, at in exits.items():
            if at is not None:
                body[leg] = {
                    "price": format(at, "f"),
                    "timeInForce": "GTC",
                    "clientExtensions": {"id": exit_id(order.client_order_id, EXIT_LEGS[leg])},
                }
        return {"order": body}

    async def _create(self, order: Order) -> Order:
        answer = await self._client.request(orders.OrderCreate(self._account, self._body(order)))
        created = answer.get("orderCreateTransaction") or {}
        accepted = order.transition(OrderStatus.SUBMITTED).transition(
            OrderStatus.ACCEPTED, venue_order_id=str(created.get("id") or "") or None
        )
        canceled = answer.get("orderCancelTransaction")
        if canceled:
            reason = str(canceled.get("reason", ""))
            raise classify(reason, f"order {order.client_order_id} was cancelled on arrival")
        filled = answer.get("orderFillTransaction")
        if filled:
            return accepted.with_fill(fill_from_transaction(filled, order.client_order_id))
        return accepted
