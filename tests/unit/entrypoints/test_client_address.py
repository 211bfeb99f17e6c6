"""Which address is the client: X-Forwarded-For is believed only from trusted proxies."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ffe_core.config import ApiSettings
from ffe_entrypoints.api.proxies import Network, client_address, networks

LOOPBACK = networks(["127.0.0.1"])
PROXIES = networks(["127.0.0.1", "10.0.0.0/8", "::1"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        ("127.0.0.1", "6.6.6.6", (), "127.0.0.1"),  # nothing trusted: the header is ignored
        ("127.0.0.1", "6.6.6.6", LOOPBACK, "6.6.6.6"),
        ("10.1.1.1", "6.6.6.6", LOOPBACK, "10.1.1.1"),  # the peer is not a trusted proxy
        ("127.0.0.1", None, LOOPBACK, "127.0.0.1"),
        ("127.0.0.1", "", LOOPBACK, "127.0.0.1"),
        # the nearest untrusted hop wins: a client cannot spoof by prepending addresses
        ("127.0.0.1", "1.1.1.1, 6.6.6.6", LOOPBACK, "6.6.6.6"),
        ("127.0.0.1", "6.6.6.6, 10.2.3.4", PROXIES, "6.6.6.6"),
        ("127.0.0.1", "10.2.3.4, 10.9.9.9", PROXIES, "10.2.3.4"),  # every hop a proxy
        ("::1", "2001:db8::7", PROXIES, "2001:db8::7"),
        # garbage ends the walk at the last address a trusted proxy vouched for
        ("127.0.0.1", "evil, 10.2.3.4", PROXIES, "10.2.3.4"),
        ("127.0.0.1", "not-an-ip", LOOPBACK, "127.0.0.1"),
        ("testclient", "6.6.6.6", LOOPBACK, "testclient"),
    ],
)
def test_client_address(
    peer: str, forwarded: str | None, trusted: tuple[Network, ...], client: str
) -> None:
    assert client_address(peer, forwarded, trusted) == client


def test_trusted_proxies_default_to_none_and_must_be_networks() -> None:
    assert ApiSettings().trusted_proxies == ()
    assert ApiSettings(trusted_proxies=("10.0.0.0/8", "::1")).trusted_proxies == (
        "10.0.0.0/8",
        "::1",
    )
    with pytest.raises(ValidationError, match="not an IP or CIDR"):
        ApiSettings(trusted_proxies=("proxy.example",))
