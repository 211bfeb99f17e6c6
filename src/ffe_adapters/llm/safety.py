"""Backtest safety for language models: votes cached by (provider, model, prompt key), so a
rerun costs nothing, and a warning when a model is asked about a time it may remember.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime

from ffe_adapters.llm.config import lookup_by_model
from ffe_adapters.llm.stored_vote import stored_signal, stored_vote
from ffe_core.domain.decisions import ProviderVote
from ffe_core.ports.market_data import Cache, InProcessCache
from ffe_core.ports.providers import Signal

log = logging.getLogger(__name__)


class LookaheadWarning(UserWarning):
    """A model was asked to decide at a time before its knowledge cut-off."""


def knowledge_cutoff_warning(
    model: str, as_of: datetime, cutoffs: Mapping[str, date]
) -> str | None:
    """A warning text when ``as_of`` falls on or before ``model``'s knowledge cut-off, else None.

    Such a model may already know what happened next, so a backtest over that period flatters it.
    """
    cutoff = lookup_by_model(cutoffs, model)
    if cutoff is None or as_of.date() > cutoff:
        return None
    return (
        f"model {model!r} has a knowledge cut-off of {cutoff.isoformat()}, after the decision "
        f"time {as_of:%Y-%m-%d}: it may already know what happened next (look-ahead bias)"
    )


class VoteCache:
    """Votes stored through the Cache port; abstentions are never cached."""

    def __init__(self, cache: Cache, ttl_seconds: float, namespace: str = "ffe:llm-vote") -> None:
        self._cache = cache
        self._now = cache if isinstance(cache, InProcessCache) else None
        self._ttl = ttl_seconds
        self._namespace = namespace

    @property
    def reads_now(self) -> bool:
        """Whether :meth:`signal_now` reads the cache (an :class:`InProcessCache`)."""
        return self._now is not None

    def key(self, provider: str, model: str, prompt_key: str) -> str:
        """The cache key of a vote: provider, model and :func:`~ffe_core.prompt_keys.prompt_key`."""
        return f"{self._namespace}:{provider}:{model}:{prompt_key}"

    async def get(self, provider: str, model: str, prompt_key: str) -> ProviderVote | None:
        """The cached vote, or None on a miss, a cache failure or an unreadable entry."""
        return stored_vote(await self._read(provider, model, prompt_key))

    def signal_now(self, provider: str, model: str, prompt_key: str) -> Signal | None:
        """The signal of :meth:`get`'s vote, read without awaiting when :attr:`reads_now`
        (else always a miss)."""
        cache = self._now
        if cache is None:
            return None
        try:
            raw = cache.get_now(self.key(provider, model, prompt_key))
        except Exception as exc:  # as _read
            log.warning("vote cache read failed: %s", exc)
            return None
        return None if raw is None else stored_signal(raw)

    async def get_stored(
        self, provider: str, model: str, prompt_key: str
    ) -> tuple[ProviderVote, str] | None:
        """:meth:`get`'s vote with the JSON text it was read from (e.g. to check it for
        secrets at once, see ``SecretScrubber.may_change_json``)."""
        raw = await self._read(provider, model, prompt_key)
        vote = stored_vote(raw)
        return None if vote is None or raw is None else (vote, raw.decode(errors="replace"))

    async def _read(self, provider: str, model: str, prompt_key: str) -> bytes | None:
        try:
            return await self._cache.get(self.key(provider, model, prompt_key))
        except Exception as exc:  # the port promises a miss, but a cache must never break a vote
            log.warning("vote cache read failed: %s", exc)
            return None

    async def put(self, vote: ProviderVote, model: str, prompt_key: str) -> None:
        if vote.abstained:
            return
        try:
            await self._cache.set(
                self.key(vote.provider, model, prompt_key),
                vote.model_dump_json().encode(),
                self._ttl,
            )
        except Exception as exc:
            log.warning("vote cache write failed: %s", exc)
