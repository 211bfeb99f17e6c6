"""The live-venue guard: every broker declares its ``venue``; the container refuses a live one
unless ``trading.mode: live`` and ``trading.confirm_live: true`` (built through the real container).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from dependency_injector import providers
from oandapyV20.oandapyV20 import TRADING_ENVIRONMENTS

from ffe_adapters.brokers.coinbase.config import LIVE_HOST, SANDBOX_HOST
from ffe_adapters.hookspecs import AdapterContext, hookimpl
from ffe_adapters.registry import load_registry
from ffe_core.config import Settings, StorageSettings
from ffe_core.domain.errors import ConfigError
from ffe_core.domain.orders import Order, OrderStatus, Side
from ffe_core.ports.brokers import Broker, VenueKind
from ffe_entrypoints.container import Container, build_container
from ffe_entrypoints.lifecycle import shutdown

RESPONSES = Path(__file__).parent / "coinbase" / "responses"
OANDA_ACCOUNT = "101-004-1435156-001"
LIVE_CONFIRMED = {"mode": "live", "confirm_live": True}
LIVE_REFUSAL = r"reaches a live venue .*trading\.mode: live and trading\.confirm_live: true"


def ec_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


PEM = ec_pem()
COINBASE_KEYS = {"api_key": "organizations/org-1/apiKeys/key-1", "api_secret": PEM}


@pytest.fixture
async def built(tmp_path: Path) -> AsyncIterator[Callable[..., Container]]:
    """``built(broker, options, **trading)``: a container on a temp SQLite file, shut down after."""
    made: list[Container] = []

    def build(broker: str, options: dict[str, Any] | None = None, **trading: Any) -> Container:
        settings = Settings.model_validate(
            {
                "storage": StorageSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}"),
                "trading": {"broker": broker, **trading},
                "adapters": {broker: options or {}},
            }
        )
        made.append(build_container(settings))
        return made[-1]

    yield build
    for container in made:
        await shutdown(container)


@pytest.fixture
def oanda_local() -> Any:
    """A registered non-live environment (as tests point oandapyV20 at a local fake)."""
    TRADING_ENVIRONMENTS["ffe-guard"] = {
        "api": "http://127.0.0.1:9",
        "stream": "http://127.0.0.1:9",
    }
    yield "ffe-guard"
    TRADING_ENVIRONMENTS.pop("ffe-guard", None)


def body(name: str) -> dict[str, Any]:
    return json.loads((RESPONSES / f"{name}.json").read_text())  # type: ignore[no-any-return]


def oanda(environment: str) -> dict[str, Any]:
    return {"access_token": "t", "account_id": OANDA_ACCOUNT, "environment": environment}


def sdk_host(broker: Any) -> str:
    return str(broker._client._rest.base_url)


# --- paper -----------------------------------------------------------------------------------


async def test_the_paper_broker_is_simulated(built) -> None:
    broker = built("paper").broker()
    assert isinstance(broker, Broker)
    assert broker.venue is VenueKind.SIMULATED


# --- Coinbase --------------------------------------------------------------------------------


async def test_coinbase_defaults_to_the_sandbox_host_in_paper_mode(built) -> None:
    broker = built("coinbase", COINBASE_KEYS).broker()
    assert isinstance(broker, Broker)
    assert broker.venue is VenueKind.SANDBOX
    assert sdk_host(broker) == SANDBOX_HOST


async def test_coinbase_in_paper_mode_sends_orders_to_the_sandbox_only(built) -> None:
    broker = built("coinbase", COINBASE_KEYS).broker()
    base = f"https://{SANDBOX_HOST}/api/v3/brokerage"
    order = Order(
        client_order_id="ffe-guard-1", instrument="BTC-USD", side=Side.BUY, quantity=Decimal(1)
    )
    # Anything not registered here (the live host included) fails with ConnectionError.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.get(f"{base}/orders/historical/batch", json=body("list_orders_empty"))
        mocked.post(f"{base}/orders", json=body("create_order_success"))
        placed = await broker.submit_order(order)
        hosts = {urlsplit(c.request.url).hostname for c in mocked.calls}
        posted = [c for c in mocked.calls if c.request.method == "POST"]
    assert placed.status is OrderStatus.ACCEPTED
    assert hosts == {SANDBOX_HOST}
    assert len(posted) == 1


async def test_coinbase_live_is_refused_in_paper_mode(built) -> None:
    container = built("coinbase", {**COINBASE_KEYS, "environment": "live"})
    with pytest.raises(ConfigError, match=LIVE_REFUSAL) as refused:
        container.broker()
    message = str(refused.value)
    assert "'coinbase'" in message and "trading.mode: paper" in message
    assert "\n" not in message
    with pytest.raises(ConfigError, match=LIVE_REFUSAL):
        container.agent()  # nothing that could send an order gets built either


async def test_coinbase_live_is_built_with_mode_live_and_confirm_live(built) -> None:
    broker = built("coinbase", {**COINBASE_KEYS, "environment": "live"}, **LIVE_CONFIRMED).broker()
    assert broker.venue is VenueKind.LIVE
    assert sdk_host(broker) == LIVE_HOST


@pytest.mark.parametrize("host", [LIVE_HOST, "https://API.coinbase.com/"])
async def test_coinbase_sandbox_pointed_at_the_live_host_is_refused(built, host) -> None:
    container = built("coinbase", {**COINBASE_KEYS, "host": host}, **LIVE_CONFIRMED)
    with pytest.raises(ConfigError, match=r"environment is sandbox") as refused:
        container.broker()
    assert "\n" not in str(refused.value)


async def test_a_host_override_keeps_the_declared_environment(built) -> None:
    sandbox = built("coinbase", {**COINBASE_KEYS, "host": "127.0.0.1:8443"}).broker()
    assert (sandbox.venue, sdk_host(sandbox)) == (VenueKind.SANDBOX, "127.0.0.1:8443")
    live = {**COINBASE_KEYS, "environment": "live", "host": "127.0.0.1:8443"}
    with pytest.raises(ConfigError, match=LIVE_REFUSAL):
        built("coinbase", live).broker()


# --- OANDA -----------------------------------------------------------------------------------


async def test_oanda_practice_is_a_sandbox_allowed_in_paper_mode(built, oanda_local) -> None:
    for environment in ("practice", oanda_local):
        broker = built("oanda", oanda(environment)).broker()
        assert isinstance(broker, Broker)
        assert broker.venue is VenueKind.SANDBOX


async def test_oanda_live_is_refused_in_paper_mode(built) -> None:
    with pytest.raises(ConfigError, match=LIVE_REFUSAL) as refused:
        built("oanda", oanda("live")).broker()
    assert "'oanda'" in str(refused.value)


async def test_an_oanda_environment_on_the_live_api_is_live(built) -> None:
    TRADING_ENVIRONMENTS["ffe-alias"] = dict(TRADING_ENVIRONMENTS["live"])
    try:
        with pytest.raises(ConfigError, match=LIVE_REFUSAL):
            built("oanda", oanda("ffe-alias")).broker()
    finally:
        TRADING_ENVIRONMENTS.pop("ffe-alias", None)


async def test_oanda_live_is_built_with_mode_live_and_confirm_live(built) -> None:
    broker = built("oanda", oanda("live"), **LIVE_CONFIRMED).broker()
    assert broker.venue is VenueKind.LIVE


async def test_oanda_unknown_environment_is_still_a_config_error(built) -> None:
    with pytest.raises(ConfigError, match="unknown"):
        built("oanda", oanda("nowhere")).broker()


# --- a plugin's broker ------------------------------------------------------------------------


class PluginBroker:
    """A third party's broker: declares ``venue`` (or not); records whether it was closed."""

    name = "plugin-venue"

    def __init__(self, venue: VenueKind | None) -> None:
        if venue is not None:
            self.venue = venue
        self.closed = False

    async def submit_order(self, order: Any) -> Any:
        raise AssertionError("never sent: the guard runs first")

    async def get_order(self, client_order_id: str) -> None:
        return None

    async def cancel_order(self, client_order_id: str) -> Any:
        raise AssertionError("nothing to cancel")

    async def get_portfolio(self) -> Any:
        raise AssertionError("not read")

    async def list_fills(self, client_order_id: str | None = None) -> list[Any]:
        return []

    async def close(self) -> None:
        self.closed = True


class BrokerPlugin:
    def __init__(self) -> None:
        self.made: list[PluginBroker] = []

    @hookimpl
    def ffe_brokers(self) -> dict[str, Any]:
        def make(ctx: AdapterContext) -> PluginBroker:
            venue = ctx.options.get("venue")
            self.made.append(PluginBroker(VenueKind(venue) if venue else None))
            return self.made[-1]

        return {"plugin-venue": make}


@pytest.mark.parametrize(
    ("venue", "needle"), [("live", "a live venue"), (None, "does not implement the Broker port")]
)
async def test_a_refused_plugin_broker_is_closed(built, venue, needle) -> None:
    plugin = BrokerPlugin()
    container = built("plugin-venue", {"venue": venue})
    container.registry.override(providers.Object(load_registry(extra=[("guard", plugin)])))
    with pytest.raises(ConfigError, match=re.escape(needle)):
        container.broker()
    await asyncio.sleep(0)  # the close was scheduled on the running loop
    assert [b.closed for b in plugin.made] == [True]


async def test_a_sandbox_plugin_broker_is_kept_open(built) -> None:
    plugin = BrokerPlugin()
    container = built("plugin-venue", {"venue": "sandbox"})
    container.registry.override(providers.Object(load_registry(extra=[("guard", plugin)])))
    assert container.broker().venue is VenueKind.SANDBOX
    await asyncio.sleep(0)
    assert [b.closed for b in plugin.made] == [False]


# --- the CLI ---------------------------------------------------------------------------------


def test_cli_agent_run_with_coinbase_live_in_paper_mode_exits_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FFE_")}
    env.update(
        {
            "FFE_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}",
            "FFE_TRADING__BROKER": "coinbase",
            "FFE_ADAPTERS__COINBASE__ENVIRONMENT": "live",
            "FFE_ADAPTERS__COINBASE__API_KEY": COINBASE_KEYS["api_key"],
            "FFE_ADAPTERS__COINBASE__API_SECRET": PEM,
        }
    )
    proc = subprocess.run(
        [sys.executable, "-m", "ffe_entrypoints.cli.main", "agent", "run", "--cycles", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "'coinbase' reaches a live venue" in line
    assert "trading.mode" in line and "trading.confirm_live" in line
    assert PEM.splitlines()[1] not in proc.stdout + proc.stderr
