"""Structured logging: JSON in production, readable in development, secrets always redacted."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

from ffe_core.config import Environment, Settings, is_secret_key
from ffe_core.scrubbing import REDACTED, SecretScrubber, settings_secrets

__all__ = [
    "REDACTED",
    "SCRUBBER",
    "configure_logging",
    "redact_processor",
    "register_secrets",
    "scrub",
    "scrub_rendered",
    "shared_scrubber",
]

FRAMEWORK_LOGGERS = ("litestar", "uvicorn", "uvicorn.error", "uvicorn.access")
"""Loggers that frameworks may give handlers of their own; they go through ours instead."""

SCRUBBER = SecretScrubber()
"""The process-wide scrubber: log lines, API errors, Sentry events and, through the container,
the adapters and services that handle upstream text all use this one."""


def register_secrets(values: Iterable[str | None]) -> None:
    """Remember secret values so they are scrubbed from any log line that contains them."""
    SCRUBBER.add(values)


def scrub(text: str) -> str:
    return SCRUBBER(text)


def shared_scrubber(settings: Settings) -> SecretScrubber:
    """:data:`SCRUBBER`, knowing every secret of ``settings``."""
    SCRUBBER.add(settings_secrets(settings))
    return SCRUBBER


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


def scrub_rendered(_logger: Any, _name: str, line: Any) -> Any:
    """The last processor: the rendered line itself is scrubbed (JSON or console), so values
    logged as objects (their ``repr``) cannot carry a secret past :func:`redact_processor`."""
    return scrub(line) if isinstance(line, str) else line


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
    shared_scrubber(settings)
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
            scrub_rendered,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(_ScrubFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.logging.level)
    for framework in FRAMEWORK_LOGGERS:  # Litestar installs its own handler and format: one format
        logger = logging.getLogger(framework)
        logger.handlers[:] = []
        logger.propagate = True
    for noisy in ("httpx", "httpcore", "aiosqlite", "asyncio", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
