"""The leader lease: which one of several processes may act (send orders) right now.

A lease is granted for ``ttl_seconds`` and must be renewed before it lapses; every change of holder
increments a *fencing token*. The holder proves it is still the leader by presenting its token
(:meth:`LeaderLease.fenced`) right before a side effect, so a leader that was paused or cut off
while another took over has its orders refused instead of doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from ffe_core.domain.errors import ConflictError

log = logging.getLogger(__name__)


class StaleLeader(ConflictError):
    """This process's lease token is no longer current: another process leads now."""


def lease_holder() -> str:
    """A holder id unique to this process incarnation (host:pid:random)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def holder_is_gone(holder: str, *, self_holder: str | None = None) -> bool:
    """True when ``holder`` ("host:pid" or "host:pid:random") names a process on this host that
    no longer exists, or this very process under an older incarnation (a restarted container
    reusing its pid). Holders on other hosts are never judged gone: their lease must expire.
    """
    parts = holder.split(":")
    if len(parts) < 2 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return self_holder is not None and holder != self_holder
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True)
class LeaseGrant:
    """A granted lease. ``expires_at`` is in the lease store's clock (Unix seconds)."""

    name: str
    holder: str
    token: int
    expires_at: float


class LeaderLease(Protocol):
    """One named lease shared by every process of a deployment."""

    name: str
    holder: str
    ttl_seconds: float

    async def acquire(self) -> LeaseGrant | None:
        """Take the lease if it is free, expired or already ours; None while another holds it.

        A change of holder increments the token; re-acquiring our own live lease keeps it.
        """
        ...

    async def renew(self, token: int) -> LeaseGrant:
        """Extend our lease; raises :class:`StaleLeader` if ``token`` is no longer current."""
        ...

    async def release(self, token: int) -> None:
        """Give the lease up now (so a follower need not wait for expiry); no-op if not ours."""
        ...

    async def is_current(self, token: int) -> bool:
        """Whether ``token`` is still the lease's token (nobody took over since)."""
        ...

    def fenced(self, token: int) -> AbstractAsyncContextManager[None]:
        """Enter only while ``token`` is current, else raise :class:`StaleLeader`.

        Stores that can (PostgreSQL) also hold off a takeover until the block ends, so a side
        effect started inside the fence cannot overlap a new leader's.
        """
        ...

    async def current(self) -> LeaseGrant | None:
        """The lease as stored now (any holder), or None if never granted."""
        ...


class LeaseKeeper:
    """Holds a granted lease: renews it every third of its TTL and reports when it is lost.

    Renewal survives transient store errors until the lease would have lapsed locally
    (monotonic clock); then, or when the store says another holds it, ``on_lost`` is called.
    """

    def __init__(
        self, lease: LeaderLease, grant: LeaseGrant, on_lost: Callable[[], None] | None = None
    ) -> None:
        self.lease = lease
        self.grant = grant
        self.lost = False
        self._on_lost = on_lost
        self._valid_until = time.monotonic() + lease.ttl_seconds
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def take(
        cls, lease: LeaderLease, on_lost: Callable[[], None] | None = None
    ) -> LeaseKeeper:
        """Acquire and start renewing; raises ConflictError naming the holder when refused."""
        started = time.monotonic()
        grant = await lease.acquire()
        if grant is None:
            held = await lease.current()
            by = f" by {held.holder} (token {held.token})" if held else ""
            raise ConflictError(f"leader lease {lease.name!r} is held{by}")
        keeper = cls(lease, grant, on_lost)
        keeper._valid_until = started + lease.ttl_seconds
        keeper._task = asyncio.create_task(keeper._renew_forever(), name=f"lease-{lease.name}")
        return keeper

    @property
    def token(self) -> int:
        return self.grant.token

    @contextlib.asynccontextmanager
    async def fenced(self) -> AsyncIterator[None]:
        """The lease's fence for our token; refuses at once if the lease is known lost."""
        if self.lost or time.monotonic() > self._valid_until:
            raise StaleLeader(
                f"stale leader: lease {self.lease.name!r} token {self.token} lapsed or was "
                "taken over; not acting"
            )
        async with self.lease.fenced(self.token):
            yield

    async def stop(self, release: bool = True) -> None:
        """Stop renewing and (unless lost) release the lease so a follower takes over now."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if release and not self.lost:
            with contextlib.suppress(Exception):
                await self.lease.release(self.token)

    async def _renew_forever(self) -> None:
        interval = self.lease.ttl_seconds / 3
        while True:
            await asyncio.sleep(interval)
            started = time.monotonic()
            try:
                self.grant = await self.lease.renew(self.token)
                self._valid_until = started + self.lease.ttl_seconds
            except StaleLeader as exc:
                self._lose(str(exc))
                return
            except Exception as exc:  # store unreachable: keep trying until the lease lapses
                log.warning("lease %s renewal failed: %s", self.lease.name, exc)
                if time.monotonic() > self._valid_until:
                    self._lose(f"renewal failing since the lease lapsed: {exc}")
                    return

    def _lose(self, reason: str) -> None:
        self.lost = True
        log.warning("lost leader lease %s (token %s): %s", self.lease.name, self.token, reason)
        if self._on_lost is not None:
            self._on_lost()


class LocalLeaderLease:
    """An in-process lease (tests, single process): holders share one ``board`` dict."""

    def __init__(
        self,
        name: str,
        ttl_seconds: float,
        *,
        holder: str | None = None,
        board: dict[str, LeaseGrant] | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.ttl_seconds = ttl_seconds
        self.holder = holder or lease_holder()
        self.board: dict[str, LeaseGrant] = {} if board is None else board
        self._now = now

    async def acquire(self) -> LeaseGrant | None:
        now = self._now()
        held = self.board.get(self.name)
        if held is not None and held.holder != self.holder and held.expires_at > now:
            return None
        if held is not None and held.holder == self.holder and held.expires_at > now:
            token = held.token
        else:
            token = (held.token if held else 0) + 1
        grant = LeaseGrant(self.name, self.holder, token, now + self.ttl_seconds)
        self.board[self.name] = grant
        return grant

    async def renew(self, token: int) -> LeaseGrant:
        held = self.board.get(self.name)
        if held is None or held.token != token or held.holder != self.holder:
            raise StaleLeader(f"stale leader: lease {self.name!r} token {token} is not current")
        grant = LeaseGrant(self.name, self.holder, token, self._now() + self.ttl_seconds)
        self.board[self.name] = grant
        return grant

    async def release(self, token: int) -> None:
        held = self.board.get(self.name)
        if held is not None and held.token == token and held.holder == self.holder:
            self.board[self.name] = LeaseGrant(self.name, "", token, 0.0)

    async def is_current(self, token: int) -> bool:
        held = self.board.get(self.name)
        return held is not None and held.token == token and held.holder == self.holder

    @contextlib.asynccontextmanager
    async def fenced(self, token: int) -> AsyncIterator[None]:
        if not await self.is_current(token):
            raise StaleLeader(f"stale leader: lease {self.name!r} token {token} is not current")
        yield

    async def current(self) -> LeaseGrant | None:
        return self.board.get(self.name)
