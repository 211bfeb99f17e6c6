"""Stateful fake Coinbase Advanced Trade and OANDA v20 venues, served on 127.0.0.1.

Each fake keeps an account, its orders and their fills: an order placed is then reported by the
venue's own list / get endpoints, with its fills, as the real venue reports them. Every body it
answers is a copy of a vendor-written sample, with only the values that describe this venue's
state replaced (ids, client order id, sizes, prices, balances, times):

- Coinbase: the adapter tests' samples, ``tests/adapters/brokers/coinbase/responses/*.json``
  (Advanced Trade REST API bodies: List Orders, List Fills, Create Order, List Accounts; the
  repository does not record which reference page each was copied from);
- OANDA: the adapter tests' samples, ``tests/adapters/brokers/oanda/responses/*.json`` (the v20
  REST examples ``oandapyV20.endpoints.responses`` ships, account 101-004-1435156-001, some
  re-dated and given client ids there), and trade details, a pending limit order's create
  answer and listing straight from ``oandapyV20.endpoints.responses.trades`` / ``.orders``.

Market orders fill at once, at the price ``market(symbol, side)`` gives (the tests price them
from the same replayed data the paper venue fills on); resting orders (Coinbase's
``trigger_bracket_gtc`` exit, OANDA's dependent stop-loss / take-profit) rest until the test
fills one with ``fill_exit``, as the venue would when its price is reached. Times come from
``now()`` (the test's clock, as a venue's time is the system's). Coinbase speaks only https, so its fake serves TLS with
a certificate made for 127.0.0.1 (trust it with ``REQUESTS_CA_BUNDLE``); OANDA's is plain http,
registered as an ``oandapyV20`` trading environment.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import ipaddress
import itertools
import json
import ssl
import threading
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from oandapyV20.endpoints.responses.orders import responses as oanda_order_samples
from oandapyV20.endpoints.responses.trades import responses as oanda_trade_samples

from ffe_adapters.market_data.bundled.config import BundledOptions
from ffe_adapters.market_data.bundled.data import BundledSource
from ffe_core.config import Settings
from ffe_core.ports.clock import Clock

BROKER_TESTS = Path(__file__).parents[2] / "adapters" / "brokers"

Market = Callable[[str, str], Decimal]
"""``market(ffe symbol, "BUY" | "SELL")``: the price a market order fills at now."""
Now = Callable[[], dt.datetime]


@cache
def _sample(venue: str, name: str) -> str:
    return (BROKER_TESTS / venue / "responses" / f"{name}.json").read_text()


def vendor(venue: str, name: str) -> Any:
    """A fresh copy of the vendor-written sample body ``name`` of ``venue``."""
    return json.loads(_sample(venue, name))


def bundled_market(clock: Clock, settings: Settings | None = None) -> Market:
    """Fill prices from the bundled replay (the paper venue's data): the ask for a buy, the bid
    for a sell, on the instrument's price grid."""
    source = BundledSource(BundledOptions(), clock=clock)
    known = settings or Settings()

    def price(symbol: str, side: str) -> Decimal:
        instrument = known.instrument(symbol)
        assert instrument is not None, symbol
        quote = asyncio.run(source.get_quote(instrument))  # no I/O: runs in the server thread
        rounded: Decimal = instrument.round_price(quote.ask if side == "BUY" else quote.bid)
        return rounded

    return price


def _text(value: Decimal) -> str:
    return format(value, "f")


def tls_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate (and its key) for 127.0.0.1, written to ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "venue-cert.pem", directory / "venue-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, venue: _Venue) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.venue = venue


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        pass

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        body = json.loads(raw) if raw else {}
        venue = self.server.venue
        with venue.lock:
            venue.requests.append((method, unquote(parts.path)))
            status, answer = venue.route(method, unquote(parts.path), query, body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")


class _Venue:
    """A served venue: ``route`` answers one request while ``lock`` is held."""

    def __init__(self, *, market: Market, now: Now) -> None:
        self.market = market
        self.now = now
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.unexpected: list[str] = []
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def route(
        self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]
    ) -> tuple[int, Any]:
        raise NotImplementedError


# --- Coinbase Advanced Trade ---------------------------------------------------------------


def _coinbase_time(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class CoinbaseVenue(_Venue):
    """A Coinbase Advanced Trade spot account: balances per currency, orders, fills.

    The taker fee is that of the vendor's List Fills sample (3.00 on 500.00 traded: 0.6 %).
    """

    PREFIX = "/api/v3/brokerage"

    def __init__(
        self,
        *,
        cash: Decimal,
        market: Market,
        now: Now,
        certificate: tuple[Path, Path],
        quote: str = "USD",
        fee_rate: Decimal = Decimal("0.006"),
    ) -> None:
        super().__init__(market=market, now=now)
        self.quote = quote
        self.fee_rate = fee_rate
        self.available: dict[str, Decimal] = {quote: cash}
        self.hold: dict[str, Decimal] = {}
        self.orders: list[dict[str, Any]] = []  # vendor order objects, oldest first
        self.fills: list[dict[str, Any]] = []  # vendor fill objects, oldest first
        self.created: list[dict[str, Any]] = []  # every create_order request body
        self._ids = itertools.count(1)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*certificate)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)

    @property
    def host(self) -> str:
        """What ``adapters.coinbase.host`` names (the SDK prefixes ``https://``)."""
        return f"127.0.0.1:{self.port}"

    def order(self, client_order_id: str) -> dict[str, Any] | None:
        return next((o for o in self.orders if o["client_order_id"] == client_order_id), None)

    def route(
        self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]
    ) -> tuple[int, Any]:
        endpoint = (method, path.removeprefix(self.PREFIX))
        if endpoint == ("GET", "/accounts"):
            return 200, self._accounts()
        if endpoint == ("GET", "/orders/historical/batch"):
            return 200, self._list_orders(query)
        if endpoint == ("GET", "/orders/historical/fills"):
            return 200, self._list_fills(query)
        if endpoint == ("POST", "/orders"):
            return 200, self._create(body)
        if endpoint == ("POST", "/orders/batch_cancel"):
            return 200, self._cancel(body)
        self.unexpected.append(f"{method} {path}")
        error = vendor("coinbase", "error_internal")
        error.update(error="NOT_FOUND", code=5, message=f"fake venue: no route {method} {path}")
        return 404, error

    # answers ------------------------------------------------------------------------------

    def _accounts(self) -> dict[str, Any]:
        sample = vendor("coinbase", "list_accounts")
        crypto, fiat = sample["accounts"]
        accounts = []
        for n, currency in enumerate(sorted(set(self.available) | set(self.hold))):
            account = copy.deepcopy(fiat if currency == self.quote else crypto)
            account.update(
                uuid=f"00000000-0000-4000-8000-{n:012d}",
                name=f"{currency} Wallet",
                currency=currency,
                available_balance={
                    "value": _text(self.available.get(currency, Decimal(0))),
                    "currency": currency,
                },
                hold={"value": _text(self.hold.get(currency, Decimal(0))), "currency": currency},
            )
            accounts.append(account)
        sample.update(accounts=accounts, has_next=False, cursor="", size=len(accounts))
        return dict(sample)

    @staticmethod
    def _page(items: list[dict[str, Any]], query: dict[str, list[str]]) -> tuple[list[Any], str]:
        """One page of a newest-first listing, and the cursor of the next ("" after the last):
        the venue pages List Orders and List Fills by ``limit`` and ``cursor``."""
        limit = int(query.get("limit", ["100"])[0])
        start = int(query.get("cursor", ["0"])[0] or 0)
        following = start + limit
        return items[start:following], str(following) if following < len(items) else ""

    def _list_orders(self, query: dict[str, list[str]]) -> dict[str, Any]:
        products = set(query.get("product_ids", []))
        ids = set(query.get("order_ids", []))
        listed = [
            o
            for o in reversed(self.orders)
            if (not products or o["product_id"] in products) and (not ids or o["order_id"] in ids)
        ]
        page, cursor = self._page(listed, query)
        sample = vendor("coinbase", "list_orders_filled")
        sample.update(orders=page, has_next=bool(cursor), cursor=cursor)
        return dict(sample)

    def _list_fills(self, query: dict[str, list[str]]) -> dict[str, Any]:
        ids = set(query.get("order_ids", []))
        listed = [f for f in reversed(self.fills) if not ids or f["order_id"] in ids]
        page, cursor = self._page(listed, query)
        sample = vendor("coinbase", "list_fills")
        sample.update(fills=page, cursor=cursor)
        return dict(sample)

    def _cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        results = []
        for order_id in body.get("order_ids", []):
            order = next((o for o in self.orders if o["order_id"] == order_id), None)
            ok = order is not None and order["status"] == "OPEN"
            if ok:
                assert order is not None
                order.update(status="CANCELLED", cancel_message="User requested cancel")
                params = next(iter(order["order_configuration"].values()))
                base, quote = order["product_id"].split("-")
                size = Decimal(params["base_size"])
                held, amount = (
                    (base, size)
                    if order["side"] == "SELL"
                    else (quote, size * Decimal(params["limit_price"]))
                )
                self.hold[held] -= amount
                self.available[held] = self.available.get(held, Decimal(0)) + amount
            reason = "UNKNOWN_CANCEL_FAILURE_REASON" if ok else "UNKNOWN_CANCEL_ORDER"
            results.append({"success": ok, "failure_reason": reason, "order_id": order_id})
        answer = vendor("coinbase", "cancel_orders")
        answer.update(results=results)
        return dict(answer)

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        self.created.append(body)
        config: dict[str, Any] = body["order_configuration"]
        kind, params = next(iter(config.items()))
        known = self.order(body["client_order_id"])
        if known is not None:  # Coinbase answers a reused client order id with that order
            return self._created(known)
        product, side = str(body["product_id"]), str(body["side"])
        base, quote = product.split("-")
        size = Decimal(params["base_size"])
        now = self.now()
        order = vendor("coinbase", "list_orders_filled")["orders"][0]
        order.update(
            order_id=f"11111-00000-{next(self._ids):06d}",
            product_id=product,
            side=side,
            client_order_id=body["client_order_id"],
            order_configuration=config,
            created_time=_coinbase_time(now),
        )
        if kind == "market_market_ioc":
            price = self.market(product, side)
            value = size * price
            fee = (value * self.fee_rate).quantize(Decimal("0.01"))
            if side == "BUY" and value + fee > self.available.get(quote, Decimal(0)):
                return dict(vendor("coinbase", "create_order_insufficient_fund"))
            if side == "SELL" and size > self.available.get(base, Decimal(0)):
                return dict(vendor("coinbase", "create_order_insufficient_fund"))
            sign = 1 if side == "BUY" else -1
            self.available[base] = self.available.get(base, Decimal(0)) + sign * size
            self.available[quote] -= sign * value + fee
            order.update(
                status="FILLED",
                filled_size=_text(size),
                average_filled_price=_text(price),
                number_of_fills="1",
                filled_value=_text(value),
                total_fees=_text(fee),
                total_value_after_fees=_text(value + fee if side == "BUY" else value - fee),
                last_fill_time=_coinbase_time(now),
            )
            fill = vendor("coinbase", "list_fills")["fills"][0]
            fill.update(
                entry_id=f"22222-2222222-{len(self.fills) + 1:08d}",
                trade_id=f"1111-11111-{len(self.fills) + 1:06d}",
                order_id=order["order_id"],
                trade_time=_coinbase_time(now),
                sequence_timestamp=_coinbase_time(now),
                price=_text(price),
                size=_text(size),
                commission=_text(fee),
                product_id=product,
                side=side,
            )
            self.fills.append(fill)
        else:  # a resting order: an exit bracket or a limit order holds what it may trade
            held, amount = (
                (base, size) if side == "SELL" else (quote, size * Decimal(params["limit_price"]))
            )
            self.available[held] = self.available.get(held, Decimal(0)) - amount
            self.hold[held] = self.hold.get(held, Decimal(0)) + amount
            order.update(
                status="OPEN",
                time_in_force="GOOD_UNTIL_CANCELLED",
                completion_percentage="0",
                filled_size="0",
                average_filled_price="0",
                number_of_fills="0",
                filled_value="0",
                total_fees="0",
                total_value_after_fees="0",
                order_type="LIMIT",
                settled=False,
                last_fill_time=None,
            )
        self.orders.append(order)
        return self._created(order)

    def fill_exit(self, entry_client_order_id: str, leg: str) -> dict[str, Any]:
        """The venue fills the entry's bracket at its take-profit (``tp``) or stop (``sl``)."""
        with self.lock:
            order = self.order(f"{entry_client_order_id[:56]}-br")
            assert order is not None and order["status"] == "OPEN", "no open bracket"
            params = order["order_configuration"]["trigger_bracket_gtc"]
            price = Decimal(params["limit_price" if leg == "tp" else "stop_trigger_price"])
            size = Decimal(params["base_size"])
            base, quote = order["product_id"].split("-")
            value = size * price
            fee = (value * self.fee_rate).quantize(Decimal("0.01"))
            self.hold[base] -= size
            self.available[quote] += value - fee
            now = _coinbase_time(self.now())
            order.update(
                status="FILLED",
                completion_percentage="100",
                filled_size=_text(size),
                average_filled_price=_text(price),
                number_of_fills="1",
                filled_value=_text(value),
                total_fees=_text(fee),
                total_value_after_fees=_text(value - fee),
                settled=True,
                last_fill_time=now,
            )
            fill = vendor("coinbase", "list_fills")["fills"][0]
            fill.update(
                entry_id=f"22222-2222222-{len(self.fills) + 1:08d}",
                trade_id=f"1111-11111-{len(self.fills) + 1:06d}",
                order_id=order["order_id"],
                trade_time=now,
                sequence_timestamp=now,
                price=_text(price),
                size=_text(size),
                commission=_text(fee),
                product_id=order["product_id"],
                side=order["side"],
            )
            self.fills.append(fill)
            return dict(order)

    @staticmethod
    def _created(order: dict[str, Any]) -> dict[str, Any]:
        answer = vendor("coinbase", "create_order_success")
        answer["success_response"].update(
            order_id=order["order_id"],
            product_id=order["product_id"],
            side=order["side"],
            client_order_id=order["client_order_id"],
        )
        answer["order_configuration"] = order["order_configuration"]
        return dict(answer)


# --- OANDA v20 ---------------------------------------------------------------------------


def _oanda_time(at: dt.datetime) -> str:
    at = at.astimezone(dt.UTC)
    return f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond:06d}000Z"


class OandaVenue(_Venue):
    """An OANDA v20 account: balance, net positions, orders by client id, transactions.

    Market orders fill at once (one ORDER_FILL transaction), and so does a marketable limit
    order; a limit order away from the market rests (PENDING) until cancelled by client id.
    ``stopLossOnFill`` / ``takeProfitOnFill`` become pending dependent orders, as on the venue. ``name_exits=False``
    drops the client ids asked for those (exits as a build that did not name them placed them).
    """

    def __init__(
        self,
        *,
        account_id: str,
        balance: Decimal,
        market: Market,
        now: Now,
        currency: str = "USD",
        first_transaction: int = 6372,
        name_exits: bool = True,
    ) -> None:
        super().__init__(market=market, now=now)
        self.name_exits = name_exits
        self.account_id = account_id
        self.balance = balance
        self.currency = currency
        self.positions: dict[str, tuple[Decimal, Decimal]] = {}  # instrument -> (units, avg)
        self.orders: dict[str, dict[str, Any]] = {}  # order id -> vendor order object
        self.trades: dict[str, dict[str, Any]] = {}  # trade id -> vendor trade object
        self.transactions: list[dict[str, Any]] = []
        self.created: list[dict[str, Any]] = []  # every order create request body
        self._ids = itertools.count(first_transaction)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def fills(self) -> list[dict[str, Any]]:
        return [t for t in self.transactions if t["type"] == "ORDER_FILL"]

    def by_client_id(self, client_order_id: str) -> dict[str, Any] | None:
        return next(
            (
                o
                for o in self.orders.values()
                if (o.get("clientExtensions") or {}).get("id") == client_order_id
            ),
            None,
        )

    def route(
        self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]
    ) -> tuple[int, Any]:
        account = f"/v3/accounts/{self.account_id}"
        rest = path.removeprefix(account) if path.startswith(account + "/") else None
        if method == "GET" and rest == "/summary":
            return 200, self._summary()
        if method == "GET" and rest == "/openPositions":
            return 200, self._open_positions()
        if method == "POST" and rest == "/orders":
            return self._create(body)
        if method == "PUT" and rest is not None and rest.startswith("/orders/@"):
            coid, _, action = rest.removeprefix("/orders/@").partition("/")
            if action == "cancel":
                return self._cancel(coid)
        if method == "GET" and rest is not None and rest.startswith("/orders/@"):
            order = self.by_client_id(rest.removeprefix("/orders/@"))
            if order is None:
                missing = vendor("oanda", "order_doesnt_exist")
                missing["lastTransactionID"] = self._last_id()
                return 404, missing
            return 200, {"order": order, "lastTransactionID": self._last_id()}
        if method == "GET" and rest is not None and rest.startswith("/orders/"):
            order = self.orders.get(rest.removeprefix("/orders/"))
            if order is not None:
                return 200, {"order": order, "lastTransactionID": self._last_id()}
        if method == "GET" and rest is not None and rest.startswith("/trades/"):
            trade = self.trades.get(rest.removeprefix("/trades/"))
            if trade is not None:
                answer = copy.deepcopy(
                    oanda_trade_samples["_v3_account_accountID_trades_details"]["response"]
                )
                answer.update(trade=trade, lastTransactionID=self._last_id())
                return 200, answer
        if method == "GET" and rest == "/transactions":
            return 200, self._transaction_pages(query)
        if method == "GET" and rest == "/transactions/idrange":
            return 200, self._id_range(query)
        if method == "GET" and rest is not None and rest.startswith("/transactions/"):
            wanted = rest.removeprefix("/transactions/")
            tx = next((t for t in self.transactions if t["id"] == wanted), None)
            if tx is not None:
                answer = vendor("oanda", "transaction_fill")
                answer.update(transaction=tx, lastTransactionID=self._last_id())
                return 200, answer
        self.unexpected.append(f"{method} {path}")
        error = vendor("oanda", "error_internal")
        error["errorMessage"] = f"fake venue: no route {method} {path}"
        return 404, error

    # answers ------------------------------------------------------------------------------

    def _last_id(self) -> str:
        return self.transactions[-1]["id"] if self.transactions else "6371"

    def _create(self, body: dict[str, Any]) -> tuple[int, Any]:
        self.created.append(body)
        request: dict[str, Any] = body["order"]
        coid = (request.get("clientExtensions") or {}).get("id")
        if coid is not None and self.by_client_id(coid) is not None:
            reject = vendor("oanda", "order_create_reject_units_precision")
            reject["orderRejectTransaction"].update(rejectReason="CLIENT_ORDER_ID_ALREADY_EXISTS")
            reject.update(
                errorCode="CLIENT_ORDER_ID_ALREADY_EXISTS",
                errorMessage="The client Order ID specified is already assigned",
            )
            return 400, reject
        instrument = str(request["instrument"])
        units = Decimal(request["units"])
        side = "BUY" if units > 0 else "SELL"
        price = self.market(instrument.replace("_", "-"), side)
        now = _oanda_time(self.now())
        if request["type"] == "LIMIT":
            limit = Decimal(request["price"])
            if (price > limit) if side == "BUY" else (price < limit):
                return self._rest(request, coid, now)
        sample = vendor("oanda", "order_create_market_filled")
        create_id, fill_id = str(next(self._ids)), str(next(self._ids))
        created = sample["orderCreateTransaction"]
        self._stamp(created, request, create_id, now)
        pl = self._apply(instrument, units, price)
        self.balance += pl
        fill = sample["orderFillTransaction"]
        fill.update(
            orderID=create_id,
            instrument=instrument,
            units=_text(units),
            price=_text(price),
            fullVWAP=_text(price),
            pl=_text(pl),
            accountBalance=_text(self.balance),
            tradeOpened={"tradeID": fill_id, "units": _text(units)},
            id=fill_id,
            batchID=create_id,
            accountID=self.account_id,
            time=now,
        )
        if coid is None:
            fill.pop("clientOrderID", None)
        else:
            fill["clientOrderID"] = coid
        order = vendor("oanda", "order_details_filled")["order"]
        order.update(
            id=create_id,
            createTime=now,
            state="FILLED",
            type=request["type"],
            instrument=instrument,
            units=_text(units),
            timeInForce=request.get("timeInForce", "FOK"),
            positionFill=request.get("positionFill", "DEFAULT"),
            fillingTransactionID=fill_id,
            filledTime=now,
            tradeOpenedID=fill_id,
        )
        if coid is None:
            order.pop("clientExtensions", None)
        else:
            order["clientExtensions"] = {"id": coid}
        self.orders[create_id] = order
        trade = copy.deepcopy(
            oanda_trade_samples["_v3_account_accountID_trades_details"]["response"]["trade"]
        )
        trade.update(
            id=fill_id,
            instrument=instrument,
            price=_text(price),
            openTime=now,
            state="OPEN",
            initialUnits=_text(units),
            currentUnits=_text(units),
            realizedPL="0.0000",
            unrealizedPL="0.0000",
        )
        self.trades[fill_id] = trade
        self.transactions += [created, fill]
        related = [create_id, fill_id]
        for leg, kind in (("stopLossOnFill", "STOP_LOSS"), ("takeProfitOnFill", "TAKE_PROFIT")):
            if leg in request:
                related.append(self._dependent(kind, request[leg], fill_id, create_id, now))
        sample.update(relatedTransactionIDs=related, lastTransactionID=self._last_id())
        return 201, sample

    def _stamp(
        self, created: dict[str, Any], request: dict[str, Any], order_id: str, now: str
    ) -> None:
        """A vendor sample's order-create transaction made this request's: its fields, id,
        account and time, without the sample's bracket legs."""
        for leg in ("stopLossOnFill", "takeProfitOnFill"):
            created.pop(leg, None)
        created.update(
            {k: v for k, v in request.items() if k != "type"},
            type=f"{request['type']}_ORDER",
            id=order_id,
            batchID=order_id,
            accountID=self.account_id,
            time=now,
        )

    def _rest(self, request: dict[str, Any], coid: str | None, now: str) -> tuple[int, Any]:
        """A limit order away from the market: created and left PENDING (OANDA's sample
        create answer for a pending LIMIT order, and its pending-order listing entry)."""
        create_id = str(next(self._ids))
        answer = copy.deepcopy(oanda_order_samples["_v3_accounts_accountID_orders_create"])
        answer = answer["response"]
        created = answer["orderCreateTransaction"]
        self._stamp(created, request, create_id, now)
        pending = oanda_order_samples["_v3_accounts_accountID_orders_pending"]["response"]
        order = copy.deepcopy(pending["orders"][0])
        order.pop("stopLossOnFill", None)
        order.update(
            id=create_id,
            createTime=now,
            state="PENDING",
            type=request["type"],
            instrument=request["instrument"],
            units=request["units"],
            price=request["price"],
            timeInForce=request.get("timeInForce", "GTC"),
        )
        if coid is None:
            order.pop("clientExtensions", None)
        else:
            order["clientExtensions"] = {"id": coid}
        self.orders[create_id] = order
        self.transactions.append(created)
        answer.update(relatedTransactionIDs=[create_id], lastTransactionID=self._last_id())
        return 201, answer

    def _cancel(self, client_order_id: str) -> tuple[int, Any]:
        """Cancel a pending order by client id (``PUT .../orders/@<id>/cancel``)."""
        order = self.by_client_id(client_order_id)
        if order is None or order["state"] != "PENDING":
            missing = vendor("oanda", "order_doesnt_exist")
            missing["lastTransactionID"] = self._last_id()
            return 404, missing
        cancel_id = str(next(self._ids))
        now = _oanda_time(self.now())
        order.update(state="CANCELLED", cancellingTransactionID=cancel_id, cancelledTime=now)
        answer = vendor("oanda", "order_cancel")
        answer["orderCancelTransaction"].update(
            orderID=order["id"],
            clientOrderID=client_order_id,
            reason="CLIENT_REQUEST",
            id=cancel_id,
            batchID=cancel_id,
            accountID=self.account_id,
            time=now,
        )
        self.transactions.append(answer["orderCancelTransaction"])
        answer.update(relatedTransactionIDs=[cancel_id], lastTransactionID=self._last_id())
        return 200, answer

    def _dependent(
        self, kind: str, details: dict[str, Any], trade_id: str, batch: str, now: str
    ) -> str:
        """A pending STOP_LOSS / TAKE_PROFIT order on the trade just opened."""
        order_id = str(next(self._ids))
        order: dict[str, Any] = {
            "id": order_id,
            "createTime": now,
            "state": "PENDING",
            "type": kind,
            "tradeID": trade_id,
            "price": details["price"],
            "timeInForce": details.get("timeInForce", "GTC"),
            "triggerCondition": "DEFAULT",
        }
        if "clientExtensions" in details and self.name_exits:
            order["clientExtensions"] = details["clientExtensions"]
        self.orders[order_id] = order
        self.transactions.append(
            {
                **{k: v for k, v in order.items() if k not in ("state", "createTime")},
                "type": f"{kind}_ORDER",
                "reason": "ON_FILL",
                "batchID": batch,
                "accountID": self.account_id,
                "time": now,
            }
        )
        return order_id

    def fill_exit(self, entry_client_order_id: str, leg: str) -> dict[str, Any]:
        """The venue fills the entry's dependent stop-loss (``sl``) or take-profit (``tp``) at
        its price: the trade closes and the other exit is cancelled with it."""
        with self.lock:
            entry = self.by_client_id(entry_client_order_id)
            assert entry is not None, entry_client_order_id
            trade = self.trades[entry["tradeOpenedID"]]
            kind = "STOP_LOSS" if leg == "sl" else "TAKE_PROFIT"
            exits = [
                o
                for o in self.orders.values()
                if o.get("tradeID") == trade["id"] and o["state"] == "PENDING"
            ]
            order = next(o for o in exits if o["type"] == kind)
            units = -Decimal(trade["currentUnits"])
            price = Decimal(order["price"])
            now = _oanda_time(self.now())
            pl = self._apply(trade["instrument"], units, price)
            self.balance += pl
            fill_id = str(next(self._ids))
            fill = vendor("oanda", "order_create_market_filled")["orderFillTransaction"]
            fill.pop("tradeOpened", None)
            fill.update(
                orderID=order["id"],
                instrument=trade["instrument"],
                units=_text(units),
                price=_text(price),
                fullVWAP=_text(price),
                reason=f"{kind}_ORDER",
                pl=_text(pl),
                accountBalance=_text(self.balance),
                tradesClosed=[
                    {"tradeID": trade["id"], "units": _text(units), "realizedPL": _text(pl)}
                ],
                id=fill_id,
                batchID=fill_id,
                accountID=self.account_id,
                time=now,
            )
            client_id = (order.get("clientExtensions") or {}).get("id")
            if client_id is None:
                fill.pop("clientOrderID", None)
            else:
                fill["clientOrderID"] = client_id
            order.update(
                state="FILLED",
                fillingTransactionID=fill_id,
                filledTime=now,
                tradeClosedIDs=[trade["id"]],
            )
            trade.update(state="CLOSED", currentUnits="0", realizedPL=_text(pl))
            self.transactions.append(fill)
            for other in exits:
                if other is order:
                    continue
                cancel_id = str(next(self._ids))
                other.update(state="CANCELLED", cancellingTransactionID=cancel_id)
                cancel = vendor("oanda", "order_cancel")["orderCancelTransaction"]
                cancel.update(
                    orderID=other["id"],
                    reason="LINKED_TRADE_CLOSED",
                    id=cancel_id,
                    batchID=fill_id,
                    accountID=self.account_id,
                    time=now,
                )
                cancel.pop("clientOrderID", None)
                if "clientExtensions" in other:
                    cancel["clientOrderID"] = other["clientExtensions"]["id"]
                self.transactions.append(cancel)
            return dict(order)

    def _apply(self, instrument: str, units: Decimal, price: Decimal) -> Decimal:
        """Net the fill into the position; returns the realized P&L (quote currency)."""
        held, avg = self.positions.get(instrument, (Decimal(0), Decimal(0)))
        pl = Decimal(0)
        if held == 0 or (held > 0) == (units > 0):
            total = held + units
            avg = (held * avg + units * price) / total
            held = total
        else:
            closing = min(abs(held), abs(units)) * (1 if held > 0 else -1)
            pl = closing * (price - avg)
            held += units
            if held != 0 and (held > 0) == (units > 0):
                avg = price
        if held == 0:
            self.positions.pop(instrument, None)
        else:
            self.positions[instrument] = (held, avg)
        return pl

    def _unrealized(self) -> Decimal:
        total = Decimal(0)
        for instrument, (units, avg) in self.positions.items():
            mark = self.market(instrument.replace("_", "-"), "SELL" if units > 0 else "BUY")
            total += units * (mark - avg)
        return total

    def _summary(self) -> dict[str, Any]:
        sample = vendor("oanda", "account_summary")
        unrealized = self._unrealized()
        nav = self.balance + unrealized
        pending = sum(1 for o in self.orders.values() if o["state"] == "PENDING")
        sample["account"].update(
            id=self.account_id,
            currency=self.currency,
            balance=_text(self.balance),
            NAV=_text(nav),
            unrealizedPL=_text(unrealized),
            openPositionCount=len(self.positions),
            openTradeCount=len(self.positions),
            pendingOrderCount=pending,
            lastTransactionID=self._last_id(),
        )
        sample["lastTransactionID"] = self._last_id()
        return dict(sample)

    def _open_positions(self) -> dict[str, Any]:
        sample = vendor("oanda", "open_positions")
        template = next(p for p in sample["positions"] if p["instrument"] == "EUR_USD")
        positions = []
        for instrument, (units, avg) in sorted(self.positions.items()):
            position = copy.deepcopy(template)
            open_leg, flat_leg = ("long", "short") if units > 0 else ("short", "long")
            trades = [
                t["id"]
                for t in self.trades.values()
                if t["instrument"] == instrument and t["state"] == "OPEN"
            ]
            position[open_leg] = {
                **template["short"],
                "units": _text(units),
                "averagePrice": _text(avg),
                "tradeIDs": trades,
            }
            position[flat_leg] = {
                k: v for k, v in template["long"].items() if k not in ("averagePrice", "tradeIDs")
            }
            position[flat_leg]["units"] = "0"
            position["instrument"] = instrument
            positions.append(position)
        sample.update(positions=positions, lastTransactionID=self._last_id())
        return dict(sample)

    def _transaction_pages(self, query: dict[str, list[str]]) -> dict[str, Any]:
        wanted = set(",".join(query.get("type", [])).split(",")) - {""}
        matching = [t for t in self.transactions if not wanted or t["type"] in wanted]
        sample = vendor("oanda", "transactions_fill_pages")
        page = int(sample["pageSize"])
        ids = [int(t["id"]) for t in matching]
        pages = [
            f"{self.api}/v3/accounts/{self.account_id}/transactions/idrange?"
            f"from={chunk[0]}&to={chunk[-1]}&type={','.join(sorted(wanted))}"
            for chunk in (ids[i : i + page] for i in range(0, len(ids), page))
        ]
        sample.update(
            count=len(matching),
            pages=pages,
            lastTransactionID=self._last_id(),
            type=sorted(wanted),
        )
        return dict(sample)

    def _id_range(self, query: dict[str, list[str]]) -> dict[str, Any]:
        low, high = int(query["from"][0]), int(query["to"][0])
        wanted = set(",".join(query.get("type", [])).split(",")) - {""}
        sample = vendor("oanda", "transactions_idrange_fills")
        sample.update(
            transactions=[
                t
                for t in self.transactions
                if low <= int(t["id"]) <= high and (not wanted or t["type"] in wanted)
            ],
            lastTransactionID=self._last_id(),
        )
        return dict(sample)
