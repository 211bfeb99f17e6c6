"""The decision list as served: pages kept between the writes that change them.

Dashboards poll the newest page every few seconds; each poll used to read and re-encode up to
200 stored decisions. A page is now built once per change: at once after this process stores a
decision (:meth:`DecisionFeed.invalidate`, told by the decision service), within ``max_age``
seconds for decisions stored by another process (the agent in its own process, the CLI).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ffe_core.domain.decisions import Decision
from ffe_core.ports.storage import DecisionQuery, UnitOfWorkFactory
from ffe_core.scrubbing import scrub_decision
from ffe_core.services.read_model import Refreshing
from ffe_entrypoints.api.schemas import DecisionPage
from ffe_entrypoints.logging import SCRUBBER, scrub


class DecisionFeed:
    """Encoded pages of the decision list, one per recent query (at most ``keep``)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        max_age: float = 1.0,
        keep: int = 32,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow_factory = uow_factory
        self._max_age = max_age
        self._keep = keep
        self._now = now
        self._pages: dict[DecisionQuery, Refreshing[bytes]] = {}

    def invalidate(self) -> None:
        """A decision was stored: every page is rebuilt on its next read."""
        self._pages.clear()

    async def page(self, query: DecisionQuery) -> bytes:
        """The JSON body of ``query``'s page (``DecisionPage``)."""
        page = self._pages.get(query)
        if page is None:
            while len(self._pages) >= self._keep:
                del self._pages[next(iter(self._pages))]
            page = self._pages[query] = Refreshing(
                lambda: self._build(query), max_age=self._max_age, now=self._now
            )
        return await page.get()

    async def _build(self, query: DecisionQuery) -> bytes:
        """The stored JSON as it is when the scrubber finds nothing to change in it;
        validated and scrubbed otherwise (a row stored before a secret was known)."""
        from litestar.serialization import encode_json  # the API's; not for the CLI's container

        async with self._uow_factory() as uow:
            stored, next_cursor = await uow.decisions.list_stored(query)
        body = encode_json({"items": stored, "next_cursor": next_cursor})
        if not SCRUBBER.may_change_json(body.decode()):
            return body
        items = [scrub_decision(Decision.model_validate(d), scrub) for d in stored]
        return encode_json(
            DecisionPage(items=items, next_cursor=next_cursor).model_dump(mode="json")
        )
