"""``ffe replay`` with a language-model provider on its wire fake: refused before the model's
training cut-off, watermarked when allowed, and a rerun answered wholly from the vote cache."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import REDIS_URL, require_redis
from tests.e2e.test_cli_replay import write_bars
from typer.testing import CliRunner

from ffe_adapters.llm.safety import LookaheadWarning
from ffe_entrypoints.cli.main import build_app, run

MODEL = "gpt-4.1-mini"  # the openai wire's model: cut-off 2024-06-01 by default
FakeServer = Any  # the conftest's scripted server (fixture ``fake``)


@pytest.fixture
def ok_body(wires: dict[str, Any]) -> bytes:
    """The documented chat.completions answer (BUY, levels 96.5 / 107)."""
    assert wires["openai"].model == MODEL
    return bytes(wires["openai"].body("ok"))


def config(tmp_path: Path, fake: FakeServer) -> Path:
    directory = tmp_path / "config"
    directory.mkdir(exist_ok=True)
    (directory / "config.yaml").write_text(
        f'storage:\n  url: "sqlite+aiosqlite:///{tmp_path / "ffe.db"}"\n'
        "market_data:\n  history_bars: 30\n"
        "  cache:\n    backend: redis\n"
        "providers:\n  enabled: [openai, trend]\n"
        "ensemble:\n  quorum: 1\n"
        f"adapters:\n  redis:\n    url: {REDIS_URL}\n  openai:\n"
        f"    model: {MODEL}\n    base_url: {fake.url}/v1\n"
        "    api_key: test-key-not-real\n    requests_per_minute: null\n    max_retries: 0\n"
    )
    return directory


def small_moves(path: Path, n: int, start: str) -> Path:
    """Bars around 100 whose closes stay inside the documented answer's levels (96.5, 107);
    a fresh seed per test so no earlier run's cached votes answer for them."""
    write_bars(path, n, start=start, seed=uuid.uuid4().int % 2**32)
    lines = path.read_text().splitlines()
    head, rows = lines[0], [r.split(",") for r in lines[1:]]
    scaled = [[r[0], *(f"{100 + (float(x) - 100) * 0.05:.6f}" for x in r[1:5]), r[5]] for r in rows]
    path.write_text("\n".join([head, *(",".join(r) for r in scaled)]) + "\n")
    return path


def test_replay_before_the_cutoff_is_refused_without_a_call(
    tmp_path: Path, fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    data = small_moves(tmp_path / "btc.csv", 40, "2024-03-01")
    with pytest.raises(SystemExit) as exit_:
        run(
            [
                "--config-dir",
                str(config(tmp_path, fake)),
                "replay",
                "--data",
                str(data),
                "--instrument",
                "BTC-USD",
                "--yes",
            ]
        )
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2
    assert len(err.splitlines()) == 1
    assert "openai" in err and MODEL in err and "2024-06-01" in err
    assert "--allow-lookahead" in err
    assert fake.requests == []


def test_allowed_lookahead_is_watermarked(tmp_path: Path, fake: FakeServer, ok_body: bytes) -> None:
    require_redis()
    data = small_moves(tmp_path / "btc.csv", 35, "2024-03-01")
    for _ in range(40):
        fake.reply(ok_body)
    with pytest.warns(LookaheadWarning, match="look-ahead bias"):
        result = CliRunner().invoke(
            build_app(),
            [
                "--config-dir",
                str(config(tmp_path, fake)),
                "replay",
                "--data",
                str(data),
                "--instrument",
                "BTC-USD",
                "--allow-lookahead",
                "--yes",
                "--json",
            ],
        )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["contaminated"] is True
    assert out["lookahead"][0]["provider"] == "openai"
    assert out["lookahead"][0]["cutoff"] == "2024-06-01"


def test_a_second_identical_replay_makes_no_provider_call(
    tmp_path: Path, fake: FakeServer, ok_body: bytes
) -> None:
    require_redis()
    data = small_moves(tmp_path / "btc.csv", 40, "2026-03-01")
    for _ in range(60):
        fake.reply(ok_body)
    argv = [
        "--config-dir",
        str(config(tmp_path, fake)),
        "replay",
        "--data",
        str(data),
        "--instrument",
        "BTC-USD",
        "--yes",
        "--json",
    ]

    first = CliRunner().invoke(build_app(), argv)
    assert first.exit_code == 0, first.output
    calls = len(fake.requests)
    one = json.loads(first.stdout)
    assert calls == 40 == one["cost"]["providers"]["openai"]["calls"]
    assert one["cost"]["estimate"]["calls"] == 40  # counted before spending
    assert one["cost"]["cost_usd"] > 0
    assert one["attribution"]["BTC-USD"]["providers"]["openai"]["votes"] == 40

    second = CliRunner().invoke(build_app(), argv)
    assert second.exit_code == 0, second.output
    two = json.loads(second.stdout)
    assert len(fake.requests) == calls  # no request reached the provider
    assert two["cost"]["calls"] == 0 and two["cost"]["cost_usd"] == 0
    assert two["cost"]["providers"]["openai"]["cached"] == 40
    assert two["cost"]["estimate"]["calls"] == 0
    assert two["final_equity"] == one["final_equity"]
    assert two["attribution"] == one["attribution"]


def test_max_cost_below_the_estimate_spends_nothing(
    tmp_path: Path, fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    require_redis()
    data = small_moves(tmp_path / "btc.csv", 40, "2026-03-01")
    with pytest.raises(SystemExit) as exit_:
        run(
            [
                "--config-dir",
                str(config(tmp_path, fake)),
                "replay",
                "--data",
                str(data),
                "--instrument",
                "BTC-USD",
                "--max-cost",
                "0.0001",
            ]
        )
    err = capsys.readouterr().err
    assert exit_.value.code == 1
    assert "exceeds --max-cost" in err and "nothing was spent" in err
    assert fake.requests == []


def test_an_anonymized_replay_sends_no_real_symbol_or_date(
    tmp_path: Path, fake: FakeServer, ok_body: bytes
) -> None:
    require_redis()
    data = small_moves(tmp_path / "btc.csv", 35, "2026-03-02")
    for _ in range(40):
        fake.reply(ok_body)
    result = CliRunner().invoke(
        build_app(),
        [
            *("--config-dir", str(config(tmp_path, fake)), "replay", "--data", str(data)),
            *("--instrument", "BTC-USD", "--anonymize", "--yes", "--json"),
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["anonymized"] is True
    assert out["attribution"]["BTC-USD"]["providers"]["openai"]["votes"] == 35
    assert len(fake.requests) == 35
    for seen in fake.requests:
        body = json.dumps(seen.body)
        assert "ASSET-A" in body
        assert "BTC" not in body and "2026-03" not in body
