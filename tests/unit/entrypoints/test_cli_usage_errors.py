"""A usage error (Typer's own exception type, raised by its vendored Click) leaves the CLI as one
line on stderr and exit 2, whatever parameter it is about; the type is matched, not its shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from ffe_entrypoints.cli.main import run


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["plugins", "list", "--bogus"], "No such option: --bogus"),
        (["frobnicate"], "No such command"),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(
    argv: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(["--config-dir", str(tmp_path), *argv])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and said in err
    assert err.count("\n") == 1 and "Traceback" not in err
