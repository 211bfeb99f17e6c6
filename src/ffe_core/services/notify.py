"""Fan-out to several notifiers; one failing channel never silences the others."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ffe_core.ports.notify import Notification, Notifier

log = logging.getLogger(__name__)


class FanoutNotifier:
    name = "fanout"

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self.notifiers = list(notifiers)

    async def notify(self, event: Notification) -> None:
        for notifier in self.notifiers:
            try:
                await notifier.notify(event)
            except Exception as exc:
                log.warning("notifier %s failed: %s", notifier.name, exc)
