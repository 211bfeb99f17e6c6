"""The fake the language-model tests share (the adapter suite here and tests/contract): a scripted
HTTP server on 127.0.0.1 that the real SDKs are pointed at, and one wire spec per
provider (how to build it against the fake, where its documented response bodies live).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.llm.base import LlmProvider
from ffe_core.domain.context import DecisionContext, PastDecision
from ffe_core.domain.decisions import Action
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.domain.market import Bar
from ffe_core.domain.portfolio import Portfolio, Position
from ffe_core.ports.clock import Clock, ManualClock

HERE = Path(__file__).parent


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any


class FakeServer:
    """Answers each request with the next scripted reply (500 when the script is empty)."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                with server._lock:
                    server.requests.append(
                        Seen(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                        )
                    )
                    reply = server.replies.popleft() if server.replies else None
                if reply is None:
                    reply = Reply(500, b'{"error": "no scripted reply"}')
                time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def reply(
        self,
        body: bytes,
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.replies.append(Reply(status, body, headers or {}, delay))


class RecordingMetrics:
    """A Metrics port that remembers what it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float, float]] = []
        self.circuits: list[tuple[str, str]] = []

    def decision_made(self, action: str, latency_seconds: float) -> None:
        pass

    def provider_called(
        self, provider: str, outcome: str, latency_seconds: float, cost_usd: float
    ) -> None:
        self.calls.append((provider, outcome, latency_seconds, cost_usd))

    def circuit_state(self, name: str, state: str) -> None:
        self.circuits.append((name, state))

    def trade_executed(self, instrument: str, side: str) -> None:
        pass

    def agent_cycle(self, duration_seconds: float, uptime_seconds: float) -> None:
        pass


class MemoryCache:
    """The Cache port in a dict (TTL recorded, not enforced)."""

    def __init__(self) -> None:
        self.data: dict[str, tuple[bytes, float]] = {}

    async def get(self, key: str) -> bytes | None:
        entry = self.data.get(key)
        return entry[0] if entry else None

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        self.data[key] = (value, ttl_seconds)

    async def close(self) -> None:
        pass


@dataclass
class Wire:
    """How one provider is pointed at the fake, and its documented bodies."""

    name: str
    model: str
    endpoint: str  # the request path must end with this
    options: Callable[[str], dict[str, Any]]  # fake url -> endpoint options
    prompt_of: Callable[[Any], str]  # request body -> the user text sent
    refusal_marker: str = "refused"  # what a refusal's feedback and reason say

    def body(self, case: str) -> bytes:
        return (HERE / self.name / "responses" / f"{case}.json").read_bytes()

    def json(self, case: str) -> Any:
        return json.loads(self.body(case))


def _anthropic_prompt(body: Any) -> str:
    return str(body["messages"][-1]["content"])


def _openai_prompt(body: Any) -> str:
    return str(body["messages"][-1]["content"])


def _gemini_prompt(body: Any) -> str:
    return " ".join(p.get("text", "") for c in body["contents"] for p in c["parts"])


WIRES = {
    "anthropic": Wire(
        "anthropic",
        "claude-sonnet-4-6",
        "/v1/messages",
        lambda url: {"base_url": url},
        _anthropic_prompt,
    ),
    "openai": Wire(
        "openai",
        "gpt-4.1-mini",
        "/v1/chat/completions",
        lambda url: {"base_url": f"{url}/v1"},
        _openai_prompt,
    ),
    "gemini": Wire(
        "gemini",
        "gemini-2.5-flash",
        "/models/gemini-2.5-flash:generateContent",
        lambda url: {"base_url": url},
        _gemini_prompt,
    ),
    "ollama": Wire(
        "ollama",
        "llama3.2",
        "/api/chat",
        lambda url: {"host": url},
        _openai_prompt,
        refusal_marker="Invalid JSON",  # Ollama has no refusal field: it is plain text
    ),
}

TEST_PRICE = {"input_per_mtok": 2.0, "output_per_mtok": 10.0}


def build_provider(
    wire: Wire,
    fake: FakeServer,
    *,
    clock: Clock | None = None,
    metrics: RecordingMetrics | None = None,
    cache: MemoryCache | None = None,
    **overrides: Any,
) -> LlmProvider:
    """The real factory of ``wire.name``, registered through its plugin module."""
    import importlib

    plugin = importlib.import_module(f"ffe_adapters.llm.{wire.name}.plugin")
    factory = plugin.ffe_decision_providers()[wire.name]
    options: dict[str, Any] = {
        "model": wire.model,
        "timeout_seconds": 30.0,  # a local fake answering slowly on a loaded machine is no timeout
        "max_retries": 2,
        "max_retry_wait_seconds": 3.0,
        "requests_per_minute": None,
        "circuit_failure_threshold": 3,
        "prices": {wire.model: TEST_PRICE},
        **wire.options(fake.url),
        **overrides,
    }
    if wire.name != "ollama":
        options.setdefault("api_key", "test-key-not-real")
    ctx = AdapterContext(
        name=wire.name,
        options=options,
        clock=clock or ManualClock(datetime(2026, 6, 1, tzinfo=UTC)),
        metrics=metrics or RecordingMetrics(),
        cache=cache,
    )
    provider = factory(ctx)
    assert isinstance(provider, LlmProvider)
    return provider


def make_context(as_of: datetime | None = None, n: int = 40) -> DecisionContext:
    """A BTC-USD context whose last close is 100 (documented bodies place levels around it)."""
    end = as_of or datetime(2026, 5, 1, tzinfo=UTC)
    bars = []
    for i in range(n):
        close = 100.0 - (n - 1 - i) * 0.25
        bars.append(
            Bar(
                ts=end - timedelta(hours=n - i),
                open=close - 0.1,
                high=close + 0.5,
                low=close - 0.5,
                close=close,
                volume=1000 + i,
            )
        )
    instrument = Instrument(
        symbol="BTC-USD", asset_class=AssetClass.CRYPTO, base="BTC", quote="USD"
    )
    return DecisionContext(
        instrument=instrument,
        as_of=end,
        bars=tuple(bars),
        indicators={"rsi_14": 61.2, "sma_20": 97.6},
        position=Position(instrument="BTC-USD"),
        portfolio=Portfolio(cash=Decimal("10000")),
        memory=(
            PastDecision(
                created_at=end - timedelta(days=1),
                action=Action.BUY,
                confidence=0.6,
                outcome_return=0.012,
            ),
        ),
    )
