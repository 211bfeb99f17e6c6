"""The brokers the contract runs, each on a venue that keeps state: the paper simulator, and the
stateful Coinbase / OANDA fakes of ``tests.integration.money.venue_servers`` on 127.0.0.1
(vendor sample bodies), reached through the adapters' ``base_url`` option."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ffe_adapters.brokers.coinbase.factories import make_coinbase_broker
from ffe_adapters.brokers.oanda.factories import make_oanda_broker
from ffe_adapters.brokers.paper.factories import make_paper_broker
from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.market_data.bundled.config import BundledOptions
from ffe_adapters.market_data.bundled.data import BundledSource
from ffe_adapters.storage.memory import InMemoryUnitOfWorkFactory
from ffe_core.config import CoreView, Settings
from ffe_core.ports.brokers import Broker, VenueKind
from ffe_core.ports.clock import ManualClock
from tests.integration.money.venue_servers import (
    CoinbaseVenue,
    OandaVenue,
    bundled_market,
    tls_certificate,
)

START = datetime(2026, 12, 7, 14, 0, 30, tzinfo=UTC)
CASH = Decimal("100000")
PAGE = 2
"""Items per listing page the venues are asked for: small, so a few orders span pages."""
FAST = {"timeout_seconds": 5, "retries": 2, "retry_backoff_seconds": 0, "max_retry_wait_seconds": 0}


@dataclass
class Venue:
    """A broker under contract and what the cases need to know about it."""

    name: str
    broker: Broker
    symbol: str
    quantity: Decimal
    resting_limit: Decimal | None
    """A limit price that rests (far below the market), or None if the venue cannot rest one."""
    expected: VenueKind


def ec_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _far_below(clock: ManualClock, symbol: str) -> Decimal:
    return (bundled_market(clock)(symbol, "BUY") / 2).quantize(Decimal("0.01"))


@contextmanager
def venue(name: str, directory: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Venue]:
    """The broker ``name`` on its venue, built by its registered factory from options."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    clock = ManualClock(START)
    settings = Settings()
    if name == "paper":
        ctx = AdapterContext(
            name="paper",
            core=CoreView.of(Settings.model_validate({"trading": {"initial_cash": str(CASH)}})),
            clock=clock,
            uow_factory=InMemoryUnitOfWorkFactory(),
            market_data=BundledSource(BundledOptions(), clock=clock),
            options={"market_fill": "quote"},
        )
        far = _far_below(clock, "BTC-USD")
        yield Venue(
            name, make_paper_broker(ctx), "BTC-USD", Decimal("0.01"), far, VenueKind.SIMULATED
        )
    elif name == "coinbase":
        certificate = tls_certificate(directory)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))  # the fake speaks https
        fake = CoinbaseVenue(
            cash=CASH, market=bundled_market(clock), now=clock.now, certificate=certificate
        )
        fake.start()
        options: dict[str, Any] = {
            "api_key": "organizations/org-1/apiKeys/key-1",
            "api_secret": ec_pem(),
            "base_url": f"https://127.0.0.1:{fake.port}",
            "order_lookup_limit": PAGE,
            **FAST,
        }
        ctx = AdapterContext(
            name="coinbase", core=CoreView.of(settings), clock=clock, options=options
        )
        try:
            far = _far_below(clock, "BTC-USD")
            yield Venue(
                name, make_coinbase_broker(ctx), "BTC-USD", Decimal("0.01"), far, VenueKind.SANDBOX
            )
            assert fake.unexpected == [], "the adapter asked the fake venue for something else"
        finally:
            fake.close()
    else:
        account = "101-004-1435156-001"  # the account of the vendor's samples
        fake = OandaVenue(
            account_id=account, balance=CASH, market=bundled_market(clock), now=clock.now
        )
        fake.start()
        options = {
            "access_token": "test-token",
            "account_id": account,
            "environment": "practice",
            "base_url": fake.api,
            **FAST,
        }
        ctx = AdapterContext(name="oanda", core=CoreView.of(settings), clock=clock, options=options)
        try:
            far = _far_below(clock, "EUR-USD")
            yield Venue(
                name, make_oanda_broker(ctx), "EUR-USD", Decimal("100"), far, VenueKind.SANDBOX
            )
            assert fake.unexpected == [], "the adapter asked the fake venue for something else"
        finally:
            fake.close()


BROKERS = ("paper", "coinbase", "oanda")
"""Every built-in broker (the example plugin supplies none)."""
