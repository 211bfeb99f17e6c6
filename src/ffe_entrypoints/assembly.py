"""How a process builds its own container and closes it again: handed by the composition root
to what runs elsewhere (a backtest worker process, a replay), so that nothing it runs imports
the container that started it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ffe_core.config import Settings

if TYPE_CHECKING:
    from ffe_entrypoints.container import Container


@dataclass(frozen=True)
class Assembly:
    """``build`` a container from settings, ``close`` every resource it built; both are
    module-level functions, so an Assembly pickles by reference into worker processes."""

    build: Callable[[Settings], Container]
    close: Callable[[Container], Awaitable[None]]
