"""Optional Sentry error reporting (``SENTRY_DSN`` / ``monitoring.sentry_dsn``), secrets scrubbed.

Every event passes ``scrub_event`` before it leaves the process: values under secret-looking keys
or headers are replaced, and every string goes through the log scrubber (known secret values and
bot-token shapes).
"""

from __future__ import annotations

from typing import Any

from ffe_core import __version__
from ffe_core.config import Settings, is_secret_key
from ffe_core.scrubbing import settings_secrets
from ffe_entrypoints.logging import REDACTED, register_secrets, scrub

SECRET_HEADERS = frozenset(
    {"authorization", "cookie", "set-cookie", "x-api-key", "x-telegram-bot-api-secret-token"}
)


def _is_secret(key: str) -> bool:
    return key.lower() in SECRET_HEADERS or is_secret_key(key)


def _scrub(node: Any, key: str = "") -> Any:
    if key and _is_secret(key) and node not in (None, "", False):
        return REDACTED
    if isinstance(node, dict):
        return {k: _scrub(v, str(k)) for k, v in node.items()}
    if isinstance(node, list | tuple):
        # header lists arrive as [name, value] pairs
        if len(node) == 2 and isinstance(node[0], str) and _is_secret(node[0]):
            return [node[0], REDACTED]
        return [_scrub(v) for v in node]
    if isinstance(node, str):
        return scrub(node)
    return node


def scrub_event(event: dict[str, Any], _hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry ``before_send``: the event with every secret replaced by ``**********``."""
    return dict(_scrub(event))


def init_sentry(settings: Settings, **options: Any) -> bool:
    """Start the Sentry SDK when a DSN is configured; ``options`` go to ``sentry_sdk.init``.

    Returns whether Sentry was started.
    """
    dsn = settings.monitoring.sentry_dsn
    if dsn is None:
        return False
    import sentry_sdk

    register_secrets([dsn.get_secret_value(), *sorted(settings_secrets(settings))])
    sentry_sdk.init(
        dsn=dsn.get_secret_value(),
        environment=settings.environment.value,
        release=f"ffe@{__version__}",
        before_send=scrub_event,  # type: ignore[arg-type]
        # unhandled request errors reach Sentry through the logging integration (the API's
        # error handler logs them); probing for every installed SDK would slow start-up by seconds
        **{"auto_enabling_integrations": False, **options},
    )
    return True
