"""Registers the ``local`` and ``dask`` compute backends for parameter searches."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from concurrent.futures import Executor

from pydantic import BaseModel, ConfigDict, Field

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl


class LocalCompute:
    """The search runs in this process's own worker pool."""

    @contextlib.contextmanager
    def executor(self) -> Iterator[Executor | None]:
        yield None


class DaskOptions(BaseModel):
    """``adapters.dask.*``"""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")
    address: str = "local"
    """``local`` starts a LocalCluster on this machine; else a scheduler (``tcp://host:8786``)."""
    workers: int | None = Field(default=None, ge=1)


class DaskCompute:
    """A Dask cluster lent for one search (``pip install ffe[dask]``)."""

    def __init__(self, options: DaskOptions) -> None:
        self.options = options

    @contextlib.contextmanager
    def executor(self) -> Iterator[Executor | None]:
        from ffe_adapters.compute.dask import dask_executor

        with dask_executor(self.options.address, self.options.workers) as executor:
            yield executor


def build_local(ctx: AdapterContext) -> LocalCompute:
    return LocalCompute()


def build_dask(ctx: AdapterContext) -> DaskCompute:
    return DaskCompute(ctx.parse_options(DaskOptions))


@hookimpl
def ffe_compute_backends() -> Mapping[str, Factory]:
    return {"local": build_local, "dask": build_dask}
