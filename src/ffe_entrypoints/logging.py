"""Structured logging: JSON in production, readable in development, secrets always redacted."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

from ffe_core.config import (
    Environment,
    Settings,
    is_secret_key,
    mask_url_passwords,
    url_passwords,
)

REDACTED = "**********"
_known_secrets: set[str] = set()
_TOKEN_PATTERN = re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b")  # Telegram bot token shape


def register_secrets(values: Iterable[str | None]) -> None:
    """Remember secret values so they are scrubbed from any log line that contains them."""
    _known_secrets.update(v for v in values if v and len(v) >= 4)


def scrub(text: str) -> str:
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return mask_url_passwords(_TOKEN_PATTERN.sub(REDACTED, text), REDACTED)


def _secret_values(node: Any, key: str = "") -> Iterable[str]:
    """Every value under a secret-named key, and every URL password, anywhere in ``node``."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _secret_values(v, str(k))
    elif isinstance(node, list | tuple):
        for v in node:
            yield from _secret_values(v, key)
    elif node not in (None, "", False, True):
        if key and is_secret_key(key):
            yield str(node)
        if isinstance(node, str):
            yield from url_passwords(node)


def _redact(node: Any, key: str = "") -> Any:
    if key and is_secret_key(key) and node not in (None, "", False):
        return REDACTED
    if isinstance(node, dict):
        return {k: _redact(v, str(k)) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_redact(v) for v in node]
    if isinstance(node, str):
        return scrub(node)
    return node


def redact_processor(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    return {k: _redact(v, k if k != "event" else "") for k, v in event.items()}


class _ScrubFilter(logging.Filter):
    """Scrubs stdlib records that never pass through structlog's processors (e.g. tracebacks)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = scrub(record.getMessage())
            record.args = None
        elif isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        return True


def configure_logging(settings: Settings) -> None:
    """Route structlog and stdlib logging through one redacting renderer at the configured level."""
    secrets = [settings.api.api_key, settings.telegram.bot_token, settings.telegram.webhook_secret]
    register_secrets(s.get_secret_value() for s in secrets if s is not None)
    if settings.monitoring.sentry_dsn is not None:
        register_secrets([settings.monitoring.sentry_dsn.get_secret_value()])
    register_secrets(_secret_values(settings.adapters))  # nested options too
    register_secrets(
        url_passwords(" ".join((settings.storage.url, settings.market_data.cache.redis_url)))
    )
    as_json = settings.logging.json_format
    if as_json is None:
        as_json = settings.environment is Environment.PRODUCTION
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_processor,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_processor,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(_ScrubFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.logging.level)
    for noisy in ("httpx", "httpcore", "aiosqlite", "asyncio", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
