"""A secret an upstream echoes back is stored, logged and served nowhere.

A fake language-model service on 127.0.0.1 echoes the key each real SDK sent it: Anthropic in
its 401 body (key from ``adapters.anthropic.api_key``), Gemini inside a 200 answer's reasoning
and OpenAI in a refusal (keys from the SDKs' own ``GEMINI_API_KEY`` / ``OPENAI_API_KEY``). A
decision is made through the real container, then every place it can be read is searched for
the keys: the API (create, list, detail), the log output in both formats, ``ffe decide --json``
in a fresh process, the SQLite file and a ``pg_dump`` of the PostgreSQL schema. The later tests
take the last lines of defence one at a time (a provider outside the LLM adapters, a row stored
unscrubbed) and the scrubber itself.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import threading
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import structlog
from dependency_injector import providers

from ffe_core.config import Settings
from ffe_core.domain.context import DecisionContext
from ffe_core.domain.decisions import Action, Decision, ProviderVote
from ffe_core.scrubbing import REDACTED, SecretScrubber, settings_secrets
from ffe_entrypoints.api.auth import API_KEY_HEADER
from ffe_entrypoints.container import Container
from tests.api.conftest import API_KEY, api_settings, serving
from tests.conftest import PG_HOST, PG_PORT, PG_URL, drop_schema, require_postgres

SDK_KEY_VARS = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OLLAMA_API_KEY",
)


@dataclass
class Keys:
    """Fresh per test, so a scrubber filled by an earlier test cannot hide a miss."""

    anthropic: str = field(default_factory=lambda: f"sk-ant-echo-{secrets.token_hex(8)}")
    openai: str = field(default_factory=lambda: f"sk-oai-echo-{secrets.token_hex(8)}")
    gemini: str = field(default_factory=lambda: f"AIza-echo-{secrets.token_hex(8)}")

    def all(self) -> tuple[str, str, str]:
        return (self.anthropic, self.openai, self.gemini)


def _anthropic_401(key: str) -> tuple[int, dict[str, Any]]:
    message = f"invalid x-api-key: {key}"
    return 401, {"type": "error", "error": {"type": "authentication_error", "message": message}}


def _answer(key: str) -> str:
    return json.dumps(
        {
            "action": "HOLD",
            "confidence": 0.6,
            "reasoning": f"Flat market. (Debug: request authorised with key {key}.)",
            "stop_loss": None,
            "take_profit": None,
        }
    )


def _gemini_answer(key: str) -> tuple[int, dict[str, Any]]:
    candidate = {
        "content": {"parts": [{"text": _answer(key)}], "role": "model"},
        "finishReason": "STOP",
        "index": 0,
    }
    usage = {"promptTokenCount": 100, "candidatesTokenCount": 20, "totalTokenCount": 120}
    return 200, {"candidates": [candidate], "usageMetadata": usage}


def _openai_refusal(key: str) -> tuple[int, dict[str, Any]]:
    message = {
        "role": "assistant",
        "content": None,
        "refusal": f"I cannot help with a request signed with Bearer {key}.",
    }
    return 200, {
        "id": "chatcmpl-echo",
        "object": "chat.completion",
        "created": 1741570283,
        "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }


class EchoServer:
    """Answers the three vendors' endpoints, echoing the key each request carried."""

    def __init__(self) -> None:
        self.received: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if self.path.endswith("/v1/messages"):
                    key = self.headers.get("x-api-key") or bearer  # this SDK sends either
                    status, body = _anthropic_401(key)
                elif self.path.endswith("/v1/chat/completions"):
                    key = bearer
                    status, body = _openai_refusal(key)
                elif self.path.endswith(":generateContent"):
                    key = self.headers.get("x-goog-api-key") or ""
                    status, body = _gemini_answer(key)
                else:
                    key, status, body = "", 404, {"error": f"no route {self.path}"}
                server.received.append(key)
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Keys:
    """The OpenAI and Gemini keys reach their SDKs through the SDKs' own variables only."""
    made = Keys()
    for var in SDK_KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", made.openai)
    monkeypatch.setenv("GEMINI_API_KEY", made.gemini)
    return made


def ffe_environ(echo: EchoServer, keys: Keys, storage_url: str) -> dict[str, str]:
    """Settings (as environment variables) enabling the three providers against ``echo``."""
    return {
        "FFE_STORAGE__URL": storage_url,
        "FFE_PROVIDERS__ENABLED": '["anthropic", "openai", "gemini"]',
        "FFE_ENSEMBLE__QUORUM": "1",
        "FFE_ADAPTERS__ANTHROPIC__API_KEY": keys.anthropic,
        "FFE_ADAPTERS__ANTHROPIC__BASE_URL": echo.url,
        "FFE_ADAPTERS__ANTHROPIC__MAX_RETRIES": "0",
        "FFE_ADAPTERS__OPENAI__BASE_URL": f"{echo.url}/v1",
        "FFE_ADAPTERS__OPENAI__MAX_RETRIES": "0",
        "FFE_ADAPTERS__GEMINI__BASE_URL": echo.url,
        "FFE_ADAPTERS__GEMINI__MAX_RETRIES": "0",
        "LOGGING_LEVEL": "DEBUG",
    }


def assert_clean(where: str, text: str, keys: Keys) -> None:
    for key in keys.all():
        at = text.find(key)
        assert at < 0, f"{key!r} leaked into {where}: ...{text[max(0, at - 200) : at + 200]}"


def assert_echo_happened(echo: EchoServer, keys: Keys, decision: Decision) -> None:
    """The keys did travel and come back: what is checked was scrubbed, not merely absent."""
    assert set(keys.all()) <= set(echo.received), echo.received
    votes = {v.provider: v for v in decision.votes}
    anthropic, openai, gemini = votes["anthropic"], votes["openai"], votes["gemini"]
    assert anthropic.abstained and "authentication failed (HTTP 401)" in (
        anthropic.abstain_reason or ""
    )
    assert f"invalid x-api-key: {REDACTED}" in (anthropic.abstain_reason or "")
    assert openai.abstained and f"Bearer {REDACTED}" in (openai.abstain_reason or "")
    assert not gemini.abstained and f"with key {REDACTED}" in gemini.reasoning
    assert REDACTED in decision.reasoning  # the ensemble quotes the reasons it combined


async def decide_through_api(settings: Settings, keys: Keys) -> tuple[Decision, list[str]]:
    """POST a decision, then read it back through the list and the detail endpoints."""
    headers = {API_KEY_HEADER: API_KEY}
    async with serving(settings) as (client, _):
        created = await client.post(
            "/api/v1/decisions", headers=headers, json={"instrument": "BTC-USD"}
        )
        assert created.status_code == 201, created.text
        decision = Decision.model_validate_json(created.text)
        listed = await client.get("/api/v1/decisions", headers=headers)
        detail = await client.get(f"/api/v1/decisions/{decision.id}", headers=headers)
        # Logged as an object too: the last processor scrubs the rendered line itself.
        structlog.get_logger("ffe.test.echo").warning("vote seen", raw=_Opaque(keys.gemini))
        logging.getLogger("ffe.test.echo").warning("upstream said %s", _Opaque(keys.anthropic))
    assert listed.status_code == detail.status_code == 200
    return decision, [created.text, listed.text, detail.text]


class _Opaque:
    """A value whose text only its ``repr`` shows (as a logged SDK object would)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def __repr__(self) -> str:
        return f"<UpstreamBody {self.secret}>"

    __str__ = __repr__


@pytest.mark.parametrize("json_logs", [True, False], ids=["json-logs", "console-logs"])
async def test_echoed_keys_reach_no_api_answer_log_line_or_sqlite_byte(
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    echo: EchoServer,
    keys: Keys,
    json_logs: bool,
) -> None:
    environ = ffe_environ(echo, keys, f"sqlite+aiosqlite:///{tmp_path / 'api.db'}")
    environ["FFE_LOGGING__JSON_FORMAT"] = str(json_logs).lower()
    environ["FINANCE_FEEDBACK_API_KEY"] = API_KEY
    settings = api_settings(tmp_path, environ)

    decision, bodies = await decide_through_api(settings, keys)
    logs = capfd.readouterr().err

    assert_echo_happened(echo, keys, decision)
    for body in bodies:
        assert decision.id in body
        assert_clean("the API", body, keys)
    assert "vote seen" in logs and "upstream said <UpstreamBody" in logs
    assert "output rejected" in logs  # the refusal (with OpenAI's echo) was logged
    if json_logs:
        assert any(line.startswith("{") for line in logs.splitlines()), logs[-2000:]
    assert_clean("the logs", logs, keys)
    stored = stored_bytes(tmp_path, "api.db")
    assert decision.id in stored
    assert_clean("the SQLite file", stored, keys)


@pytest.mark.postgres
async def test_echoed_keys_reach_no_postgresql_row(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], echo: EchoServer, keys: Keys
) -> None:
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    environ = ffe_environ(echo, keys, PG_URL)
    environ.update({"FFE_STORAGE__SCHEMA_NAME": schema, "FINANCE_FEEDBACK_API_KEY": API_KEY})
    try:
        decision, bodies = await decide_through_api(api_settings(tmp_path, environ), keys)
        dumped = pg_dump(schema) or await schema_rows(schema)
    finally:
        await drop_schema(schema)
    logs = capfd.readouterr().err

    assert_echo_happened(echo, keys, decision)
    assert decision.id in dumped and "invalid x-api-key" in dumped
    for where, text in (("PostgreSQL", dumped), ("the API", "".join(bodies)), ("logs", logs)):
        assert_clean(where, text, keys)


def pg_dump(schema: str) -> str | None:
    """``pg_dump`` of the schema, data included (None when pg_dump is not installed)."""
    if shutil.which("pg_dump") is None:
        return None
    command = ["pg_dump", "-h", PG_HOST, "-p", str(PG_PORT), "-U", "postgres", "-n", schema, "test"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


async def schema_rows(schema: str) -> str:
    """Every row of the decisions and votes tables, when there is no pg_dump."""
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="test")
    try:
        rows = []
        for table in ("decisions", "votes"):
            rows += [repr(dict(r)) for r in await conn.fetch(f'SELECT * FROM "{schema}".{table}')]
        return "\n".join(rows)
    finally:
        await conn.close()


def stored_bytes(directory: Path, database: str) -> str:
    """The SQLite database file and its journals, as text, and the flight recorder's compressed
    contents inflated (a secret in them would not show in the raw bytes)."""
    raw = b"".join(p.read_bytes() for p in directory.glob(f"{database}*"))
    with contextlib.closing(sqlite3.connect(directory / database)) as db:
        inflated = [zlib.decompress(d) for (d,) in db.execute("SELECT data FROM flight_contents")]
    return b"\n".join([raw, *inflated]).decode("utf-8", "replace")


def test_ffe_decide_json_prints_no_echoed_key(tmp_path: Path, echo: EchoServer, keys: Keys) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FFE_")}
    env.update(ffe_environ(echo, keys, f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"))
    env["FFE_LOGGING__JSON_FORMAT"] = "true"
    proc = subprocess.run(
        [sys.executable, "-m", "ffe_entrypoints.cli.main", "decide", "BTC-USD", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    decision = Decision.model_validate_json(proc.stdout)

    assert_echo_happened(echo, keys, decision)
    assert_clean("ffe decide --json", proc.stdout, keys)
    assert_clean("the CLI's logs", proc.stderr, keys)
    stored = stored_bytes(tmp_path, "cli.db")
    assert decision.id in stored
    assert_clean("the CLI's SQLite file", stored, keys)


# ---- the last lines of defence, each on its own ---------------------------------------------


class PluginProvider:
    """A provider outside the LLM adapters that quotes a configured key in its vote."""

    def __init__(self, name: str, secret: str, fail: bool = False) -> None:
        self.name, self.secret, self.fail = name, secret, fail

    async def vote(self, context: DecisionContext) -> ProviderVote:
        if self.fail:
            raise RuntimeError(f"upstream said: bad token {self.secret}")
        return ProviderVote(provider=self.name, reasoning=f"echo {self.secret}", confidence=0.5)


async def test_votes_from_any_provider_are_scrubbed_before_they_are_stored(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    secret = f"nested-token-{secrets.token_hex(8)}"
    environ = {
        "FINANCE_FEEDBACK_API_KEY": API_KEY,
        "FFE_ADAPTERS__SOMEVENUE__AUTH__TOKEN": secret,  # any adapter's secret option counts
        "FFE_ENSEMBLE__QUORUM": "1",
    }
    settings = api_settings(tmp_path, environ)
    fakes = {
        "quoter": PluginProvider("quoter", secret),
        "failer": PluginProvider("failer", secret, fail=True),
    }

    def configure(container: Container) -> None:
        container.decision_providers.override(providers.Object(fakes))

    headers = {API_KEY_HEADER: API_KEY}
    async with serving(settings, configure) as (client, _):
        created = await client.post(
            "/api/v1/decisions", headers=headers, json={"instrument": "BTC-USD"}
        )
        listed = await client.get("/api/v1/decisions", headers=headers)
    assert created.status_code == 201, created.text
    decision = Decision.model_validate_json(created.text)
    votes = {v.provider: v for v in decision.votes}
    assert votes["quoter"].reasoning == f"echo {REDACTED}"
    assert votes["failer"].abstain_reason == f"RuntimeError: upstream said: bad token {REDACTED}"
    stored = stored_bytes(tmp_path, "api.db")
    for where, text in (
        ("the API", created.text + listed.text),
        ("the logs", capfd.readouterr().err),
        ("the SQLite file", stored),
    ):
        assert secret not in text, where


async def test_a_stored_decision_is_scrubbed_again_when_served(tmp_path: Path) -> None:
    secret = f"sk-ant-{secrets.token_hex(8)}"
    environ = {"FINANCE_FEEDBACK_API_KEY": API_KEY, "FFE_ADAPTERS__ANTHROPIC__API_KEY": secret}
    vote = ProviderVote.abstain("anthropic", f"HTTP 401: bad key {secret}")
    old = Decision(
        instrument="BTC-USD", action=Action.HOLD, confidence=0.0, votes=(vote,), reasoning=secret
    )
    headers = {API_KEY_HEADER: API_KEY}
    async with serving(api_settings(tmp_path, environ)) as (client, container):
        async with container.uow_factory()() as uow:  # written before the key was scrubbed
            await uow.decisions.add(old)
            await uow.commit()
        listed = await client.get("/api/v1/decisions", headers=headers)
        detail = await client.get(f"/api/v1/decisions/{old.id}", headers=headers)
    assert listed.status_code == detail.status_code == 200
    assert old.id in listed.text and f"bad key {REDACTED}" in detail.text
    assert secret not in listed.text + detail.text


# ---- the scrubber --------------------------------------------------------------------------


def test_settings_secrets_are_every_secret_str_secret_option_and_url_password() -> None:
    settings = Settings.model_validate(
        {
            "api": {"api_key": "api-key-1234"},
            "monitoring": {"sentry_dsn": "https://pub@o1.ingest.sentry.io/1"},
            "storage": {"url": "postgresql+asyncpg://u:pgpass99@db/ffe"},
            "adapters": {
                "openai": {"api_key": "sk-openai-1", "model": "gpt-4.1-mini"},
                "oanda": {"auth": {"token": "oanda-tok"}, "account": "acct-visible"},
                "ollama": {"host": "http://me:ollamapw@gpu:11434"},
                "telegram": {"webhook_secret": "hook-5678"},
            },
        }
    )
    found = settings_secrets(settings)
    expected = {"api-key-1234", "hook-5678", "https://pub@o1.ingest.sentry.io/1", "pgpass99"}
    assert expected | {"sk-openai-1", "oanda-tok", "ollamapw"} <= found
    assert not {"gpt-4.1-mini", "acct-visible", "BTC-USD"} & found


def test_scrubber_masks_longest_secret_first_and_keeps_the_rest_of_the_text() -> None:
    scrub = SecretScrubber(["abcd", "abcdefgh", None, "ab"])  # "ab" is too short to mask
    assert scrub("key abcdefgh, prefix abcd, ab") == f"key {REDACTED}, prefix {REDACTED}, ab"
    assert scrub("redis://:pw1234@h:6379/0") == f"redis://:{REDACTED}@h:6379/0"


def test_llm_options_name_the_sdk_key_they_would_use(monkeypatch: pytest.MonkeyPatch) -> None:
    from ffe_adapters.llm.anthropic.config import AnthropicOptions
    from ffe_adapters.llm.gemini.config import GeminiOptions
    from ffe_adapters.llm.ollama.config import OllamaOptions
    from ffe_adapters.llm.openai.config import OpenAIOptions

    for var in SDK_KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "env-anthropic")
    monkeypatch.setenv("OPENAI_API_KEY", "env-openai")
    monkeypatch.setenv("GOOGLE_API_KEY", "env-google")
    monkeypatch.setenv("OLLAMA_HOST", "http://u:hostpass@gpu:11434")
    assert "env-anthropic" in set(AnthropicOptions(api_key="cfg-key").secret_values())
    assert set(OpenAIOptions().secret_values()) == {"env-openai"}
    assert set(GeminiOptions().secret_values()) == {"env-google"}
    assert set(OllamaOptions().secret_values()) == {"hostpass"}
