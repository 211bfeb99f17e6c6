"""Sentry starts only with a DSN, and no secret leaves the process in an event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from ffe_entrypoints.api.sentry import init_sentry, scrub_event
from ffe_entrypoints.logging import REDACTED, register_secrets
from tests.api.conftest import API_KEY, api_settings

BOT_TOKEN = "123456789:AAEhBP0av28Q7wUzzYzzYzzYzzYzzYzzYzz"


class Captured(Transport):
    """A transport that keeps envelopes instead of sending them."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def text(self) -> str:
        return "\n".join(
            item.payload.get_bytes().decode() for env in self.envelopes for item in env.items
        )


@pytest.fixture
def no_sentry() -> Iterator[None]:
    yield
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)  # back to the no-op client


def test_scrub_event_redacts_secret_keys_headers_and_values() -> None:
    register_secrets([API_KEY])
    event = {
        "message": f"failed with key {API_KEY} and token {BOT_TOKEN}",
        "request": {
            "headers": {"X-API-Key": API_KEY, "Authorization": "Bearer abc", "Accept": "*/*"},
            "query_string": f"key={API_KEY}",
        },
        "extra": {"settings": {"bot_token": "short", "api_key": None, "port": 8000}},
        "breadcrumbs": {"values": [{"message": f"retry {API_KEY}"}]},
        "header_pairs": [["X-Telegram-Bot-Api-Secret-Token", "s3cr3t"], ["Accept", "json"]],
    }
    scrubbed = scrub_event(event)
    text = json.dumps(scrubbed)
    assert API_KEY not in text
    assert BOT_TOKEN not in text
    assert "Bearer abc" not in text
    assert "s3cr3t" not in text
    assert scrubbed["request"]["headers"]["X-API-Key"] == REDACTED
    assert scrubbed["request"]["headers"]["Accept"] == "*/*"
    assert scrubbed["extra"]["settings"] == {"bot_token": REDACTED, "api_key": None, "port": 8000}
    assert scrubbed["header_pairs"][1] == ["Accept", "json"]


def test_sentry_is_off_without_a_dsn(tmp_path: Path) -> None:
    assert init_sentry(api_settings(tmp_path)) is False


def test_sentry_events_leave_without_secrets(tmp_path: Path, no_sentry: None) -> None:
    env = {
        "SENTRY_DSN": "http://publickey@127.0.0.1:9/1",
        "FINANCE_FEEDBACK_API_KEY": API_KEY,
        "FFE_ADAPTERS__TELEGRAM__BOT_TOKEN": BOT_TOKEN,
    }
    transport = Captured()
    assert (
        init_sentry(
            api_settings(tmp_path, env), transport=transport, auto_enabling_integrations=False
        )
        is True
    )
    try:
        raise RuntimeError(f"broker refused key {API_KEY} (bot {BOT_TOKEN})")
    except RuntimeError as exc:
        sentry_sdk.capture_exception(exc)
    sentry_sdk.flush()
    sent = transport.text()
    assert "broker refused key" in sent  # the event did go out
    assert REDACTED in sent
    assert API_KEY not in sent
    assert BOT_TOKEN not in sent
