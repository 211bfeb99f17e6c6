"""A fake provider for the REST sources: an ``httpx.MockTransport`` answering scripted replies."""

from __future__ import annotations

import json
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from ffe_core.config import DEFAULT_INSTRUMENTS
from ffe_core.domain.instruments import Instrument
from ffe_core.ports.clock import ManualClock

HERE = Path(__file__).parent


def load(source: str, name: str) -> Any:
    return json.loads((HERE / source / "responses" / name).read_text())


class FakeApi:
    """Replies per URL path (or prefix ending in "/"), served in order, the last one repeating."""

    def __init__(self) -> None:
        self.replies: dict[str, deque[httpx.Response]] = {}
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self._handle)

    def add(
        self,
        path: str,
        body: Any = None,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        text: str | None = None,
    ) -> FakeApi:
        if text is not None:
            response = httpx.Response(status, text=text, headers=headers)
        else:
            response = httpx.Response(status, json=body, headers=headers)
        self.replies.setdefault(path, deque()).append(response)
        return self

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path not in self.replies:  # a key ending in "/" answers every path under it
            path = next((k for k in self.replies if k.endswith("/") and path.startswith(k)), path)
        queue = self.replies.get(path)
        if not queue:
            return httpx.Response(404, json={"error": f"no fake reply for {request.url.path}"})
        return queue.popleft() if len(queue) > 1 else queue[0]


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2024, 3, 6, 12, 0, tzinfo=UTC))


def instrument(symbol: str) -> Instrument:
    return next(i for i in DEFAULT_INSTRUMENTS if i.symbol == symbol)


FAST = {"retry_max_wait_seconds": 0.05, "requests_per_minute": 6000}
"""Options that keep retries and the quota from slowing tests down."""


@pytest.fixture
def responses() -> Any:
    """``responses("polygon", "rate_limited.json")`` -> the parsed recorded body."""
    return load


@pytest.fixture
def make_api() -> Any:
    """A factory of extra fakes when one test needs two."""
    return FakeApi


@pytest.fixture
def inst() -> Any:
    """``inst("BTC-USD")`` -> the default Instrument."""
    return instrument


@pytest.fixture
def fast() -> dict[str, Any]:
    return dict(FAST)
