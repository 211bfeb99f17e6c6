"""Backtest commands: ``ffe backtest``, ``ffe optimize`` and ``ffe walk-forward``.

Strategies are looked up in the plugin registry, so plugin strategies work everywhere. Data is
read with the core's minimal CSV loader (backtesting.py's layout); bad data raises
ValidationFailed, which the CLI turns into exit code 2.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from ffe_core.domain.errors import ValidationFailed

console = Console(stderr=True)

Params = dict[str, Any]

DataOpt = Annotated[Path, typer.Option("--data", help="CSV: datetime column + OHLC[V].")]
StrategyOpt = Annotated[str, typer.Option("--strategy", help="Strategy name (see registry).")]
ParamOpt = Annotated[
    list[str] | None, typer.Option("--param", help="k=v (backtest) or k=v1,v2,... (search).")
]
CashOpt = Annotated[float, typer.Option("--cash", help="Starting cash.")]
CommissionOpt = Annotated[float, typer.Option("--commission", help="Fraction of traded value.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")]
ObjectiveOpt = Annotated[str, typer.Option("--objective", help="sharpe, return, sqn, ...")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", help="Threads (default: cores).")]


def _number(text: str) -> Any:
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            continue
    return text


def parse_params(items: list[str] | None, *, lists: bool = False) -> dict[str, Any]:
    """``["fast=10", "slow=30"]`` -> ``{"fast": 10, "slow": 30}`` (lists split on commas)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationFailed(f"--param {item!r} must look like name=value")
        if lists:
            out[key.strip()] = tuple(_number(v) for v in value.split(",") if v.strip())
        else:
            out[key.strip()] = _number(value)
    return out


def _strategy(name: str) -> Callable[..., Any]:
    from ffe_adapters.registry import load_registry

    fn: Callable[..., Any] = load_registry().factory("strategies", name)
    return fn


def _config(cash: float, commission: float, extra: Mapping[str, Any]) -> Any:
    from ffe_core.backtest.simulator import FillConfig

    try:
        return FillConfig(cash=cash, commission=commission, **extra)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(str(exc)) from None


@contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    if quiet:
        yield lambda done, total: None
        return
    cols = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(f"[bold]{label}", *cols, console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _print_stats(stats: Mapping[str, Any], title: str) -> None:
    table = Table(title=title, show_header=False)
    for k, v in stats.items():
        text = f"{v:,.4f}" if isinstance(v, float) and math.isfinite(v) else str(v)
        table.add_row(k, text)
    Console().print(table)


def _candidates(strategy: str, spaces: dict[str, Any], samples: int, seed: int) -> list[Params]:
    from ffe_core.backtest.search import grid, random_sample
    from ffe_core.backtest.strategies import spec_for

    spec = spec_for(strategy)
    space = {**spec.grid, **spaces}
    if not space:
        raise ValidationFailed(f"strategy {strategy!r} has no default grid; give --param k=v1,v2")
    found = (
        random_sample(space, samples, seed=seed, constraint=spec.constraint)
        if samples
        else grid(space, spec.constraint)
    )
    if not found:
        raise ValidationFailed("no parameter combination satisfies the strategy's constraint")
    return found


def register(app: typer.Typer) -> None:
    @app.command()
    def backtest(
        data: DataOpt,
        strategy: StrategyOpt,
        param: ParamOpt = None,
        cash: CashOpt = 10_000.0,
        commission: CommissionOpt = 0.0,
        spread: Annotated[float, typer.Option(help="Spread as a fraction of price.")] = 0.0,
        slippage: Annotated[float, typer.Option(help="Adverse fraction on market fills.")] = 0.0,
        sl: Annotated[float, typer.Option(help="Stop-loss, fraction of entry (0=none).")] = 0.0,
        tp: Annotated[float, typer.Option(help="Take-profit, fraction of entry.")] = 0.0,
        fractional: Annotated[bool, typer.Option(help="Trade fractional units.")] = False,
        trade_on_close: Annotated[
            bool, typer.Option(help="Fill at the signal bar's close.")
        ] = False,
        finalize: Annotated[
            bool,
            typer.Option(
                "--finalize/--no-finalize",
                help="Close a position open at the end and count it (backtesting.py's "
                "finalize_trades); --no-finalize leaves it open, valued in the equity.",
            ),
        ] = True,
        as_json: JsonOpt = False,
        report: Annotated[
            Path | None, typer.Option("--report", help="Write an HTML report.")
        ] = None,
        png: Annotated[
            bool, typer.Option("--png", help="Also write a PNG next to --report.")
        ] = False,
    ) -> None:
        """Backtest one strategy with fixed parameters."""
        from ffe_core.backtest.data import load_csv
        from ffe_core.backtest.simulator import simulate
        from ffe_core.backtest.stats import compute_stats, json_ready
        from ffe_core.backtest.strategies import spec_for

        bars = load_csv(data)
        params = parse_params(param)
        fn = _strategy(strategy)
        cfg = _config(
            cash,
            commission,
            {
                "spread": spread,
                "slippage": slippage,
                "sl": sl,
                "tp": tp,
                "unit_step": 0.0 if fractional else 1.0,
                "trade_on_close": trade_on_close,
                "finalize": finalize,
            },
        )
        try:
            target = fn(bars.open, bars.high, bars.low, bars.close, bars.volume, **params)
        except TypeError as exc:
            raise ValidationFailed(f"strategy {strategy!r}: {exc}") from None
        result = simulate(bars, target, cfg)
        stats = compute_stats(result, bars, warmup=spec_for(strategy).warmup(params))
        if report is not None:
            from ffe_core.backtest.report import render_png, write_html

            write_html(report, result, bars, stats)
            if png:
                report.with_suffix(".png").write_bytes(render_png(result, bars))
        if as_json:
            out = json_ready(stats)
            out.update(
                trades=len(result.trades),
                final_equity=float(result.equity[-1]),
                strategy=strategy,
                params=params,
            )
            typer.echo(json.dumps(out, indent=2))
        else:
            _print_stats(stats, f"{strategy} {params}")

    @app.command()
    def optimize(
        data: DataOpt,
        strategy: StrategyOpt,
        param: ParamOpt = None,
        cash: CashOpt = 10_000.0,
        commission: CommissionOpt = 0.0,
        objective: ObjectiveOpt = "sharpe",
        samples: Annotated[int, typer.Option(help="Random search size (0 = full grid).")] = 0,
        seed: Annotated[int, typer.Option(help="Random search seed.")] = 0,
        workers: WorkersOpt = None,
        top: Annotated[int, typer.Option(help="How many results to show.")] = 10,
        as_json: JsonOpt = False,
        dask: Annotated[
            str | None,
            typer.Option(help="Run on Dask: 'local' (a LocalCluster) or a scheduler address."),
        ] = None,
    ) -> None:
        """Search parameters (grid, or random with --samples) in parallel."""
        from contextlib import nullcontext

        from ffe_core.backtest.data import load_csv
        from ffe_core.backtest.search import run_search
        from ffe_core.backtest.strategies import spec_for

        bars = load_csv(data)
        fn = _strategy(strategy)
        cands = _candidates(strategy, parse_params(param, lists=True), samples, seed)
        if dask is not None:
            from ffe_adapters.compute.dask import dask_executor

            cluster: Any = dask_executor(dask, workers)
        else:
            cluster = nullcontext(None)
        with cluster as executor, _progress("optimize", as_json) as progress:
            evals = run_search(
                bars,
                fn,
                cands,
                _config(cash, commission, {}),
                objective=objective,
                workers=workers,
                progress=progress,
                warmup=spec_for(strategy).warmup,
                executor=executor,
            )
        ranked = sorted(evals, key=lambda e: -e.score)[: max(top, 1)]
        rows = [
            {"params": e.params, "score": e.score if math.isfinite(e.score) else None}
            for e in ranked
        ]
        if as_json:
            typer.echo(
                json.dumps(
                    {"objective": objective, "evaluated": len(evals), "results": rows}, indent=2
                )
            )
            return
        table = Table("params", objective, title=f"{strategy}: {len(evals)} evaluated")
        for r in rows:
            table.add_row(json.dumps(r["params"]), str(r["score"]))
        Console().print(table)

    @app.command("walk-forward")
    def walk_forward_cmd(
        data: DataOpt,
        strategy: StrategyOpt,
        in_sample: Annotated[int, typer.Option("--in-sample", help="In-sample bars.")],
        out_of_sample: Annotated[int, typer.Option("--out-of-sample", help="OOS bars.")],
        param: ParamOpt = None,
        anchored: Annotated[bool, typer.Option(help="Anchor in-sample at bar 0.")] = False,
        cash: CashOpt = 10_000.0,
        commission: CommissionOpt = 0.0,
        objective: ObjectiveOpt = "sharpe",
        samples: Annotated[int, typer.Option(help="Random search size (0 = full grid).")] = 0,
        seed: Annotated[int, typer.Option(help="Random search seed.")] = 0,
        workers: WorkersOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Walk-forward analysis with per-window parameters, PBO and deflated Sharpe."""
        from ffe_core.backtest.data import load_csv
        from ffe_core.backtest.stats import json_ready
        from ffe_core.backtest.strategies import spec_for
        from ffe_core.backtest.walk_forward import walk_forward

        bars = load_csv(data)
        fn = _strategy(strategy)
        cands = _candidates(strategy, parse_params(param, lists=True), samples, seed)
        with _progress("walk-forward", as_json) as progress:
            res = walk_forward(
                bars,
                fn,
                cands,
                _config(cash, commission, {}),
                in_sample=in_sample,
                out_of_sample=out_of_sample,
                anchored=anchored,
                objective=objective,
                workers=workers,
                warmup=spec_for(strategy).warmup,
                progress=progress,
            )
        windows = [
            {
                "in_sample": [w.window.is_start, w.window.is_end],
                "out_of_sample": [w.window.is_end, w.window.oos_end],
                "params": w.params,
                "oos_return_pct": w.oos_return_pct,
            }
            for w in res.windows
        ]

        def clean(x: float) -> float | None:
            return x if math.isfinite(x) else None

        if as_json:
            out = {
                "windows": windows,
                "stats": json_ready(dict(res.stats)),
                "final_equity": float(res.equity[-1]),
                "pbo": clean(res.pbo),
                "deflated_sharpe": clean(res.deflated_sharpe),
            }
            typer.echo(json.dumps(out, indent=2))
            return
        table = Table("in-sample", "out-of-sample", "params", "OOS return %", title="windows")
        for w in windows:
            table.add_row(
                str(w["in_sample"]),
                str(w["out_of_sample"]),
                json.dumps(w["params"]),
                f"{w['oos_return_pct']:.3f}",
            )
        Console().print(table)
        _print_stats(dict(res.stats), "stitched out-of-sample")
        Console().print(f"PBO {res.pbo:.3f}   deflated Sharpe {res.deflated_sharpe:.3f}")
