"""Start-up checks that refuse, in one line naming the key, what cannot work.

Run by :func:`ffe_entrypoints.lifecycle.startup` for every command, ``serve`` and ``agent run``:
the storage must answer within a bounded time, and every selected decision provider, notifier
and approval channel must build from its configuration (a cloud model without its key, Telegram
without its chat ids or webhook secret), and every one that is ``Verifiable`` must have its
credentials accepted by its upstream (Telegram's getMe). At run time a notifier that breaks later is still only
skipped with a warning; at start-up a misconfigured one is an error, not silence.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ffe_core.config import mask_url_passwords
from ffe_core.domain.errors import ConfigError
from ffe_core.ports.capabilities import Closable, Verifiable

if TYPE_CHECKING:
    from ffe_entrypoints.container import Container

STORAGE_TIMEOUT_SECONDS = 15.0
"""How long the storage may take to answer (connect and migrate) at start-up."""

CHECKED_KINDS = ("notifiers", "approval_channels")
"""Adapter kinds built once at start-up only to check their configuration."""


async def reach_storage(container: Container) -> None:
    """Connect to the storage and bring its schema up to date, within
    ``STORAGE_TIMEOUT_SECONDS``."""
    url = mask_url_passwords(container.settings().storage.url)
    timeout = STORAGE_TIMEOUT_SECONDS
    try:
        storage = container.storage()
        await asyncio.wait_for(storage.migrate(), timeout)
    except TimeoutError:
        raise ConfigError(
            f"storage.url {url}: the database did not answer within {timeout:g}s"
        ) from None
    except ConfigError:
        raise
    except Exception as exc:  # OSError, a driver's own error (asyncpg, sqlalchemy), FfeError
        raise ConfigError(f"storage.url {url}: cannot use the database: {_reason(exc)}") from None


async def check_adapters(container: Container) -> None:
    """Build every selected decision provider, notifier and approval channel and verify those
    that are ``Verifiable``, then the inbound channels when any is selected; a ConfigError
    (naming the key) propagates. Those built only to be checked are closed again."""
    container.decision_providers()
    build = container.build()
    for kind in CHECKED_KINDS:
        for adapter in build.each(kind):
            try:
                if isinstance(adapter, Verifiable):
                    await adapter.verify()
            finally:
                if isinstance(adapter, Closable):
                    await adapter.close()
    if build.names("inbound_channels"):  # built with the control plane they act through
        for channel in container.inbound().values():
            if isinstance(channel, Verifiable):
                await channel.verify()


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return mask_url_passwords(f"{type(exc).__name__}: {text}")[:300]
