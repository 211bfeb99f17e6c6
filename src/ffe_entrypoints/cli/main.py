"""``ffe``: the command-line entry point. Errors become one line on stderr and a non-zero exit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.exceptions import TyperException

from ffe_core.domain.errors import (
    BrokerError,
    ConfigError,
    ConflictError,
    FfeError,
    InvalidOrder,
    InvalidTransition,
    MarketDataError,
    NotFoundError,
    PluginError,
    ProviderError,
    RateLimited,
    ValidationFailed,
)
from ffe_entrypoints.cli.lazy_group import LazyGroup
from ffe_entrypoints.cli.state import CliState

EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    # bad input or configuration: what the person typed or configured must change
    (ConfigError, 2),
    (ValidationFailed, 2),
    (NotFoundError, 2),
    (ConflictError, 2),
    (InvalidTransition, 2),
    (PluginError, 2),
    (InvalidOrder, 2),
    # an upstream (market data, model provider, venue) failed or refused: try again later
    (MarketDataError, 3),
    (ProviderError, 3),
    (RateLimited, 3),
    (BrokerError, 3),
    (FfeError, 1),
)
"""The one exit policy of every command: 2 bad input or config, 3 upstream or venue failure,
1 anything else; always one line on stderr, the traceback only with ``--debug``."""


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="ffe",
        help="Finance Feedback Engine: AI-ensemble trading decisions, agent, backtests.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        cls=LazyGroup,  # a command's module is imported when that command runs
    )

    @app.callback()
    def main(
        ctx: typer.Context,
        debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
        config_dir: Annotated[
            Path | None,
            typer.Option(
                "--config-dir",
                "--config",
                help="Directory of config.yaml (default: FFE_CONFIG_DIR, FFE_HOME/config, or "
                "the nearest config/config.yaml at or above the working directory).",
            ),
        ] = None,
    ) -> None:
        ctx.obj = CliState(debug=debug, config_dir=config_dir)

    return app


def _fail(message: str, code: int) -> None:
    from ffe_entrypoints.logging import scrub  # an error may quote what an upstream said

    first_line = message.strip().splitlines()[0] if message.strip() else "failed"
    sys.stderr.write(f"error: {scrub(first_line)}\n")
    sys.exit(code)


def run(argv: list[str] | None = None) -> None:
    """Console-script entry: run the app, translating every error into a clean exit."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    if debug:  # accepted anywhere on the line: it belongs to the top level
        args = ["--debug", *(a for a in args if a != "--debug")]
    try:
        result = build_app()(args=args, prog_name="ffe", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _fail("interrupted", 130)
    except Exception as exc:
        if debug:
            raise
        if isinstance(exc, TyperException):  # a usage error: Typer's (vendored Click) own
            _fail(exc.format_message(), exc.exit_code)
        for kind, code in EXIT_CODES:
            if isinstance(exc, kind):
                _fail(str(exc), code)
        _fail(f"{type(exc).__name__}: {exc} (run with --debug for the traceback)", 1)
    else:
        sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    run()
