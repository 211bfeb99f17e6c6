"""Hand-written fakes and wrappers on the ports, for injecting faults (no patching)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ffe_core.domain.decisions import Action, ProviderVote
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.intervals import interval_seconds, last_closed_open
from ffe_core.domain.market import Bar, Quote
from ffe_core.domain.orders import Fill, Order, OrderStatus
from ffe_core.domain.portfolio import Portfolio
from ffe_core.ports.brokers import Broker


class FakeSource:
    """Flat hourly bars ending at the last closed interval (or ``lag`` earlier); faults on demand."""

    name = "fake"

    def __init__(self, *, lag: timedelta = timedelta(0), gaps: bool = False) -> None:
        self.lag, self.gaps = lag, gaps
        self.fail: Exception | None = None
        self.calls = 0

    async def get_bars(
        self,
        instrument: Instrument,
        interval: str,
        *,
        limit: int = 200,
        end: datetime | None = None,
    ) -> list[Bar]:
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        secs = interval_seconds(interval)
        last = last_closed_open(datetime.now(UTC), secs) - self.lag
        bars = [
            Bar(ts=last - timedelta(seconds=secs * k), open=100, high=101, low=99, close=100)
            for k in range(limit - 1, -1, -1)
        ]
        return [b for i, b in enumerate(bars) if not (self.gaps and i % 7 == 3)]

    async def get_quote(self, instrument: Instrument) -> Quote:
        if self.fail is not None:
            raise self.fail
        return Quote(symbol=instrument.symbol, ts=datetime.now(UTC), bid=100, ask=Decimal("100.02"))

    async def close(self) -> None:
        pass


class Voter:
    """Votes ``action`` with ``confidence``; or raises / stalls / answers garbage."""

    def __init__(self, name: str, action: Action = Action.BUY, mode: str = "ok") -> None:
        self.name, self.action, self.mode = name, action, mode

    async def vote(self, context: object) -> ProviderVote:
        if self.mode == "5xx":
            raise ConnectionError("HTTP 503 Service Unavailable")
        if self.mode == "slow":
            await asyncio.sleep(30)
        if self.mode == "garbage":
            return {"action": "MAYBE", "confidence": "lots"}  # type: ignore[return-value]
        return ProviderVote(provider=self.name, action=self.action, confidence=0.9, reasoning="x")


class FaultyBroker:
    """Wraps a real broker; ``fault`` picks what goes wrong on the next ``submit_order``."""

    def __init__(self, inner: Broker) -> None:
        self.inner = inner
        self.name = inner.name
        self.venue = inner.venue
        self.mode = inner.mode
        self.fault: str | None = None
        self.submits = 0
        self.partial: dict[str, Order] = {}
        self.sending = asyncio.Event()  # "held": an order is being sent ...
        self.go = asyncio.Event()  # ... and reaches the venue once this is set

    async def submit_order(self, order: Order) -> Order:
        self.submits += 1
        if self.fault == "reject":
            from ffe_core.domain.errors import InvalidOrder

            raise InvalidOrder(f"{order.client_order_id}: venue rejected: market closed")
        if self.fault == "timeout_after_accept":  # the venue booked it; the answer was lost
            await self.inner.submit_order(order)
            raise TimeoutError("broker did not answer within 10s")
        if self.fault == "disconnect":
            raise ConnectionResetError("connection reset by peer")
        if self.fault == "held":  # the venue is slow to answer: the send is under way
            self.sending.set()
            await self.go.wait()
        if self.fault == "partial":  # the venue fills half now, the rest later
            partial = order.transition(OrderStatus.SUBMITTED).transition(
                OrderStatus.PARTIALLY_FILLED, filled_quantity=order.quantity / 2
            )
            self.partial[order.client_order_id] = partial
            return partial
        return await self.inner.submit_order(order)

    async def get_order(self, client_order_id: str) -> Order | None:
        if client_order_id in self.partial:
            return self.partial[client_order_id]
        return await self.inner.get_order(client_order_id)

    async def cancel_order(self, client_order_id: str) -> Order:
        return await self.inner.cancel_order(client_order_id)

    async def get_portfolio(self) -> Portfolio:
        return await self.inner.get_portfolio()

    async def list_fills(self, client_order_id: str | None = None) -> list[Fill]:
        return await self.inner.list_fills(client_order_id)

    async def close(self) -> None:
        await self.inner.close()


class TcpProxy:
    """A loopback TCP proxy we can cut (closing every connection) and restore on the same port."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for w in list(self._writers):
            w.transport.abort()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_w}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))
        self._writers -= {writer, up_w}


@contextlib.asynccontextmanager
async def proxy_to(port: int) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(port)
    await proxy.start()
    try:
        yield proxy
    finally:
        if proxy._server is not None:
            await proxy.cut()
