"""A compute backend: each parameter search gets a thread pool of its own (``adapters.thread_pool``).

It shows the shape of a third-party backend (``ffe_core.ports.compute.ComputeBackend``): ``executor()``
lends a ``concurrent.futures.Executor`` for one search and takes it back afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor

from pydantic import BaseModel, ConfigDict, Field

THREAD_PREFIX = "ffe-example-search"


class ThreadPoolOptions(BaseModel):
    """``adapters.thread_pool.*``"""

    model_config = ConfigDict(frozen=True, extra="forbid")
    workers: int = Field(default=2, ge=1)


class ThreadPoolCompute:
    """Lends a pool of ``workers`` threads, shut down when the search ends."""

    def __init__(self, options: ThreadPoolOptions) -> None:
        self.options = options

    @contextlib.contextmanager
    def executor(self) -> Iterator[Executor | None]:
        with ThreadPoolExecutor(self.options.workers, thread_name_prefix=THREAD_PREFIX) as pool:
            yield pool
