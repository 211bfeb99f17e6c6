"""Kill the process between order submission and the venue's acknowledgement, restart it, and
the fake OANDA venue has exactly one order for that client id (the restart asks before sending).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
COID = "ffe-crash-0001"


class FakeOanda(ThreadingHTTPServer):
    """Records order creations; the first acknowledgement is held back so the client dies waiting."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.created: list[dict[str, Any]] = []
        self.first_post_seen = threading.Event()
        self.hold_first_ack = threading.Event()


class Handler(BaseHTTPRequestHandler):
    server: FakeOanda

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.split("?")[0].endswith(f"/orders/@{COID}"):
            if not self.server.created:
                self._send(
                    404,
                    {
                        "errorMessage": "The Order specified does not exist",
                        "errorCode": "ORDER_DOESNT_EXIST",
                    },
                )
                return
            self._send(
                200,
                {
                    "order": {
                        "id": "6372",
                        "createTime": "2026-01-05T12:00:00.000000000Z",
                        "state": "FILLED",
                        "clientExtensions": {"id": COID},
                        "type": "MARKET",
                        "instrument": "EUR_USD",
                        "units": "100",
                        "timeInForce": "FOK",
                        "fillingTransactionID": "6373",
                    },
                    "lastTransactionID": "6373",
                },
            )
            return
        if self.path.split("?")[0].endswith("/transactions/6373"):
            fill = json.loads((HERE / "responses" / "transaction_fill.json").read_text())
            fill["transaction"]["clientOrderID"] = COID
            self._send(200, fill)
            return
        self._send(404, {"errorMessage": f"unexpected GET {self.path}"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.created.append(body)
        self.server.first_post_seen.set()
        if len(self.server.created) == 1:  # the venue has the order; the answer never arrives
            self.server.hold_first_ack.wait(20)
            return
        self._send(
            201,
            {
                "orderCreateTransaction": {
                    "id": "6372",
                    "type": "MARKET_ORDER",
                    "clientExtensions": {"id": COID},
                },
                "orderFillTransaction": {
                    "id": "6373",
                    "type": "ORDER_FILL",
                    "orderID": "6372",
                    "clientOrderID": COID,
                    "instrument": "EUR_USD",
                    "units": "100",
                    "price": "1.10012",
                    "time": "2026-01-05T12:00:00.1Z",
                },
                "lastTransactionID": "6373",
            },
        )


def run_client(api: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HERE / "oanda_venue_process.py"), api, COID],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_kill_between_submission_and_ack_then_restart_places_exactly_one_order() -> None:
    server = FakeOanda()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        first = run_client(api)
        assert server.first_post_seen.wait(60), "the order never reached the venue"
        first.send_signal(signal.SIGKILL)  # dies before the acknowledgement arrives
        first.wait(10)
        server.hold_first_ack.set()

        second = run_client(api)
        out, _ = second.communicate(timeout=60)
        assert second.returncode == 0, out
        assert f"RESULT {COID} filled" in out
        assert len(server.created) == 1, "the restart must find the order, not send it again"
        assert server.created[0]["order"]["clientExtensions"]["id"] == COID
    finally:
        server.hold_first_ack.set()
        server.shutdown()
        time.sleep(0.05)
