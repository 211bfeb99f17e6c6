"""Fuzzing the Telegram webhook with the right secret: arbitrary bodies, mutated real updates.

The answer is always 200, 400 or 413 with an ``ok`` flag, never a 5xx or an exception (Telegram
retries anything else forever). Built like ``tests/adapters/telegram``: the real adapter against
the fake Bot API on 127.0.0.1 and the in-memory control plane.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parents[1] / "adapters" / "telegram"))
from telegram_fake_api import FakeBotApiServer
from telegram_fake_control import FakeControlPlane
from telegram_helpers import ALICE, SECRET, T0, TOKEN, UPDATES

from ffe_adapters.notify.telegram.bot import build_bot
from ffe_adapters.notify.telegram.config import TelegramConfig, TelegramOptions
from ffe_adapters.notify.telegram.webhook import (
    MAX_BODY_BYTES,
    SECRET_HEADER,
    TelegramWebhook,
)
from ffe_core.ports.clock import ManualClock

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
TEMPLATES = {p.stem: json.loads(p.read_text()) for p in sorted(UPDATES.glob("*.json"))}


class Harness:
    def __init__(self, loop: asyncio.AbstractEventLoop, webhook: TelegramWebhook) -> None:
        self.loop, self.webhook = loop, webhook

    def post(self, body: bytes) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}
        status, answer = self.loop.run_until_complete(self.webhook.handle(headers, body))
        assert status in (200, 400, 413), (status, answer)
        assert isinstance(answer, dict) and answer.get("ok") is (status == 200), answer
        if status != 200:
            assert isinstance(answer.get("error"), str) and answer["error"], answer
        assert TOKEN not in json.dumps(answer)
        if currently_in_test_context():
            event(f"{status} {answer.get('outcome', '')}")
        return status, answer


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    loop = asyncio.new_event_loop()
    with FakeBotApiServer(TOKEN) as api:
        options = TelegramOptions(
            bot_token=SecretStr(TOKEN),
            webhook_secret=SecretStr(SECRET),
            webhook_url="https://ffe.example/webhook/telegram",
            allowed_chat_ids=(ALICE,),
            base_url=api.url,
            request_timeout_seconds=5,
        )
        config = TelegramConfig.from_options(options)
        bot = build_bot(config)
        control = FakeControlPlane(ManualClock(T0))
        for i in range(3):
            control.add_approval(f"appr000{i}")
        try:
            yield Harness(loop, TelegramWebhook.create(bot, control, config, control.clock))
        finally:
            loop.run_until_complete(bot.shutdown())
            loop.close()


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63, max_value=2**70),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(
        [
            "/status",
            "/approve appr0001",
            "/reject",
            "/start@bot x y",
            "/pause",
            "/resume",
            "appr:appr0001:y",
            "appr:appr0002:n",
            "appr::",
            "appr:appr0001:maybe",
            "bot_command",
            "private",
            "",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            out += paths(child, (*prefix, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            out += paths(child, (*prefix, i))
    return out


@st.composite
def mutated_updates(draw: st.DrawFn) -> dict[str, Any]:
    update = copy.deepcopy(TEMPLATES[draw(st.sampled_from(sorted(TEMPLATES)))])
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        where = draw(st.sampled_from(paths(update)))
        parent = update
        for part in where[:-1]:
            parent = parent[part]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent[where[-1]] = draw(values)
        if not paths(update):
            break
    update["update_id"] = draw(st.one_of(st.integers(min_value=0, max_value=2**40), scalars))
    return update


@FUZZ
@given(update=mutated_updates())
def test_mutated_real_updates(harness: Harness, update: dict[str, Any]) -> None:
    harness.post(json.dumps(update).encode())


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=200),
        values.map(lambda v: json.dumps(v).encode()),
        st.dictionaries(st.text(max_size=8), values, max_size=4).map(
            lambda d: json.dumps({**d, "update_id": 1}).encode()
        ),
    )
)
@example(body=b'{"update_id": 1, "message": null}')
@example(body=b'{"update_id": 1, "callback_query": []}')
@example(body=b'{"update_id": 1e400}')
@example(body=b'{"update_id": 18446744073709551616}')
@example(body=b"[" * 100_000)
@example(body=b'{"update_id": 1, "x": ' + b"[" * 5000 + b"]" * 5000 + b"}")
def test_arbitrary_bodies(harness: Harness, body: bytes) -> None:
    harness.post(body)


def test_oversized_body_is_413(harness: Harness) -> None:
    status, _ = harness.post(b'{"update_id": 1, "x": "' + b"a" * MAX_BODY_BYTES + b'"}')
    assert status == 413


def test_a_real_command_is_still_served(harness: Harness) -> None:
    status, answer = harness.post(json.dumps(TEMPLATES["command_private"]).encode())
    assert status == 200 and answer["outcome"] != "ignored", answer
