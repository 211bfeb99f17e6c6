"""How a process builds its own container and closes it again (:func:`shutdown`): handed by the composition root
to what runs elsewhere (a backtest worker process, a replay), so that nothing it runs imports
the container that started it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dependency_injector import providers

from ffe_core.config import Settings
from ffe_core.ports.capabilities import Closable

if TYPE_CHECKING:
    from ffe_entrypoints.container import Container


@dataclass(frozen=True)
class Assembly:
    """``build`` a container from settings, ``close`` every resource it built; both are
    module-level functions, so an Assembly pickles by reference into worker processes."""

    build: Callable[[Settings], Container]
    close: Callable[[Container], Awaitable[None]]


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
