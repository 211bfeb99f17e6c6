"""A notifier writing each notification as one JSON line to a file (``adapters.journal``)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ffe_core.ports.notify import Notification

log = logging.getLogger(__name__)


class JournalOptions(BaseModel):
    """``adapters.journal.*``"""

    model_config = ConfigDict(frozen=True, extra="forbid")
    path: Path = Path("data/notifications.jsonl")


class JournalNotifier:
    """``ffe_core.ports.notify.Notifier``: appends ``{"kind", "title", "body", "fields", "ts"}``."""

    name = "journal"

    def __init__(self, options: JournalOptions) -> None:
        self.path = options.path

    async def notify(self, event: Notification) -> None:
        """Append the line; a journal that cannot be written is logged, never raised (a
        notification must not break the agent)."""
        line = json.dumps(event.model_dump(mode="json")) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line)
        except OSError as exc:
            log.warning("journal %s not written (%s: %s)", self.path, type(exc).__name__, exc)
