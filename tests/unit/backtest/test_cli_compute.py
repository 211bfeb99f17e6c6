"""``ffe optimize`` runs on the compute backend chosen by name through the plugin registry:
``--compute NAME`` (default ``backtests.compute``) or ``--dask ADDRESS``; a third party's backend
(the example plugin's ``thread_pool``) is chosen exactly like a built-in one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ffe_entrypoints.cli.main import build_app, run

from .cli_inputs import SMA_GRID  # skips without backtesting.py (its GOOG sample)

SEARCH = ["optimize", *SMA_GRID, "--objective", "return", "--json"]


def optimize(config_dir: Path, *extra: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(build_app(), ["--config-dir", str(config_dir), *SEARCH, *extra])
    assert result.exit_code == 0, result.output
    results: list[dict[str, object]] = json.loads(result.stdout)["results"]
    return results


def refused(config_dir: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    """The CLI's one line for a refused search (exit 2, no traceback)."""
    with pytest.raises(SystemExit) as exited:
        run(["--config-dir", str(config_dir), *SEARCH, *extra])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


def test_a_plugins_compute_backend_runs_the_search_like_the_local_one(tmp_path: Path) -> None:
    local = optimize(tmp_path)
    assert optimize(tmp_path, "--compute", "thread_pool") == local
    (tmp_path / "config.yaml").write_text("backtests:\n  compute: thread_pool\n")
    assert optimize(tmp_path) == local


def test_the_backend_is_built_from_its_own_adapter_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The plugin's factory reads ``adapters.thread_pool``: a bad value is refused by name."""
    (tmp_path / "config.yaml").write_text(
        "backtests:\n  compute: thread_pool\nadapters:\n  thread_pool:\n    workers: 0\n"
    )
    assert "adapters.thread_pool.workers" in refused(tmp_path, capsys)


def test_an_unknown_backend_is_refused_naming_the_registered_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused(tmp_path, capsys, "--compute", "ray")
    assert "--compute: no compute backend named 'ray'" in err
    assert "dask" in err and "local" in err and "thread_pool" in err
    (tmp_path / "config.yaml").write_text("backtests:\n  compute: ray\n")
    assert "backtests.compute: no compute backend named 'ray'" in refused(tmp_path, capsys)


@pytest.mark.slow  # the dask client gives up on the closed port after its 10 s timeout
def test_dask_is_the_registered_dask_backend_at_the_given_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--dask`` sets ``adapters.dask.address`` for the run: the registry's backend dials it."""
    pytest.importorskip("distributed", reason="the 'dask' extra is not installed")
    err = refused(tmp_path, capsys, "--dask", "tcp://127.0.0.1:9")
    assert "cannot reach the scheduler at tcp://127.0.0.1:9" in err
    err = refused(tmp_path, capsys, "--dask", "local", "--compute", "thread_pool")
    assert "--dask runs on the dask backend" in err
