"""``ffe serve`` runs the start-up checks (storage, adapters, risk state) once, on the server's
loop before uvicorn starts, not once in a preflight container and again in the lifespan; a
refusal is still one line and exit 2."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import ffe_entrypoints.api.app as app_module
import ffe_entrypoints.lifecycle as lifecycle
from ffe_entrypoints.cli.main import run
from ffe_entrypoints.cli.serving import ReadyServer
from ffe_entrypoints.container import Container


def serve_through_the_lifespan(monkeypatch: pytest.MonkeyPatch) -> list[Container]:
    """Count start-ups; uvicorn's serving replaced by one pass through the app's lifespan."""
    started: list[Container] = []
    real = lifecycle.startup

    async def counted(container: Container) -> None:
        started.append(container)
        await real(container)

    async def lifespan_only(self: ReadyServer, sockets: list[socket.socket] | None = None) -> None:
        async with self.config.app.lifespan():
            pass

    monkeypatch.setattr(lifecycle, "startup", counted)
    monkeypatch.setattr(app_module, "startup", counted)
    monkeypatch.setattr(ReadyServer, "serve", lifespan_only)
    return started


def test_serve_runs_the_start_up_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FFE_STORAGE__URL", f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}")
    started = serve_through_the_lifespan(monkeypatch)
    with pytest.raises(SystemExit) as exited:
        run(["--config-dir", str(tmp_path), "serve", "--no-agent", "--port", "0"])
    assert exited.value.code in (0, None)
    assert len(started) == 1


def test_a_refused_start_up_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FFE_STORAGE__URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    started = serve_through_the_lifespan(monkeypatch)
    with pytest.raises(SystemExit) as exited:
        run(["--config-dir", str(tmp_path), "serve", "--no-agent", "--port", "0"])
    assert exited.value.code == 2
    assert len(started) == 1  # the lifespan never ran a second one
    err = capsys.readouterr().err
    assert "storage.url" in err and "Traceback" not in err
