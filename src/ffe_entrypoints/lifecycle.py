"""Start and stop a container: refuse unknown adapters, migrate, restore shared state; close
every resource that was built, each before the resources it was built from."""

from __future__ import annotations

from collections.abc import Mapping

from dependency_injector import providers

from ffe_core.ports.capabilities import Closable
from ffe_entrypoints.container import Container
from ffe_entrypoints.preflight import check_adapters, reach_storage
from ffe_entrypoints.selection import check_selections


async def startup(container: Container) -> None:
    """Refuse unknown adapter names, an unreachable storage and misconfigured adapters (one line
    naming the key: :mod:`ffe_entrypoints.preflight`), migrate storage, restore the risk state."""
    overridden = {name for name, p in container.providers.items() if p.overridden}
    check_selections(container.registry(), container.settings(), overridden)
    await reach_storage(container)
    await check_adapters(container)
    await container.risk_state().load()


async def _close(built: object) -> None:
    items = (
        built.values()
        if isinstance(built, Mapping)
        else built
        if isinstance(built, list)
        else [built]
    )
    for item in reversed(list(items)):
        if isinstance(item, Closable):
            await item.close()


async def shutdown(container: Container) -> None:
    """Close every resource built, each before the resources it was built from."""
    built: list[providers.Resource[object]] = [
        r for r in container.traverse(types=[providers.Resource]) if r.initialized
    ]
    while built:
        used = {id(dep) for r in built for dep in providers.traverse(r)}
        for resource in [r for r in built if id(r) not in used] or built[:1]:
            built.remove(resource)
            await _close(resource())
            resource.shutdown()
