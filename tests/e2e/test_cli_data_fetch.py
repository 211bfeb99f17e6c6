from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ffe_adapters.market_data.files.reader import read_bars
from ffe_entrypoints.cli.main import build_app


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    return directory


def test_fetch_synthetic_writes_csv_the_files_source_reads(tmp_path: Path, config_dir: Path):
    out = tmp_path / "x.csv"
    result = CliRunner().invoke(
        build_app(),
        [
            "--config-dir",
            str(config_dir),
            "data",
            "fetch",
            "BTC-USD",
            "--source",
            "synthetic",
            "--bars",
            "1000",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "wrote 1000 bars" in result.output
    bars = read_bars(out)  # refuses times that do not increase
    assert len(bars) == 1000


def test_fetch_bundled_json_carries_quality_report(config_dir: Path):
    result = CliRunner().invoke(
        build_app(),
        [
            "--config-dir",
            str(config_dir),
            "data",
            "fetch",
            "eur-usd",
            "--source",
            "bundled",
            "--bars",
            "24",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["symbol"] == "EUR-USD" and data["source"] == "bundled"
    assert len(data["bars"]) == 24 and data["report"]["clean"] is True


def test_fetch_parquet_output(tmp_path: Path, config_dir: Path):
    pytest.importorskip("pyarrow")
    out = tmp_path / "x.parquet"
    result = CliRunner().invoke(
        build_app(),
        [
            "--config-dir",
            str(config_dir),
            "data",
            "fetch",
            "AAPL",
            "--source",
            "bundled",
            "--bars",
            "10",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(read_bars(out)) == 10


def test_unknown_source_and_symbol_are_typed_errors(config_dir: Path):
    from ffe_core.domain.errors import NotFoundError, PluginError

    app = build_app()
    bad_source = CliRunner().invoke(
        app, ["--config-dir", str(config_dir), "data", "fetch", "AAPL", "--source", "nope"]
    )
    assert isinstance(bad_source.exception, PluginError)
    bad_symbol = CliRunner().invoke(
        app, ["--config-dir", str(config_dir), "data", "fetch", "XYZ", "--source", "bundled"]
    )
    assert isinstance(bad_symbol.exception, NotFoundError)
