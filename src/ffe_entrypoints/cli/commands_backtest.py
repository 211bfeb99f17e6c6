"""Backtest commands: ``ffe backtest``, ``ffe optimize`` and ``ffe walk-forward``.

Strategies are looked up in the plugin registry, so plugin strategies work everywhere. Data is
read by the ``files`` market-data adapter (found in the registry as a ``BarFileReader``): CSV,
Parquet, Feather/Arrow and freqtrade/ccxt JSON; bad data raises ValidationFailed naming the row,
which the CLI turns into one line and exit code 2. The three commands share one set of sizing
and cost options.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer
from rich.console import Console
from rich.table import Table

from ffe_core.domain.errors import ConfigError, ValidationFailed
from ffe_entrypoints.cli.state import state

if TYPE_CHECKING:  # a port only: the adapters load when a search runs
    from ffe_core.ports.compute import ComputeBackend

console = Console(stderr=True)

Params = dict[str, Any]

DataOpt = Annotated[
    Path,
    typer.Option(
        "--data",
        help="Bars: CSV (.csv/.csv.gz), Parquet, Feather/Arrow or JSON candles; time + OHLC[V].",
    ),
]
DataListOpt = Annotated[
    list[Path],
    typer.Option(
        "--data",
        help="Bars: CSV (.csv/.csv.gz), Parquet, Feather/Arrow or JSON candles; time + OHLC[V]. "
        "Give it more than once, or a folder, for a portfolio on one account.",
    ),
]
TimeUnitOpt = Annotated[
    str | None,
    typer.Option("--time-unit", help="Time column: iso, s, ms, us or ns (default: detected)."),
]
SymbolOpt = Annotated[
    str | None,
    typer.Option(
        "--symbol",
        help="Instrument of the data, for its size increment (default: from the file name, "
        "SYMBOL[_interval].ext).",
    ),
]
StrategyOpt = Annotated[
    str,
    typer.Option(
        "--strategy",
        help="Strategy name (see registry), an order-level one (sma_bracket), or "
        "module:Class / file.py:Class naming an order-level Strategy subclass.",
    ),
]
ParamOpt = Annotated[
    list[str] | None, typer.Option("--param", help="k=v (backtest) or k=v1,v2,... (search).")
]
CashOpt = Annotated[float, typer.Option("--cash", help="Starting cash.")]
CommissionOpt = Annotated[float, typer.Option("--commission", help="Fraction of traded value.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")]
ObjectiveOpt = Annotated[str, typer.Option("--objective", help="sharpe, return, sqn, ...")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", help="Threads (default: cores).")]
SpreadOpt = Annotated[float, typer.Option(help="Spread as a fraction of price.")]
SlippageOpt = Annotated[float, typer.Option(help="Adverse fraction on market fills.")]
SlOpt = Annotated[float, typer.Option(help="Stop-loss, fraction of entry (0=none).")]
TpOpt = Annotated[float, typer.Option(help="Take-profit, fraction of entry.")]
FractionalOpt = Annotated[
    bool | None,
    typer.Option(
        "--fractional/--whole-units",
        help="Trade fractional or whole units (default: the instrument's size increment; "
        "whole units when the instrument is unknown).",
    ),
]
OnCloseOpt = Annotated[bool, typer.Option(help="Fill at the signal bar's close.")]
SamplesOpt = Annotated[int, typer.Option(help="Random search size (0 = full grid).")]
SeedOpt = Annotated[int, typer.Option(help="Random search seed.")]


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


@functools.cache
def _registry() -> Any:
    from ffe_adapters.registry import load_registry

    return load_registry()


def _strategy(name: str) -> Callable[..., Any]:
    fn: Callable[..., Any] = _registry().factory("strategies", name)
    return fn


KEY_STATS = ("Return [%]", "Sharpe Ratio", "Max. Drawdown [%]", "# Trades", "Win Rate [%]")
"""The statistics ``optimize`` shows beside each top result (when the objective computed them)."""


def _rounded(value: Any) -> str:
    """A figure for a person: 4 significant digits, integers as they are, NaN as '-'."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "-" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}" if math.isfinite(value) else "-"


def optimize_table(
    strategy: str, objective: str, evaluated: int, rows: list[dict[str, Any]]
) -> Table:
    """The top results, best first: parameters, the objective and the key statistics, rounded."""
    shown = [k for k in KEY_STATS if any(k in r["stats"] for r in rows)]
    table = Table("#", "params", objective, *shown, title=f"{strategy}: {evaluated} evaluated")
    for rank, r in enumerate(rows, 1):
        params = " ".join(f"{k}={_rounded(v)}" for k, v in r["params"].items())
        figures = [_rounded(r["stats"].get(k)) for k in shown]
        table.add_row(str(rank), params, _rounded(r["score"]), *figures)
    if not shown:
        table.caption = (
            "statistics are computed for objectives such as sharpe, not equity or return"
        )
    return table


def _order_strategies() -> dict[str, Any]:
    strategies: dict[str, Any] = _registry().factories("order_strategies")
    return strategies


def _resolved(name: str) -> tuple[Any, Any, dict[str, Any]]:
    """What ``--strategy NAME`` runs: (target strategy function or None, order-level strategy
    or None, its parameter rules: the API's, read from its defaults)."""
    from ffe_core.backtest.orders import parameters
    from ffe_entrypoints.cli.order_strategy import order_strategy
    from ffe_entrypoints.services.backtest_params import param_rules, rules_from_defaults

    orders = order_strategy(name, _order_strategies())
    if orders is not None:
        return None, orders, rules_from_defaults(name, parameters(orders))
    fn = _strategy(name)
    return fn, None, param_rules(name, fn)


def _checked(
    name: str, rules: Mapping[str, Any], params: dict[str, Any], *, grid: bool = False
) -> dict[str, Any]:
    """``params`` checked against the strategy's parameter ``rules`` (the API's): an unknown
    name or a value of the wrong kind is a ValidationFailed naming ``--param NAME`` and what
    fits."""
    from ffe_entrypoints.services.backtest_params import check_grid, check_params

    for key in params:
        if key not in rules:
            known = ", ".join(sorted(rules)) or "none"
            raise ValidationFailed(
                f"--param {key}: {name} has no such parameter (it takes {known})"
            )
    try:
        (check_grid if grid else check_params)(rules, params)
    except ValidationFailed as exc:
        field, _, why = str(exc).partition(": ")
        raise ValidationFailed(f"--param {field.split('.', 1)[1]}: {why}") from None
    return params


def _search_target(
    name: str, param: list[str] | None, samples: int, seed: int
) -> tuple[Any, list[Params], Any]:
    """What a search runs (a target strategy, or an order-level strategy's Runner), its
    candidates, and the order-level strategy (None for a target strategy)."""
    from ffe_core.backtest.orders import order_runner

    fn, orders, rules = _resolved(name)
    cands = _candidates(
        name, _checked(name, rules, parse_params(param, lists=True), grid=True), samples, seed
    )
    return (fn if orders is None else order_runner(orders)), cands, orders


class _SearchAsked(NamedTuple):
    """What ``optimize`` and ``walk-forward`` were asked to search, besides costs."""

    strategy: str
    param: list[str] | None
    samples: int
    seed: int
    data: Path
    symbol: str | None
    time_unit: str | None
    as_json: bool


class _Costs(NamedTuple):
    """The sizing and cost options all three commands take, besides cash and commission."""

    spread: float
    slippage: float
    sl: float
    tp: float
    fractional: bool | None
    trade_on_close: bool


def _fill_extra(
    ctx: typer.Context, data: Path, symbol: str | None, costs: _Costs
) -> dict[str, Any]:
    """The FillConfig fields of ``costs`` for the bars of ``data`` (its unit step resolved)."""
    return {
        "spread": costs.spread,
        "slippage": costs.slippage,
        "sl": costs.sl,
        "tp": costs.tp,
        "unit_step": _unit_step(ctx, data, symbol, costs.fractional),
        "trade_on_close": costs.trade_on_close,
    }


def _search_inputs(
    ctx: typer.Context,
    asked: _SearchAsked,
    cash: float,
    commission: float,
    costs: _Costs,
) -> tuple[Any, list[Params], Any, Any, list[str]]:
    """A search's function, candidates, fill config, bars and warnings, checked as the API's."""
    from ffe_core.backtest.sizing import unaffordable
    from ffe_entrypoints.cli.order_strategy import check_fill

    extra = _fill_extra(ctx, asked.data, asked.symbol, costs)
    fn, cands, orders = _search_target(asked.strategy, asked.param, asked.samples, asked.seed)
    cfg = _config(cash, commission, extra)
    if orders is not None:
        check_fill(cfg)
    bars = load_data(ctx, asked.data, asked.time_unit)
    return fn, cands, cfg, bars, _warn(unaffordable(bars, cfg), asked.as_json)


def _compute(
    ctx: typer.Context, name: str | None, dask: str | None, workers: int | None
) -> ComputeBackend:
    """The ``ComputeBackend`` a search runs on, built through the registry like every adapter:
    ``--compute`` (default ``backtests.compute``) names it; ``--dask ADDRESS`` is ``--compute
    dask`` with ``adapters.dask.address`` (and ``workers``) set for this run."""
    from ffe_core.ports.clock import SystemClock
    from ffe_core.ports.compute import ComputeBackend
    from ffe_entrypoints.selection import Build

    settings = state(ctx).settings()
    if dask is not None:
        if name not in (None, "dask"):
            raise ValidationFailed(f"--dask runs on the dask backend; drop --compute {name}")
        name = "dask"
        options = {**settings.adapters.get("dask", {}), "address": dask}
        if workers:
            options["workers"] = workers
        settings = settings.model_copy(update={"adapters": {**settings.adapters, "dask": options}})
    key = "--compute" if name else "backtests.compute"
    name = name or settings.backtests.compute
    known = _registry().names("compute")
    if name not in known:
        raise ConfigError(
            f"{key}: no compute backend named {name!r} (registered: {', '.join(known)})"
        )
    backend = Build(_registry(), settings, SystemClock()).named("compute", name)
    if not isinstance(backend, ComputeBackend):
        raise ConfigError(f"{key}: {name!r} is not a ComputeBackend (it lends no executor)")
    return backend


def load_data(ctx: typer.Context, path: Path, time_unit: str | None) -> Any:
    """The bars of ``--data``, read by the ``files`` source (the one loader) from the registry."""
    from ffe_core.ports.clock import SystemClock
    from ffe_core.ports.market_data import BarFileReader
    from ffe_entrypoints.selection import Build

    reader = Build(_registry(), state(ctx).settings(), SystemClock()).named("market_data", "files")
    if not isinstance(reader, BarFileReader):
        raise ConfigError("the 'files' market data adapter cannot read bar files")
    return reader.read_bars(path, time_unit=time_unit)


def _unit_step(
    ctx: typer.Context, data: Path, symbol: str | None, fractional: bool | None
) -> float:
    """--fractional / --whole-units, else the instrument's increment (named or from the file)."""
    from ffe_core.backtest.sizing import unit_step_for

    if fractional is not None:
        return 0.0 if fractional else 1.0
    settings = state(ctx).settings()
    if symbol:
        instrument = settings.instrument(symbol)
        if instrument is None:
            raise ValidationFailed(f"--symbol {symbol}: not a configured instrument")
    else:
        stem = data.name.split(".")[0]
        instrument = settings.instrument(stem) or settings.instrument(stem.rsplit("_", 1)[0])
    if instrument is None:
        return 1.0
    return unit_step_for(instrument.size_increment)


def _config(cash: float, commission: float, extra: Mapping[str, Any]) -> Any:
    from ffe_core.backtest.simulator import FillConfig

    try:
        return FillConfig(cash=cash, commission=commission, **extra)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(str(exc)) from None


def _warn(message: str | None, quiet: bool) -> list[str]:
    """A warning for stderr (text mode) and for the JSON answer."""
    if message is None:
        return []
    if not quiet:
        console.print(f"warning: {message}", style="yellow", highlight=False, soft_wrap=True)
    return [message]


@contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    if quiet:
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

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


def _data_files(data: list[Path]) -> list[Path]:
    from ffe_entrypoints.cli.portfolio_run import data_files

    return data_files(data)


def _portfolio(
    ctx: typer.Context,
    files: list[Path],
    strategy: str,
    params: Params,
    cash: float,
    commission: float,
    costs: _Costs,
    time_unit: str | None,
    as_json: bool,
    risk_stops: bool,
) -> None:
    """``ffe backtest`` over several files: one account under the configured risk limits."""
    from ffe_core.backtest.strategies import spec_for
    from ffe_entrypoints.cli import portfolio_run

    fn = _strategy(strategy)

    def cost(path: Path) -> Any:  # sl, tp and trade_on_close are off: checked by ``backtest``
        return _config(cash, commission, _fill_extra(ctx, path, None, costs))

    out = portfolio_run.run(
        files,
        lambda p: load_data(ctx, p, time_unit),
        cost,
        fn,
        params,
        cash,
        state(ctx).settings().risk,
        spec_for(strategy).warmup(params),
        risk_stops,
    )
    out.update(strategy=strategy, params=params)
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    _print_stats(out["portfolio"], f"portfolio: {strategy} {params} on {len(files)} instruments")

    def num(x: Any) -> str:
        return "-" if x is None else f"{x:,.4f}"

    table = Table("instrument", "trades", "return %", "Sharpe", "exits", title="instruments")
    for sym, st in out["instruments"].items():
        exits = " ".join(f"{k}={v}" for k, v in out["exits"][sym].items())
        table.add_row(
            sym, str(out["trades"][sym]), num(st["Return [%]"]), num(st["Sharpe Ratio"]), exits
        )
    Console().print(table)
    if out["kill_switch_bar"] is not None:
        Console().print(f"kill switch tripped at bar {out['kill_switch_bar']} (risk.max_drawdown)")


def register(app: typer.Typer) -> None:
    @app.command()
    def backtest(
        ctx: typer.Context,
        data: DataListOpt,
        strategy: StrategyOpt,
        param: ParamOpt = None,
        cash: CashOpt = 10_000.0,
        commission: CommissionOpt = 0.0,
        spread: SpreadOpt = 0.0,
        slippage: SlippageOpt = 0.0,
        sl: SlOpt = 0.0,
        tp: TpOpt = 0.0,
        fractional: FractionalOpt = None,
        trade_on_close: OnCloseOpt = False,
        symbol: SymbolOpt = None,
        time_unit: TimeUnitOpt = None,
        finalize: Annotated[
            bool,
            typer.Option(
                "--finalize/--no-finalize",
                help="Close a position open at the end and count it (backtesting.py's "
                "finalize_trades); --no-finalize leaves it open, valued in the equity.",
            ),
        ] = True,
        risk_stops: Annotated[
            bool,
            typer.Option(
                "--risk-stops",
                help="Portfolio (several --data): stop-loss and take-profit on every entry, "
                "set as the agent's risk manager sets them (risk.atr_stop_multiple ATR(14)s, "
                "risk.reward_risk).",
            ),
        ] = False,
        alpha_beta: Annotated[
            bool,
            typer.Option(
                "--alpha-beta",
                help="Also compute Alpha and Beta against buy-and-hold (backtesting.py's "
                "last two statistics; a regression over the whole run, off by default).",
            ),
        ] = False,
        as_json: JsonOpt = False,
        report: Annotated[
            Path | None, typer.Option("--report", help="Write an HTML report.")
        ] = None,
        png: Annotated[
            bool, typer.Option("--png", help="Also write a PNG next to --report.")
        ] = False,
    ) -> None:
        """Backtest one strategy with fixed parameters."""
        from ffe_core.backtest.simulator import simulate
        from ffe_core.backtest.sizing import unaffordable
        from ffe_core.backtest.stats import compute_stats, json_ready
        from ffe_core.backtest.strategies import spec_for
        from ffe_entrypoints.cli.order_strategy import run_order_level

        params = parse_params(param)
        costs = _Costs(spread, slippage, sl, tp, fractional, trade_on_close)
        files = _data_files(data)
        if len(files) > 1:
            unsupported = {
                "--sl": sl,
                "--tp": tp,
                "--trade-on-close": trade_on_close,
                "--symbol": symbol,
                "--report": report,
                "--no-finalize": not finalize,
            }
            named = [k for k, v in unsupported.items() if v]
            if named:
                raise ValidationFailed(f"{', '.join(named)}: not available with several --data")
            _portfolio(
                ctx,
                files,
                strategy,
                params,
                cash,
                commission,
                costs,
                time_unit,
                as_json,
                risk_stops,
            )
            return
        if risk_stops:
            raise ValidationFailed("--risk-stops: a portfolio option (give several --data)")
        path = files[0]
        fn, orders, rules = _resolved(strategy)
        params = _checked(strategy, rules, params)  # like the API's
        cfg = _config(
            cash, commission, {**_fill_extra(ctx, path, symbol, costs), "finalize": finalize}
        )
        bars = load_data(ctx, path, time_unit)
        target = None
        warmup = spec_for(strategy).warmup(params)
        result: Any
        if fn is None:
            assert orders is not None
            result = run_order_level(bars, orders, cfg, params)
            warmup = result.warmup
        else:
            try:
                target = fn(bars.open, bars.high, bars.low, bars.close, bars.volume, **params)
            except TypeError as exc:
                raise ValidationFailed(f"strategy {strategy!r}: {exc}") from None
            result = simulate(bars, target, cfg)
        stats = compute_stats(result, bars, warmup=warmup, alpha_beta=alpha_beta)
        warnings = _warn(unaffordable(bars, cfg, target, len(result.trades)), as_json)
        if report is not None:
            from ffe_entrypoints.reports.html import write_html
            from ffe_entrypoints.reports.png import render_png

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
                warnings=warnings,
            )
            typer.echo(json.dumps(out, indent=2))
        else:
            _print_stats(stats, f"{strategy} {params}")

    @app.command()
    def optimize(
        ctx: typer.Context,
        data: DataOpt,
        strategy: StrategyOpt,
        param: ParamOpt = None,
        cash: CashOpt = 10_000.0,
        commission: CommissionOpt = 0.0,
        spread: SpreadOpt = 0.0,
        slippage: SlippageOpt = 0.0,
        sl: SlOpt = 0.0,
        tp: TpOpt = 0.0,
        fractional: FractionalOpt = None,
        trade_on_close: OnCloseOpt = False,
        symbol: SymbolOpt = None,
        time_unit: TimeUnitOpt = None,
        objective: ObjectiveOpt = "sharpe",
        samples: SamplesOpt = 0,
        seed: SeedOpt = 0,
        workers: WorkersOpt = None,
        top: Annotated[int, typer.Option(help="How many results to show.")] = 10,
        as_json: JsonOpt = False,
        compute: Annotated[
            str | None,
            typer.Option(
                help="Compute backend by registered name (default: backtests.compute), "
                "e.g. local, dask or a plugin's."
            ),
        ] = None,
        dask: Annotated[
            str | None,
            typer.Option(
                help="Run on Dask: 'local' (a LocalCluster) or a scheduler address "
                "(--compute dask at that address)."
            ),
        ] = None,
    ) -> None:
        """Search parameters (grid, or random with --samples) in parallel."""
        from ffe_core.backtest.search import run_search
        from ffe_core.backtest.stats import json_ready
        from ffe_core.backtest.strategies import spec_for

        fn, cands, cfg, bars, warnings = _search_inputs(
            ctx,
            _SearchAsked(strategy, param, samples, seed, data, symbol, time_unit, as_json),
            cash,
            commission,
            _Costs(spread, slippage, sl, tp, fractional, trade_on_close),
        )
        backend = _compute(ctx, compute, dask, workers)
        with backend.executor() as executor, _progress("optimize", as_json) as progress:
            evals = run_search(
                bars,
                fn,
                cands,
                cfg,
                objective=objective,
                workers=workers,
                progress=progress,
                warmup=spec_for(strategy).warmup,
                executor=executor,
            )
        ranked = sorted(evals, key=lambda e: -e.score)[: max(top, 1)]
        rows = [
            {
                "params": e.params,
                "score": e.score if math.isfinite(e.score) else None,
                "stats": json_ready({k: e.stats[k] for k in KEY_STATS if k in e.stats}),
            }
            for e in ranked
        ]
        if as_json:
            answer = {
                "objective": objective,
                "evaluated": len(evals),
                "results": rows,
                "warnings": warnings,
            }
            typer.echo(json.dumps(answer, indent=2))
            return
        Console().print(optimize_table(strategy, objective, len(evals), rows))

    @app.command("walk-forward")
    def walk_forward_cmd(
        ctx: typer.Context,
        data: DataOpt,
        strategy: StrategyOpt,
        in_sample: Annotated[int, typer.Option("--in-sample", help="In-sample bars.")],
        out_of_sample: Annotated[int, typer.Option("--out-of-sample", help="OOS bars.")],
        param: ParamOpt = None,
        anchored: Annotated[bool, typer.Option(help="Anchor in-sample at bar 0.")] = False,
        cash: CashOpt = 10_000.0,
        commission: CommissionOpt = 0.0,
        spread: SpreadOpt = 0.0,
        slippage: SlippageOpt = 0.0,
        sl: SlOpt = 0.0,
        tp: TpOpt = 0.0,
        fractional: FractionalOpt = None,
        trade_on_close: OnCloseOpt = False,
        symbol: SymbolOpt = None,
        time_unit: TimeUnitOpt = None,
        objective: ObjectiveOpt = "sharpe",
        samples: SamplesOpt = 0,
        seed: SeedOpt = 0,
        workers: WorkersOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Walk-forward analysis with per-window parameters, PBO and deflated Sharpe."""
        from ffe_core.backtest.stats import json_ready
        from ffe_core.backtest.strategies import spec_for
        from ffe_core.backtest.walk_forward import walk_forward

        fn, cands, cfg, bars, warnings = _search_inputs(
            ctx,
            _SearchAsked(strategy, param, samples, seed, data, symbol, time_unit, as_json),
            cash,
            commission,
            _Costs(spread, slippage, sl, tp, fractional, trade_on_close),
        )
        with _progress("walk-forward", as_json) as progress:
            res = walk_forward(
                bars,
                fn,
                cands,
                cfg,
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
                "warnings": warnings,
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
