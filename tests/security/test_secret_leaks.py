"""Secrets never leak: the API key, the Telegram bot token, adapter keys and the storage password.

Checked where an operator or an attacker could read them: the log output of a running app
(successful, refused and failing requests, and a Telegram call that fails with the token in its
URL), error response bodies, ``/metrics``, OpenTelemetry spans, and ``ffe config show``.
``tests/api/test_tracing.py`` already checks the API key against spans and ``/metrics`` for one
successful and one refused request; this file adds the bot token, the error paths and the logs.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dependency_injector import providers
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ffe_entrypoints.api.auth import API_KEY_HEADER
from ffe_entrypoints.container import Container
from ffe_entrypoints.logging import configure_logging
from ffe_entrypoints.settings import load_settings
from tests.api.conftest import api_settings, serving

API_KEY = "sec-api-key-7f3c9a1e2b"
BOT_TOKEN = "987654321:AAH-botTokenSecretValue_0123456789xyz"
WEBHOOK_SECRET = "hook-secret-5e6f7a"
ANTHROPIC_KEY = "sk-ant-secret-4d5e6f"
NESTED_TOKEN = "nested-oanda-token-1a2b"
PG_PASSWORD = "s3cretPGpass"
REDIS_PASSWORD = "r3disPass9"
SENTRY_DSN = "https://publickey123@o1.ingest.sentry.io/42"
SECRETS = (API_KEY, BOT_TOKEN, WEBHOOK_SECRET, ANTHROPIC_KEY, NESTED_TOKEN, PG_PASSWORD)
ENV = {
    "FINANCE_FEEDBACK_API_KEY": API_KEY,
    "FFE_ADAPTERS__TELEGRAM__BOT_TOKEN": BOT_TOKEN,
    "FFE_ADAPTERS__TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,
    "FFE_ADAPTERS__ANTHROPIC__API_KEY": ANTHROPIC_KEY,
    "FFE_ADAPTERS__OANDA__AUTH__TOKEN": NESTED_TOKEN,
}
STATUS_COMMAND = {
    "update_id": 7,
    "message": {
        "message_id": 1,
        "date": 1767225600,
        "chat": {"id": 4242, "type": "private"},
        "from": {"id": 4242, "is_bot": False, "first_name": "Op"},
        "text": "/status",
        "entities": [{"offset": 0, "length": 7, "type": "bot_command"}],
    },
}
PG_URL = f"postgresql+asyncpg://ffe_user:{PG_PASSWORD}@127.0.0.1:1/ffe"


def assert_clean(text: str, *secrets: str) -> None:
    for secret in secrets or SECRETS:
        assert secret not in text, (
            f"{secret!r} leaked: ...{text[max(0, text.find(secret) - 200) :][:400]}"
        )


# ---- ffe config show ---------------------------------------------------------------------


def ffe(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("FFE_")}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "ffe_entrypoints.cli.main", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("as_json", [False, True])
def test_config_show_masks_every_secret(tmp_path: Path, as_json: bool) -> None:
    env = {
        **ENV,
        "FFE_STORAGE__URL": PG_URL,
        "FFE_ADAPTERS__REDIS__URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:6379/0",
        "SENTRY_DSN": SENTRY_DSN,
    }
    proc = ffe(["config", "show", *(["--json"] if as_json else [])], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert_clean(out, *SECRETS, REDIS_PASSWORD, SENTRY_DSN, "publickey123")
    assert "ffe_user:**********@127.0.0.1:1/ffe" in out  # the rest of the URL is still shown
    assert ":**********@127.0.0.1:6379/0" in out
    if as_json:
        data = json.loads(proc.stdout)
        assert data["api"]["api_key"] == data["adapters"]["telegram"]["bot_token"] == "**********"
        assert data["adapters"]["oanda"]["auth"]["token"] == "**********"


def test_cli_error_on_unreachable_storage_does_not_show_the_password(tmp_path: Path) -> None:
    for args in (["db", "upgrade"], ["--debug", "db", "upgrade"]):
        proc = ffe(args, tmp_path, {**ENV, "FFE_STORAGE__URL": PG_URL})
        assert proc.returncode != 0
        assert proc.stderr.strip(), "the failure should be reported"
        assert_clean(proc.stdout + proc.stderr)


def test_log_redaction_covers_urls_nested_adapter_keys_and_tracebacks(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(
        tmp_path, environ={**ENV, "FFE_STORAGE__URL": PG_URL, "LOGGING_LEVEL": "DEBUG"}
    )
    configure_logging(settings)
    log = logging.getLogger("ffe.test.leaks")
    log.info("connecting to %s", PG_URL)
    log.warning("adapter options %s", {"auth": {"token": NESTED_TOKEN}})
    try:
        raise RuntimeError(f"boom with {API_KEY} and {BOT_TOKEN} and {ANTHROPIC_KEY}")
    except RuntimeError:
        log.exception("failed")
    err = capfd.readouterr().err
    assert "connecting to" in err and "boom with" in err and "Traceback" in err
    assert_clean(err)


# ---- a running app ------------------------------------------------------------------------


def in_memory_tracer() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


async def test_running_app_leaks_no_secret(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    tracer_provider, exporter = in_memory_tracer()
    environ = {
        **ENV,
        "LOGGING_LEVEL": "DEBUG",
        "FFE_NOTIFY__NOTIFIERS": '["log", "telegram"]',
        "FFE_NOTIFY__APPROVAL_CHANNELS": '["log", "telegram"]',
        "FFE_NOTIFY__INBOUND": '["telegram"]',
        "FFE_ADAPTERS__TELEGRAM__ALLOWED_CHAT_IDS": "[4242]",
        "FFE_ADAPTERS__TELEGRAM__BASE_URL": "http://127.0.0.1:9",  # nothing listens: calls fail
    }
    settings = api_settings(tmp_path, environ)

    def configure(container: Container) -> None:
        container.tracer_provider.override(providers.Object(tracer_provider))

    bodies: list[str] = []
    hook = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    async with serving(settings, configure) as (client, _):
        good = {API_KEY_HEADER: API_KEY}
        requests = [
            ("POST", "/api/v1/decisions", good, {"instrument": "BTC-USD"}),
            ("GET", "/api/v1/approvals", good, None),
            ("GET", "/api/v1/status", {API_KEY_HEADER: API_KEY + "x"}, None),  # near miss
            ("GET", "/api/v1/status", {API_KEY_HEADER: API_KEY[:-1]}, None),
            ("GET", "/api/v1/decisions/nope", good, None),
            ("GET", "/api/v1/decisions", good, {"limit": "ten"}),
            ("POST", "/api/v1/decisions", good, {"instrument": BOT_TOKEN}),
            ("POST", "/webhook/telegram", {"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}),
            (
                "POST",
                "/webhook/telegram",
                {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
                {"update_id": 1, "message": {"text": 5}},
            ),
            ("POST", "/webhook/telegram", hook, STATUS_COMMAND),  # the reply fails: no API
            ("GET", "/metrics", {}, None),
            ("GET", "/health", {}, None),
        ]
        statuses = []
        for method, path, headers, payload in requests:
            if method == "GET":
                response = await client.get(path, headers=headers, params=payload)
            else:
                response = await client.post(path, headers=headers, json=payload)
            statuses.append(response.status_code)
            if path != "/api/v1/decisions" or response.status_code >= 400:
                bodies.append(f"{method} {path} {response.status_code} {response.text}")
        metrics = (await client.get("/metrics")).text
    logs = capfd.readouterr().err
    spans = exporter.get_finished_spans()
    recorded = repr([(s.name, dict(s.attributes or {}), s.events, s.status) for s in spans])

    assert statuses[0] == 201 and statuses[2] == statuses[3] == 401, statuses
    assert statuses[4] == 404 and statuses[5] == 400 and statuses[7] == 403, statuses
    assert statuses[8] == 400, statuses
    assert statuses[9] == 200, bodies
    assert "127.0.0.1:9/bot<redacted>" in logs  # the bot's URL was logged, without the token
    assert "sendMessage" in logs or "NetworkError" in logs or "send_message" in logs, logs[-3000:]
    assert len(spans) >= 5 and "ffe_" in metrics
    for where in (logs, "\n".join(bodies), metrics, recorded):
        assert_clean(where, API_KEY, BOT_TOKEN, WEBHOOK_SECRET, ANTHROPIC_KEY, NESTED_TOKEN)
