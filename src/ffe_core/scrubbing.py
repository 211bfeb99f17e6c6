"""Secret values scrubbed out of text before it is stored, logged or served.

An upstream can echo what it was sent (a provider that puts the API key into its 401 body, a
model that repeats a key it saw): such text must not reach a vote, a decision, a log line or an
API answer. :class:`SecretScrubber` is the one scrubber: the entry points fill a process-wide
instance from the settings (:func:`settings_secrets`) and hand it to the adapters and services
that handle upstream text; adapters add the keys they read from their SDK's environment.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel, SecretStr

from ffe_core.config import Settings, is_secret_key, mask_url_passwords, url_passwords
from ffe_core.domain.decisions import Decision, ProviderVote

REDACTED = "**********"
MIN_SECRET_LENGTH = 4
"""Shorter values are not scrubbed: they would mask ordinary words and numbers."""

TELEGRAM_TOKEN = re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b")
"""A Telegram bot token's shape, masked even when the token was never configured here."""
# Looser shapes of the two patterns for a whole-document check; each starts with a literal, so
# searching a large document is a fast scan (a leading character class would be quadratic).
_TOKEN_TAIL = re.compile(r":[A-Za-z0-9_-]{30}")
_URL_WITH_PASSWORD = re.compile(r"://[^:/?#@\s]*:[^@/?#\s]+@")
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')
"""What a JSON encoder escapes inside a string (msgspec escapes nothing else)."""

Scrub = Callable[[str], str]
"""Text in, the same text with every known secret replaced by :data:`REDACTED`."""

M = TypeVar("M", bound=BaseModel)


class SecretScrubber:
    """Replaces known secret values, URL passwords and Telegram-token shapes with ``REDACTED``.

    Callable (a :data:`Scrub`); :meth:`add` registers more values at any time (longest first,
    so a secret containing another is masked whole). Safe to share between threads.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.add(secrets)

    def add(self, values: Iterable[str | None]) -> None:
        fresh = {v for v in values if v and len(v) >= MIN_SECRET_LENGTH}
        with self._lock:
            merged = fresh | set(self._secrets)
            self._secrets = tuple(sorted(merged, key=len, reverse=True))

    def may_change_json(self, document: str) -> bool:
        """False only when no string inside ``document`` (JSON that escapes nothing but quotes,
        backslashes and control characters, as msgspec writes it) would be changed by this
        scrubber: a cheap whole-document check before walking every string of a large answer.
        Errs towards True (a key, a number or a secret that JSON would escape count too)."""
        secrets = self._secrets
        if any(_JSON_ESCAPED.search(s) or s in document for s in secrets):
            return True
        if _URL_WITH_PASSWORD.search(document):
            return True
        return any(
            m.start() > 0 and document[m.start() - 1].isdigit()
            for m in _TOKEN_TAIL.finditer(document)
        )

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return mask_url_passwords(TELEGRAM_TOKEN.sub(REDACTED, text), REDACTED)


def scrub_model(model: M, scrub: Scrub) -> M:
    """``model`` with every text in it scrubbed (nested models, tuples and dicts too).

    Enum values are left alone; the model is copied only when something changed.
    """
    changes: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        cleaned = _scrub_value(value, scrub)
        if cleaned is not value:
            changes[name] = cleaned
    return model.model_copy(update=changes) if changes else model


def _scrub_value(value: Any, scrub: Scrub) -> Any:
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        cleaned = scrub(value)
        return value if cleaned == value else cleaned
    if isinstance(value, BaseModel):
        return scrub_model(value, scrub)
    if isinstance(value, tuple | list):
        items = [_scrub_value(v, scrub) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items)
    if isinstance(value, Mapping):
        pairs = {k: _scrub_value(v, scrub) for k, v in value.items()}
        return value if all(pairs[k] is value[k] for k in value) else pairs
    return value


def scrub_vote(vote: ProviderVote, scrub: Scrub) -> ProviderVote:
    """A vote whose reasoning and abstain reason carry no secret."""
    return scrub_model(vote, scrub)


def scrub_decision(decision: Decision, scrub: Scrub) -> Decision:
    """A decision whose reasoning, votes and risk verdict carry no secret."""
    return scrub_model(decision, scrub)


def settings_secrets(settings: Settings) -> set[str]:
    """Every secret value in ``settings``: each ``SecretStr``, each value under a secret-named
    adapter option (``adapters.<name>.*``), and the password of every URL anywhere in it."""
    found: set[str] = set()
    _collect(settings, "", False, found)
    return found


def _collect(node: Any, key: str, raw: bool, found: set[str]) -> None:
    """``raw`` marks untyped options (``adapters``), where secret-named keys decide."""
    if isinstance(node, SecretStr):
        found.add(node.get_secret_value())
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            _collect(getattr(node, name), name, raw or name == "adapters", found)
    elif isinstance(node, Mapping):
        for k, v in node.items():
            _collect(v, str(k), raw, found)
    elif isinstance(node, list | tuple | set | frozenset):
        for v in node:
            _collect(v, key, raw, found)
    elif node is not None and not isinstance(node, bool | Enum):
        if raw and key and is_secret_key(key) and node != "":
            found.add(str(node))
        if isinstance(node, str):
            found.update(url_passwords(node))
