"""``ffe data fetch --source <rest adapter>`` against a local fake server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ffe_entrypoints.cli.main import build_app

RESPONSES = Path(__file__).parents[1] / "adapters" / "market_data"
ROUTES: dict[str, Path] = {
    "/av/query": RESPONSES / "alphavantage/responses/time_series_daily.json",
    "/cg/coins/bitcoin/ohlc": RESPONSES / "coingecko/responses/ohlc_days_1.json",
    "/td/time_series": RESPONSES / "twelvedata/responses/time_series_eurusd_1h.json",
    "/pg/v2/aggs/ticker/AAPL/": RESPONSES / "polygon/responses/aggs_aapl_1_day.json",
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        match = next((f for p, f in ROUTES.items() if path == p or path.startswith(p)), None)
        body = match.read_bytes() if match else b'{"error": "not found"}'
        self.send_response(200 if match else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(
    ("source", "prefix", "symbol", "interval", "count"),
    [
        ("alphavantage", "/av", "AAPL", "1d", 3),
        ("coingecko", "/cg", "BTC-USD", "1h", 3),
        ("twelvedata", "/td", "EUR-USD", "1h", 3),
        ("polygon", "/pg", "AAPL", "1d", 3),
    ],
)
def test_fetch_from_each_rest_source(
    tmp_path: Path, server: str, source: str, prefix: str, symbol: str, interval: str, count: int
):
    config = {"adapters": {source: {"base_url": server + prefix, "api_key": "fake-key"}}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(
        build_app(),
        [
            "--config-dir",
            str(tmp_path),
            "data",
            "fetch",
            symbol,
            "--source",
            source,
            "--interval",
            interval,
            "--bars",
            "50",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # log lines (e.g. reported gaps) go to stderr
    assert data["source"] == source
    assert len(data["bars"]) == count
