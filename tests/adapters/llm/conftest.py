"""Fixtures of the language-model adapter tests; the fake itself is in ``llm_fakes``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from llm_fakes import (
    WIRES,
    FakeServer,
    MemoryCache,
    RecordingMetrics,
    Wire,
    build_provider,
    make_context,
)

from ffe_adapters.llm.base import LlmProvider
from ffe_core.domain.context import DecisionContext


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=sorted(WIRES))
def wire(request: pytest.FixtureRequest) -> Wire:
    return WIRES[request.param]


@pytest.fixture
def context() -> DecisionContext:
    return make_context()


@pytest.fixture
async def build(fake: FakeServer) -> Any:
    """``build(wire, **options)``: a provider pointed at ``fake``; closed after the test."""
    made: list[LlmProvider] = []

    def _build(wire: Wire, **kwargs: Any) -> LlmProvider:
        provider = build_provider(wire, fake, **kwargs)
        made.append(provider)
        return provider

    yield _build
    for provider in made:
        await provider.close()


@pytest.fixture
def context_at() -> Callable[..., DecisionContext]:
    return make_context


@pytest.fixture
def metrics() -> RecordingMetrics:
    return RecordingMetrics()


@pytest.fixture
def memory_cache() -> MemoryCache:
    return MemoryCache()


@pytest.fixture
def wires() -> dict[str, Wire]:
    return WIRES
