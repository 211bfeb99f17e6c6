"""The decision providers the contract runs, each built by its registered factory from options:
the language-model ones through their official SDKs pointed at the shared LLM fake
(``tests/adapters/llm/llm_fakes.py``) answering the vendors' bodies of ``responses/<vendor>/``,
the offline ones (quant rules, the example plugin's) as they are."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.registry import Registry, load_registry
from ffe_core.config import CostSettings
from ffe_core.domain.costs import SpendTotal
from ffe_core.domain.decisions import ProviderVote
from ffe_core.ports.capabilities import Closable
from ffe_core.ports.clock import ManualClock
from ffe_core.ports.providers import DecisionProvider
from ffe_core.services.costs import CostLedger
from tests.adapters.llm.llm_fakes import TEST_PRICE, WIRES, FakeServer, RecordingMetrics
from tests.contract.scripted_server import RESPONSES

LLMS = ("anthropic", "gemini", "ollama", "openai")
OFFLINE = ("trend", "mean_reversion", "breakout", "contrarian")
"""The quant rules and the example plugin's ``contrarian``: no upstream, no tokens."""
PROVIDERS = LLMS + OFFLINE

API_KEY = "sk-contract-7Qz3vR9-not-a-real-key"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def vendor_body(vendor: str, name: str) -> bytes:
    """``responses/<vendor>/<name>.json`` as served, with ``{api_key}`` set to the test key."""
    text = (RESPONSES / vendor / f"{name}.json").read_text()
    return text.replace("{api_key}", API_KEY).encode()


@functools.cache
def registry() -> Registry:
    """Built-ins and entry-point plugins (the example plugin), loaded once for the suite."""
    return load_registry()


@dataclass
class Built:
    name: str
    provider: DecisionProvider
    fake: FakeServer | None
    metrics: RecordingMetrics

    def serve(self, body: str, *, status: int = 200, **kwargs: Any) -> None:
        assert self.fake is not None, f"{self.name} has no upstream"
        self.fake.reply(vendor_body(self.name, body), status=status, **kwargs)


def build(name: str, fake: FakeServer | None, **overrides: Any) -> Built:
    """The provider ``name`` from its registered factory; an LLM pointed at ``fake``."""
    options: dict[str, Any] = dict(overrides)
    if name in LLMS:
        assert fake is not None
        wire = WIRES[name]
        options = {
            "model": wire.model,
            "api_key": API_KEY,
            "timeout_seconds": 30.0,  # a slow reply on a loaded machine is no timeout
            "max_retries": 1,
            "max_retry_wait_seconds": 3.0,
            "requests_per_minute": None,
            "prices": {wire.model: TEST_PRICE},
            **wire.options(fake.url),
            **overrides,
        }
    metrics = RecordingMetrics()
    factory = registry().factory("decision_providers", name)
    ctx = AdapterContext(name=name, options=options, clock=ManualClock(NOW), metrics=metrics)
    return Built(name, factory(ctx), fake, metrics)


@asynccontextmanager
async def provider(name: str, **overrides: Any) -> AsyncIterator[Built]:
    if name not in LLMS:
        yield build(name, None, **overrides)
        return
    fake = FakeServer()
    fake.start()
    built = build(name, fake, **overrides)
    try:
        yield built
    finally:
        if isinstance(built.provider, Closable):
            await built.provider.close()
        fake.stop()


def vendor_json(vendor: str, name: str) -> Any:
    return json.loads(vendor_body(vendor, name))


def vendor_usage(vendor: str, name: str) -> tuple[int, int]:
    """Tokens in and out as the vendor's body states them, in its own fields."""
    body = vendor_json(vendor, name)
    if vendor == "anthropic":
        return body["usage"]["input_tokens"], body["usage"]["output_tokens"]
    if vendor == "openai":
        return body["usage"]["prompt_tokens"], body["usage"]["completion_tokens"]
    if vendor == "gemini":
        meta = body["usageMetadata"]
        return meta["promptTokenCount"], meta["candidatesTokenCount"]
    return body["prompt_eval_count"], body["eval_count"]


def vendor_message(vendor: str, name: str) -> str:
    """The human-readable message of the vendor's error body."""
    error = vendor_json(vendor, name)["error"]
    return str(error if isinstance(error, str) else error["message"])


def cost(tokens: tuple[int, int]) -> float:
    return (
        tokens[0] * TEST_PRICE["input_per_mtok"] + tokens[1] * TEST_PRICE["output_per_mtok"]
    ) / 1e6


async def ledgered(vote: ProviderVote) -> SpendTotal:
    """What the cost ledger holds after recording ``vote`` (on the in-memory store)."""
    from ffe_adapters.storage.memory import InMemoryStore

    store = InMemoryStore()
    ledger = CostLedger(CostSettings(), store, ManualClock(NOW))
    await ledger.record("d-1", [vote], {}, {})
    async with store() as uow:
        (total,) = await uow.provider_calls.totals(NOW.replace(day=1))
    return total
