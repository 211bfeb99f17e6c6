"""Builds the python-telegram-bot ``Bot`` and keeps its token out of every log line."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from typing import Any

import httpx
from telegram import Bot
from telegram.error import Forbidden, InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from ffe_adapters.notify.telegram.config import DEFAULT_API_BASE, TelegramConfig
from ffe_core.domain.errors import ConfigError

LOGGER_NAME = "ffe.telegram"
REDACTED = "<redacted>"

_LEAKY_LOGGERS = (
    "httpx",  # logs every request URL, which contains /bot<token>/
    "httpcore",
    "telegram",
    "telegram.Bot",  # logs its base URL at DEBUG
    "telegram.ext.ExtBot",
    "telegram.ext.AIORateLimiter",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
    LOGGER_NAME,
)
"""Loggers whose records may carry the token; a filter on each rewrites it before any handler."""


class TokenRedactingFilter(logging.Filter):
    """Replaces known secrets in a record's message (and traceback text) with ``<redacted>``."""

    def __init__(self) -> None:
        super().__init__("ffe-token-redaction")
        self.secrets: set[str] = set()

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(text)
        return True


_FILTER = TokenRedactingFilter()


def protect_secret(secret: str) -> None:
    """Redact ``secret`` from the HTTP client, python-telegram-bot and ffe.telegram loggers."""
    if not secret:
        return
    _FILTER.secrets.add(secret)
    for name in _LEAKY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def redact(text: str) -> str:
    """``text`` with every protected secret removed; use on exception messages before logging."""
    return _FILTER.redact(text)


class CheckedRequest(HTTPXRequest):
    """``HTTPXRequest`` that reads a 2xx body ``{"ok": false, "error_code": N, ...}`` as the
    HTTP status N it reports.

    The Bot API's contract is the ``ok`` field (https://core.telegram.org/bots/api#making-requests);
    python-telegram-bot trusts the status and, given such a body under a 200 (a proxy or a
    self-hosted Bot API server), fails with a bare ``KeyError('result')``. Read as its own status,
    the body becomes the typed error it describes (``RetryAfter`` for ``parameters.retry_after``).
    """

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        if 200 <= code < 300 and payload.startswith(b"{"):
            try:
                body = json.loads(payload)
            except ValueError:
                return code, payload
            if isinstance(body, dict) and body.get("ok") is False:
                status = body.get("error_code")
                return (status if isinstance(status, int) and status >= 400 else 400), payload
        return code, payload


def api_base_url(base_url: str | None) -> str:
    """The ``base_url`` python-telegram-bot expects (it appends the token).

    Accepts a server root (``http://127.0.0.1:8081``), a root ending in ``/bot``, or a template
    containing ``{token}``.
    """
    root = (base_url or DEFAULT_API_BASE).rstrip("/")
    if "{token}" in root or root.endswith("/bot"):
        return root
    return root + "/bot"


def build_bot(config: TelegramConfig) -> Bot:
    """A Bot pointed at ``config.base_url`` (or api.telegram.org), rate limited when possible.

    Call ``await close_bot(bot)`` when done to close its HTTP connections.
    """
    token = config.token.get_secret_value()
    protect_secret(token)
    if config.webhook_secret is not None:  # setWebhook's parameters are logged at DEBUG
        protect_secret(config.webhook_secret.get_secret_value())
    timeout = config.request_timeout_seconds
    shared = {"verify": httpx.create_ssl_context()}  # one TLS context (~0.1 s each) for both pools
    kwargs: dict[str, Any] = {
        "base_url": api_base_url(config.base_url),
        "request": CheckedRequest(
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            httpx_kwargs=shared,
        ),
        "get_updates_request": CheckedRequest(
            connect_timeout=timeout,
            read_timeout=timeout + config.poll_timeout_seconds,
            write_timeout=timeout,
            httpx_kwargs=shared,
        ),
    }
    limiter = _rate_limiter() if config.rate_limit else None
    if limiter is None:
        return Bot(token, **kwargs)
    from telegram.ext import ExtBot

    return ExtBot(token, rate_limiter=limiter, **kwargs)


async def close_bot(bot: Bot) -> None:
    """Close the bot's HTTP connection pools (idempotent).

    ``Bot.shutdown()`` alone returns early unless ``Bot.initialize()`` ran, and ffe never
    initializes its bots (that costs a getMe), so each request object is shut down too.
    """
    await bot.shutdown()
    requests = getattr(bot, "_request", (bot.request,))  # (getUpdates request, the others)
    await asyncio.gather(*(request.shutdown() for request in requests))


_ACCEPTED: set[str] = set()
"""Digests of the API URL + token pairs Telegram has accepted in this process: the notifier, the
approval channel and the inbound channel share one token, and it is asked about once."""


async def verify_token(bot: Bot) -> None:
    """Ask Telegram who the bot is (getMe), once per token and process: a refused token is a
    ConfigError naming the key; a network or server failure only leaves the token unchecked
    (logged), as Telegram may be down."""
    digest = hashlib.sha256(bot.base_url.encode()).hexdigest()  # the URL holds the token
    if digest in _ACCEPTED:
        return
    try:
        await bot.get_me()
        _ACCEPTED.add(digest)
    except (InvalidToken, Forbidden) as exc:
        reason = redact(str(exc)) or type(exc).__name__
        raise ConfigError(
            f"adapters.telegram.bot_token: Telegram refused it (getMe: {reason});"
            " set FFE_ADAPTERS__TELEGRAM__BOT_TOKEN to the token @BotFather gave"
        ) from None
    except TelegramError as exc:
        logging.getLogger(LOGGER_NAME).warning(
            "telegram getMe failed, the bot token is unchecked: %s: %s",
            type(exc).__name__,
            redact(str(exc)),
        )


def _rate_limiter() -> Any | None:
    """``AIORateLimiter`` when python-telegram-bot's rate-limiter extra is installed."""
    try:
        from telegram.ext import AIORateLimiter

        return AIORateLimiter(max_retries=2)
    except (ImportError, RuntimeError):
        return None


async def register_webhook(bot: Bot, config: TelegramConfig) -> None:
    """Point Telegram at ``adapters.telegram.webhook_url`` with the secret it must echo in each request."""
    if not config.webhook_url or config.webhook_secret is None:
        raise ConfigError("adapters.telegram.webhook_url and webhook_secret are both required")
    await bot.set_webhook(
        url=config.webhook_url,
        secret_token=config.webhook_secret.get_secret_value(),
        allowed_updates=["message", "callback_query"],
    )
