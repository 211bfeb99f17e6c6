"""Every adapter registered for a port with a contract suite runs that suite: built-in or plugin
(the example plugin's entry point is installed), a new name without a harness fails here."""

from __future__ import annotations

from typing import Any

import pytest

from ffe_adapters.registry import load_registry
from tests.contract.caches import CACHES
from tests.contract.notifiers import NOTIFIERS
from tests.contract.providers import PROVIDERS
from tests.contract.sources import SOURCES
from tests.contract.storages import STORAGES
from tests.contract.venues import BROKERS


def names(suite: tuple[Any, ...]) -> set[str]:
    """The adapter names of a suite's list (some are marked ``pytest.param``s)."""
    return {item if isinstance(item, str) else item.values[0] for item in suite}


@pytest.mark.parametrize(
    ("kind", "suite"),
    [
        ("brokers", BROKERS),
        ("market_data", SOURCES),
        ("decision_providers", PROVIDERS),
        ("notifiers", NOTIFIERS),
        ("storage", STORAGES),
        ("caches", CACHES),
    ],
)
def test_every_registered_adapter_runs_its_ports_suite(kind: str, suite: tuple[Any, ...]) -> None:
    registered = set(load_registry().names(kind))
    assert registered <= names(suite), f"{kind} without a contract harness"
