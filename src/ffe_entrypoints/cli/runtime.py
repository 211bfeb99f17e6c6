"""Running async work against a container from a synchronous CLI command."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer

from ffe_entrypoints.cli.state import state

if TYPE_CHECKING:  # the container (every adapter) loads when a command runs, not for --help
    from ffe_entrypoints.container import Container

T = TypeVar("T")


def with_container(ctx: typer.Context, work: Callable[[Container], Awaitable[T]]) -> T:
    """Build the container from the validated settings, migrate storage, run ``work``, clean up."""
    settings = state(ctx).settings()

    async def main() -> T:
        from ffe_entrypoints.container import build_container
        from ffe_entrypoints.lifecycle import shutdown, startup
        from ffe_entrypoints.logging import configure_logging

        configure_logging(settings)
        container = build_container(settings)
        try:
            await startup(container)
            return await work(container)
        finally:
            await shutdown(container)

    import asyncio  # not for --help

    return asyncio.run(main())
