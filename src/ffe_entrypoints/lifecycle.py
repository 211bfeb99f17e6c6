"""Start and stop a container: refuse unknown adapters, migrate, restore shared state; close
every resource that was built, each before the resources it was built from."""

from __future__ import annotations

from ffe_entrypoints.assembly import shutdown
from ffe_entrypoints.container import Container
from ffe_entrypoints.preflight import check_adapters, reach_storage
from ffe_entrypoints.selection import check_selections

__all__ = ["shutdown", "startup"]


async def startup(container: Container) -> None:
    """Refuse unknown adapter names, an unreachable storage and misconfigured adapters (one line
    naming the key: :mod:`ffe_entrypoints.preflight`), migrate storage, restore the risk state."""
    overridden = {name for name, p in container.providers.items() if p.overridden}
    check_selections(container.registry(), container.settings(), overridden)
    await reach_storage(container)
    await check_adapters(container)
    await container.risk_state().load()
