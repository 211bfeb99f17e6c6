"""Constants and helpers shared by the Telegram adapter tests (Update JSON, webhook posts)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ffe_adapters.notify.telegram.webhook import SECRET_HEADER, TelegramWebhook

TOKEN = "123456:TEST-tokenZ9xQ"
SECRET = "hook-secret_42"
ALICE = 1111
UPDATES = Path(__file__).parent / "updates"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def load_update(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((UPDATES / f"{name}.json").read_text())
    return data


def command_update(text: str, update_id: int = 700000100) -> dict[str, Any]:
    update = load_update("command_private")
    update["update_id"] = update_id
    update["message"]["text"] = text
    update["message"]["entities"][0]["length"] = len(text.split()[0])
    return update


def callback_update(approval_id: str, answer: str, update_id: int = 700000200) -> dict[str, Any]:
    update = load_update("callback_approve")
    update["update_id"] = update_id
    update["callback_query"]["id"] = f"cb{update_id}"
    update["callback_query"]["data"] = f"appr:{approval_id}:{answer}"
    return update


async def post(
    webhook: TelegramWebhook, update: dict[str, Any] | bytes, secret: str | None = SECRET
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    return await webhook.handle(headers, body)
