"""Start-up refuses what cannot work: one line naming the key, exit 2, for ``serve``,
``agent run`` and every other command that builds the container."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_cli import assert_one_line_error, free_port, run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "adapters" / "telegram"))
from telegram_fake_api import FakeBotApi, FakeBotApiServer
from telegram_helpers import TOKEN

DEAD_POSTGRES = "postgresql+asyncpg://nobody:hunter2@127.0.0.1:1/none"
NO_KEY = {"ANTHROPIC_API_KEY": "", "ANTHROPIC_AUTH_TOKEN": ""}


@pytest.mark.parametrize(
    "args",
    [
        ["approvals", "list"],
        ["agent", "run", "--cycles", "1", "--json"],
        ["db", "upgrade"],
        ["serve", "--port", "0", "--no-agent"],
    ],
    ids=["approvals-list", "agent-run", "db-upgrade", "serve"],
)
def test_unreachable_storage_is_one_line_naming_storage_url(
    tmp_path: Path, args: list[str]
) -> None:
    if args[0] == "serve":
        args = ["serve", "--port", str(free_port()), "--no-agent"]
    proc = run(args, tmp_path, {"FFE_STORAGE__URL": DEAD_POSTGRES})
    assert_one_line_error(
        proc, 2, "storage.url postgresql+asyncpg://nobody:", "cannot use the database"
    )
    assert "hunter2" not in proc.stderr  # the password is masked


@pytest.mark.parametrize(
    "args",
    [["agent", "run", "--cycles", "1", "--json"], ["serve", "--no-agent"], ["approvals", "list"]],
    ids=["agent-run", "serve", "approvals-list"],
)
def test_a_hosted_model_without_its_key_is_refused_at_start(
    tmp_path: Path, args: list[str]
) -> None:
    if args[0] == "serve":
        args = [*args, "--port", str(free_port())]
    env = {"FFE_PROVIDERS__ENABLED": "[trend, anthropic]", **NO_KEY}
    assert_one_line_error(
        run(args, tmp_path, env), 2, "adapters.anthropic.api_key is not set", "ANTHROPIC_API_KEY"
    )


def test_list_valued_env_vars_take_the_readmes_yaml_flow_form(tmp_path: Path) -> None:
    env = {"FFE_PROVIDERS__ENABLED": "[trend, mean_reversion, breakout]"}
    proc = run(["config", "show", "--json"], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["providers"]["enabled"] == [
        "trend",
        "mean_reversion",
        "breakout",
    ]
    as_json = {"FFE_PROVIDERS__ENABLED": '["trend"]'}
    assert json.loads(run(["config", "show", "--json"], tmp_path, as_json).stdout)["providers"][
        "enabled"
    ] == ["trend"]


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"FFE_NOTIFY__NOTIFIERS": "[log, telegram]"}, "adapters.telegram.allowed_chat_ids"),
        (
            {
                "FFE_NOTIFY__APPROVAL_CHANNELS": "[telegram]",
                "FFE_ADAPTERS__TELEGRAM__ALLOWED_CHAT_IDS": "[5]",
            },
            "adapters.telegram.webhook_secret",
        ),
    ],
    ids=["no-chat-ids", "no-webhook-secret"],
)
def test_half_configured_telegram_is_an_error_not_silence(
    tmp_path: Path, env: dict[str, str], key: str
) -> None:
    env = {"FFE_ADAPTERS__TELEGRAM__BOT_TOKEN": "123:not-a-real-token", **env}
    for args in (["approvals", "list"], ["agent", "run", "--cycles", "1", "--json"]):
        assert_one_line_error(run(args, tmp_path, env), 2, key)


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    """A local fake of the Telegram Bot API that knows one token (any other gets 401)."""
    with FakeBotApiServer(TOKEN) as api:
        yield api


def _polling_env(api: FakeBotApi, token: str, **lists: str) -> dict[str, str]:
    return {
        "FFE_ADAPTERS__TELEGRAM__BOT_TOKEN": token,
        "FFE_ADAPTERS__TELEGRAM__MODE": "polling",
        "FFE_ADAPTERS__TELEGRAM__ALLOWED_CHAT_IDS": "[5]",
        "FFE_ADAPTERS__TELEGRAM__BASE_URL": api.url,
        "FFE_ADAPTERS__TELEGRAM__RATE_LIMIT": "false",
        **{f"FFE_NOTIFY__{k.upper()}": v for k, v in lists.items()},
    }


@pytest.mark.parametrize(
    ("args", "lists"),
    [
        (["serve", "--no-agent"], {"inbound": "[telegram]"}),
        (["agent", "run", "--cycles", "1", "--json"], {"notifiers": "[log, telegram]"}),
        (["agent", "run", "--cycles", "1", "--json"], {"inbound": "[telegram]"}),
    ],
    ids=["serve-inbound", "agent-run-notifier", "agent-run-inbound"],
)
def test_polling_with_a_token_telegram_refuses_is_one_line_exit_2(
    tmp_path: Path, bot_api: FakeBotApi, args: list[str], lists: dict[str, str]
) -> None:
    if args[0] == "serve":
        args = [*args, "--port", str(free_port())]
    env = _polling_env(bot_api, "123:wrong-token", **lists)
    proc = run(args, tmp_path, env)
    assert_one_line_error(proc, 2, "adapters.telegram.bot_token", "getMe", "Unauthorized")
    assert "wrong-token" not in proc.stderr
    assert [c.method for c in bot_api.calls] == []  # the fake knows no such token: no method ran
    assert any(p.endswith("/getMe") for p in bot_api.paths)


def test_polling_with_the_right_token_starts(tmp_path: Path, bot_api: FakeBotApi) -> None:
    env = _polling_env(bot_api, TOKEN, notifiers="[log, telegram]", inbound="[telegram]")
    proc = run(["agent", "run", "--cycles", "1", "--json"], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    methods = [c.method for c in bot_api.calls]
    assert methods.count("getMe") == 1, "the notifier and the inbound channel share one token"
