"""The client's address: the socket's peer, or what a trusted proxy says in ``X-Forwarded-For``.

Rate limits and the audit trail ("agent started by api:<address>") key on this address, so a
forwarded header is believed only from the proxies in ``api.trusted_proxies``; from anyone else
(loopback included) it is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def networks(proxies: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: Address | None, trusted: Sequence[Network]) -> bool:
    return address is not None and any(address in net for net in trusted)


def client_address(peer: str, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The client: walking ``X-Forwarded-For`` from the nearest hop, the first address that is
    not a trusted proxy. An unparsable hop ends the walk at the last address we could vouch for."""
    if not forwarded_for or not _trusted(_address(peer), trusted):
        return peer
    client = peer
    for hop in reversed(forwarded_for.split(",")):
        address = _address(hop)
        if address is None:
            break
        client = str(address)
        if not _trusted(address, trusted):
            break
    return client


class TrustedProxyMiddleware:
    """Rewrites ``scope["client"]`` from ``X-Forwarded-For`` when the peer is a trusted proxy."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if self.trusted and scope["type"] == ScopeType.HTTP and client:
            forwarded = ",".join(Headers.from_scope(scope).getall("x-forwarded-for", []))
            host = client_address(client[0], forwarded, self.trusted)
            if host != client[0]:
                scope["client"] = (host, 0)
        await self.app(scope, receive, send)
