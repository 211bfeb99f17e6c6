"""Built-in plugin registering the ``paper`` broker."""

from __future__ import annotations

from collections.abc import Mapping

from ffe_adapters.brokers.paper.factories import make_paper_broker
from ffe_adapters.hookspecs import Factory, hookimpl


@hookimpl
def ffe_brokers() -> Mapping[str, Factory]:
    return {"paper": make_paper_broker}
