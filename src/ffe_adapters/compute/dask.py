# mypy: disable-error-code="no-untyped-call"
"""Run parameter searches on a Dask cluster (``pip install ffe[dask]``).

``dask_executor("local")`` starts a LocalCluster on this machine's cores; any other value is a
scheduler address (``tcp://host:8786``). The yielded object is a ``concurrent.futures.Executor``
that ``ffe_core.backtest.search.run_search(executor=...)`` accepts.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager

from ffe_core.domain.errors import ConfigError


@contextmanager
def dask_executor(address: str = "local", workers: int | None = None) -> Iterator[Executor]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the extra being installed
        raise ConfigError("--dask needs the 'dask' extra: pip install 'ffe[dask]'") from None
    if address == "local":
        cluster = LocalCluster(
            n_workers=workers or 2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        cluster = None
        try:
            client = Client(address, timeout="10s")
        except OSError as exc:
            raise ConfigError(f"--dask: cannot reach the scheduler at {address}: {exc}") from None
    try:
        yield client.get_executor()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
