"""Telegram adapter configuration: everything under ``adapters.telegram``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ffe_core.domain.errors import ConfigError

DEFAULT_API_BASE = "https://api.telegram.org"
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook's secret_token accepts


class TelegramOptions(BaseModel):
    """``adapters.telegram``: the bot, who may use it, and tuning (the defaults fit one private
    chat). Telegram is used where its name is listed: ``notify.notifiers``,
    ``notify.approval_channels``, ``notify.inbound``."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    bot_token: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    webhook_url: str | None = None
    allowed_chat_ids: tuple[int, ...] = ()
    mode: Literal["webhook", "polling"] = "webhook"
    base_url: str | None = None  # Bot API base, for a local fake or a self-hosted Bot API server
    notify_chat_ids: tuple[int, ...] = ()  # default: every allowed chat id
    approval_chat_id: int | None = None  # default: the first allowed chat id
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    rate_limit: bool = True  # telegram.ext.AIORateLimiter when its extra is installed
    poll_timeout_seconds: int = Field(default=30, ge=0, le=50)


@dataclass(frozen=True)
class TelegramConfig:
    """Everything the Telegram adapter needs, validated once.

    ``allowed_ids`` holds user ids and chat ids: an update is trusted when its sender *or* its
    chat is listed, so listing a group id trusts every member of that group.
    """

    token: SecretStr
    allowed_ids: frozenset[int]
    notify_chat_ids: tuple[int, ...]
    approval_chat_id: int
    mode: Literal["webhook", "polling"] = "webhook"
    webhook_secret: SecretStr | None = None
    webhook_url: str | None = None
    base_url: str | None = None
    request_timeout_seconds: float = 10.0
    rate_limit: bool = True
    poll_timeout_seconds: int = 30

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | TelegramOptions) -> TelegramConfig:
        """Raises ConfigError naming the key when Telegram cannot work as configured."""
        if isinstance(options, TelegramOptions):
            opts = options
        else:
            try:
                opts = TelegramOptions.model_validate(dict(options))
            except ValidationError as exc:
                first = exc.errors(include_url=False, include_input=False)[0]
                key = ".".join(str(p) for p in first["loc"])
                raise ConfigError(f"adapters.telegram.{key}: {first['msg']}") from None
        if opts.bot_token is None or not opts.bot_token.get_secret_value().strip():
            raise ConfigError(
                "adapters.telegram.bot_token is not set (FFE_ADAPTERS__TELEGRAM__BOT_TOKEN)"
            )
        if not opts.allowed_chat_ids:
            raise ConfigError(
                "adapters.telegram.allowed_chat_ids is empty: nobody could receive messages or"
                " approve"
            )
        if opts.mode == "webhook" and opts.webhook_secret is None:
            raise ConfigError(
                "adapters.telegram.webhook_secret is required in webhook mode"
                " (FFE_ADAPTERS__TELEGRAM__WEBHOOK_SECRET)"
            )
        secret = opts.webhook_secret
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret.get_secret_value()):
            raise ConfigError(
                "adapters.telegram.webhook_secret must be 1-256 characters of A-Z, a-z, 0-9, _"
                " and -"
            )
        return cls(
            token=opts.bot_token,
            allowed_ids=frozenset(opts.allowed_chat_ids),
            notify_chat_ids=opts.notify_chat_ids or opts.allowed_chat_ids,
            approval_chat_id=(
                opts.allowed_chat_ids[0] if opts.approval_chat_id is None else opts.approval_chat_id
            ),
            mode=opts.mode,
            webhook_secret=opts.webhook_secret,
            webhook_url=opts.webhook_url,
            base_url=opts.base_url,
            request_timeout_seconds=opts.request_timeout_seconds,
            rate_limit=opts.rate_limit,
            poll_timeout_seconds=opts.poll_timeout_seconds,
        )

    def is_allowed(self, user_id: int | None, chat_id: int | None) -> bool:
        return (user_id is not None and user_id in self.allowed_ids) or (
            chat_id is not None and chat_id in self.allowed_ids
        )
