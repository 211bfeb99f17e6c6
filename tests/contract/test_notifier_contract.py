"""The Notifier port's contract, run by every built-in notifier and the example plugin's.

What the agent relies on: each notification reaches its destination, and a failing upstream —
Telegram's documented failure bodies, with their HTTP status or inside a 200 as a proxy sends
them, a flood-control 429 with ``retry_after``, a journal that cannot be written — never raises
into the agent; a rate limit is waited out and the notification still goes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ffe_core.ports.notify import EventKind, Notification, Notifier
from tests.contract.notifiers import NOTIFIERS, Built, notifier

pytestmark = pytest.mark.timeout(30)

FAILURES = [
    ("telegram", "rejected"),
    ("telegram", "error_in_200"),
    ("telegram", "rate_limited"),
    ("telegram", "rate_limited_in_200"),
    ("journal", "unwritable"),
]
"""Every upstream failure of each notifier (the log notifier has no upstream)."""
WAITED_OUT = {"rate_limited", "rate_limited_in_200"}


@pytest.fixture(params=NOTIFIERS)
async def on(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Built]:
    async with notifier(request.param, tmp_path) as built:
        yield built


def event(title: str, kind: EventKind = EventKind.FILL) -> Notification:
    return Notification(kind=kind, title=title, body="0.01 BTC-USD at 100", fields={"qty": "0.01"})


async def test_declares_the_port_under_its_registered_name(on: Built) -> None:
    assert isinstance(on.notifier, Notifier)
    assert on.notifier.name == on.name


async def test_every_kind_of_notification_is_delivered_in_order(on: Built) -> None:
    titles = [f"contract {kind.value}" for kind in EventKind]
    for kind, title in zip(EventKind, titles, strict=True):
        await on.notifier.notify(event(title, kind))
    delivered = on.delivered()
    assert len(delivered) == len(titles)
    for text, title in zip(delivered, titles, strict=True):
        assert title in text


@pytest.mark.parametrize(("name", "failure"), FAILURES)
async def test_a_failing_upstream_never_raises_into_the_agent(
    name: str, failure: str, tmp_path: Path
) -> None:
    async with notifier(name, tmp_path) as on:
        on.failures[failure]()
        await on.notifier.notify(event("while failing"))  # must not raise
        if "recovered" in on.failures:
            on.failures["recovered"]()
        await on.notifier.notify(event("after the failure"))
        delivered = on.delivered()
    assert any("after the failure" in text for text in delivered)
    waited_out = any("while failing" in text for text in delivered)
    assert waited_out is (failure in WAITED_OUT)
