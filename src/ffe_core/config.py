"""Frozen, typed settings for every part of ffe. Loading (files, environment) lives in the entry points."""

from __future__ import annotations

import ipaddress
import re
import warnings
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from ffe_core.domain.errors import ValidationFailed
from ffe_core.domain.instruments import AssetClass, Instrument
from ffe_core.domain.intervals import horizon_seconds
from ffe_core.domain.portfolio import TradingMode

SECRET_KEY_PARTS = ("key", "token", "secret", "password", "passphrase", "private", "dsn")
"""Option names containing any of these are treated as secrets wherever options are shown."""


def is_secret_key(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in SECRET_KEY_PARTS)


_URL_PASSWORD = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s]*):(?P<pw>[^@/?#\s]+)@"
)
"""The password of ``scheme://user:password@host`` (storage and Redis URLs carry one)."""


def mask_url_passwords(text: str, mask: str = "**********") -> str:
    """``text`` with the password of every ``scheme://user:password@`` URL replaced by ``mask``."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}:{mask}@", text)


def url_passwords(text: str) -> list[str]:
    """The passwords of the ``scheme://user:password@`` URLs in ``text``."""
    return [m["pw"] for m in _URL_PASSWORD.finditer(text)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"
    TEST = "test"


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    json_format: bool | None = None  # None: JSON in production, readable otherwise


class MonitoringSettings(_Section):
    enabled: bool = False
    otlp_endpoint: str | None = None
    sentry_dsn: SecretStr | None = None
    service_name: str = "ffe-backend"
    metrics: str = "prometheus"
    """The registered metrics exporter (``prometheus``, ``none`` or a plugin's)."""
    tracing: str = "otlp"
    """The registered tracer (``otlp``: active when ``enabled`` or ``otlp_endpoint`` is set)."""


class ApiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    api_key: SecretStr | None = None
    allow_public_bind: bool = False  # without an API key, refuse to bind beyond loopback unless set
    allowed_origins: tuple[str, ...] = ()
    rate_limit_per_minute: int = Field(default=600, ge=1)
    frontend_dist: str | None = None  # directory of the built dashboard; auto-detected when None
    trusted_proxies: tuple[str, ...] = ()
    """IPs/CIDRs whose ``X-Forwarded-For`` names the client; empty: forwarded headers ignored."""
    niceness: int = Field(default=5, ge=0, le=19)
    """How much the API lowers its CPU priority when the agent runs in its own process (0: not
    at all): under load the scheduler serves trading before dashboard reads."""
    health_check_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    """How long ``/health`` and ``/ready`` wait for one component's check before reporting it
    down (keep it under the probe's own timeout)."""

    @model_validator(mode="after")
    def _proxies_are_networks(self) -> ApiSettings:
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"api.trusted_proxies: {proxy!r} is not an IP or CIDR") from None
        return self


class StorageSettings(_Section):
    url: str = "sqlite+aiosqlite:///./data/ffe.db"
    schema_name: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    """PostgreSQL schema to use (search_path); None uses the server default."""
    echo: bool = False


class CacheSettings(_Section):
    backend: str = "memory"
    """A registered cache name (``memory``, ``redis``, ``none`` or a plugin's); checked at start-up."""
    quote_ttl_seconds: float = Field(default=5.0, gt=0)
    bar_ttl_seconds: float = Field(default=3600.0, gt=0)


class MarketDataSettings(_Section):
    sources: tuple[str, ...] = ("bundled",)  # fallback chain, first answer wins
    interval: str = "1h"
    history_bars: int = Field(default=200, ge=20, le=5000)
    max_staleness_seconds: float | None = None  # None: replayed data is never stale
    cache: CacheSettings = CacheSettings()


class ProvidersSettings(_Section):
    enabled: tuple[str, ...] = ("trend", "mean_reversion", "breakout")
    timeout_seconds: float = Field(default=30.0, gt=0)


class EnsembleSettings(_Section):
    aggregation: Literal["weighted_majority", "confidence_weighted", "unanimity", "judge"] = (
        "confidence_weighted"
    )
    quorum: int = Field(default=2, ge=1)
    max_disagreement: float = Field(default=0.5, ge=0, le=1)  # share of weight against the winner
    deadline_seconds: float = Field(default=45.0, gt=0)
    judge_provider: str | None = None


class RiskSettings(_Section):
    sizing: Literal["fixed_fractional", "volatility_target", "kelly"] = "fixed_fractional"
    risk_per_trade: float = Field(default=0.01, gt=0, le=0.2)
    kelly_fraction: float = Field(default=0.25, gt=0, le=1)
    kelly_cap: float = Field(default=0.2, gt=0, le=1)
    max_position_fraction: float = Field(default=0.25, gt=0, le=10)
    max_gross_exposure: float = Field(default=1.0, gt=0, le=10)
    max_leverage: float = Field(default=1.0, gt=0, le=50)
    max_daily_loss: float = Field(default=0.05, gt=0, le=1)
    max_drawdown: float = Field(default=0.2, gt=0, le=1)
    max_correlated_exposure: float = Field(default=0.6, gt=0, le=10)
    atr_stop_multiple: float = Field(default=2.0, gt=0)
    reward_risk: float = Field(default=2.0, gt=0)
    min_confidence: float = Field(default=0.4, ge=0, le=1)
    allow_short: bool = True
    correlation_lookback: int = Field(default=60, ge=3, le=5000)
    """Bars of common history used to estimate the correlation between two instruments."""


class TradingSettings(_Section):
    mode: TradingMode = TradingMode.PAPER
    confirm_live: bool = False  # live trading needs mode=live AND this flag
    broker: str = "paper"
    account_id: str = "paper-default"
    initial_cash: Decimal = Field(default=Decimal("100000"), gt=0)
    commission: Decimal = Field(default=Decimal("0.001"), ge=0, le=Decimal("0.1"))
    slippage: Decimal = Field(default=Decimal("0.0005"), ge=0, le=Decimal("0.1"))
    spread: Decimal = Field(default=Decimal("0"), ge=0, le=Decimal("0.1"))
    min_order_notional: Decimal = Field(default=Decimal("10"), ge=0)
    """Entries worth less than this (in the account currency) are not sent: no dust top-ups."""

    @property
    def fee_rate(self) -> Decimal:
        """What one side of a trade costs as a fraction of its notional: commission, slippage
        and half the spread (the risk manager reserves it when sizing, live and in replays)."""
        return self.commission + self.slippage + self.spread / 2

    @model_validator(mode="after")
    def _live_needs_confirmation(self) -> TradingSettings:
        if self.mode is TradingMode.LIVE and not self.confirm_live:
            raise ValueError("trading.mode is live but trading.confirm_live is not true")
        return self


class AgentSettings(_Section):
    instruments: tuple[str, ...] = ("BTC-USD", "ETH-USD", "EUR-USD", "AAPL")
    interval_seconds: float = Field(default=5.0, gt=0)
    autostart: bool = False
    lease_ttl_seconds: float = Field(default=15.0, gt=0)
    """With PostgreSQL storage, the leader lease's lifetime: how fast a standby takes over."""
    lease: str = "storage"
    """The registered leader lease: ``storage`` (the storage's own: a PostgreSQL lease, none for
    SQLite's single process), ``none`` or a plugin's."""
    own_process: bool = True
    """``ffe serve`` runs the agent in a child process it supervises (the API's load cannot slow
    its cycles); false: on the API's own event loop."""


class ApprovalSettings(_Section):
    """When a person approves an order before it is sent.

    ``tiered``: an order below ``auto_below_notional`` is sent at once; one at or above
    ``approve_above_notional`` waits for a person and, unanswered, ends as ``on_expiry`` says
    (denied by default); one in between is shown with a veto window: unanswered, it is
    approved on expiry. Every approved order still passes the execution gate.
    """

    policy: Literal["never", "always", "above_notional", "tiered"] = "never"
    notional_threshold: Decimal = Field(default=Decimal("10000"), ge=0)
    auto_below_notional: Decimal = Field(default=Decimal("1000"), ge=0)
    approve_above_notional: Decimal = Field(default=Decimal("10000"), ge=0)
    on_expiry: Literal["deny", "approve"] = "deny"
    """What an unanswered approval becomes (``tiered``'s veto tier is always approved)."""
    brier_window: int = Field(default=50, ge=1, le=10_000)
    """The approval card shows each agreeing provider's Brier over its last this many scores."""
    expiry_seconds: float = Field(default=900.0, gt=0)
    """How long an approval waits for a person (its window closes ``max_age_seconds`` after the
    decision at the latest)."""
    max_age_seconds: float = Field(default=900.0, gt=0)
    """A decision approved more than this after it was made, or whose approval is older than
    this when its order would be sent, is expired, not sent."""
    max_price_drift: float = Field(default=0.02, gt=0, le=1)
    """... and so is one whose price moved more than this fraction since the decision."""

    @model_validator(mode="after")
    def _tiers_in_order(self) -> ApprovalSettings:
        if self.auto_below_notional > self.approve_above_notional:
            raise ValueError(
                "approvals.auto_below_notional must not exceed approvals.approve_above_notional"
            )
        return self


class NotifySettings(_Section):
    """Which registered adapters tell a person what happens, and which hear from one."""

    notifiers: tuple[str, ...] = ("log",)
    """Notifier names (``log``, ``telegram`` or a plugin's); every one gets every notification."""
    approval_channels: tuple[str, ...] = ("log",)
    """Approval channel names: each shows a pending approval to a person."""
    inbound: tuple[str, ...] = ()
    """Inbound channel names (``telegram``): commands and approvals coming from a person."""


class LearningSettings(_Section):
    """How outcomes are scored and how fast weights follow them.

    Weights move multiplicatively in log space, ``log w <- (1 - decay) * log w + rate * r`` with
    reward ``r`` = +1 for a hit and -1 for a miss, then are clipped to ``[w_min, w_max]``. The
    decay pulls every scored provider back toward 1, so old evidence fades (about ``1/decay``
    updates of memory) and a regime change is followed; the bounds keep any provider from
    vanishing for good or dominating. A provider that keeps hitting at rate ``p`` settles near
    ``exp(rate * (2p - 1) / decay)`` (then the cap).
    """

    horizons: tuple[str, ...] = ("1bar", "4bars", "24bars")
    """When decisions are scored: bars of ``market_data.interval`` at the data source's pace
    (a replay's bars pass in seconds, so it is scored within minutes), or clock intervals
    (``1h``, ``4h``, ``24h``)."""
    learn_horizon: str | None = None
    """The horizon whose outcomes update stats and weights (default: the first horizon)."""
    learning_rate: float = Field(default=0.06, gt=0, le=1)
    decay: float = Field(default=0.01, ge=0, lt=1)
    w_min: float = Field(default=0.05, gt=0)
    w_max: float = Field(default=5.0, gt=0)
    hold_band: float = Field(default=0.002, ge=0)
    """A HOLD vote is a hit when the absolute return stays below this."""
    batch_size: int = Field(default=1000, ge=1)
    give_up_after_seconds: float = Field(default=7 * 86400.0, ge=0)
    """When prices stay unavailable this long past due, the outcome is recorded as void."""

    @model_validator(mode="after")
    def _consistent(self) -> LearningSettings:
        if not self.horizons:
            raise ValueError("learning.horizons: at least one horizon")
        for h in self.horizons:
            try:
                horizon_seconds(h, 1.0)
            except ValidationFailed as exc:
                raise ValueError(f"learning.horizons: {exc}") from None
        if self.learn_horizon is not None and self.learn_horizon not in self.horizons:
            raise ValueError(f"learning.learn_horizon {self.learn_horizon!r} not in horizons")
        if not self.w_min <= 1.0 <= self.w_max:
            raise ValueError("learning: need w_min <= 1 <= w_max")
        return self

    @property
    def learning_horizon(self) -> str:
        return self.learn_horizon or self.horizons[0]


DEFAULT_INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument(
        symbol="BTC-USD",
        asset_class=AssetClass.CRYPTO,
        base="BTC",
        quote="USD",
        price_increment=Decimal("0.01"),
        size_increment=Decimal("0.00000001"),
    ),
    Instrument(
        symbol="ETH-USD",
        asset_class=AssetClass.CRYPTO,
        base="ETH",
        quote="USD",
        price_increment=Decimal("0.01"),
        size_increment=Decimal("0.00000001"),
    ),
    Instrument(
        symbol="EUR-USD",
        asset_class=AssetClass.FOREX,
        base="EUR",
        quote="USD",
        price_increment=Decimal("0.00001"),
        size_increment=Decimal("1"),
    ),
    Instrument(
        symbol="AAPL",
        asset_class=AssetClass.EQUITY,
        base="AAPL",
        quote="USD",
        price_increment=Decimal("0.01"),
        size_increment=Decimal("1"),
    ),
)


class LiveGateSettings(_Section):
    """What ``trading.mode: live`` needs at start-up: a stored walk-forward replay of the
    configured stack (``ffe replay --walk-forward``), recent enough and within these limits."""

    enabled: bool = True
    """False starts live trading without a report (logged as a warning at start-up)."""
    report_path: str = "data/live_gate.json"
    max_age_days: float = Field(default=30.0, gt=0)
    max_pbo: float = Field(default=0.5, ge=0, le=1)
    min_deflated_sharpe: float = Field(default=0.9, ge=0, le=1)
    """The deflated Sharpe ratio as a probability (that the true Sharpe beats luck)."""
    min_oos_return_pct: float = 0.0
    """The out-of-sample return must be above this."""
    max_drawdown_pct: float | None = Field(default=None, gt=0, le=100)
    """None: the kill switch's limit, ``risk.max_drawdown`` (as a percentage)."""


class BacktestSettings(_Section):
    """Backtest jobs of the API: run in worker processes, queued and bounded so that a search
    never takes CPU, threads or the event loop from trading."""

    workers: int = Field(default=1, ge=1, le=64)
    """Worker processes (each runs one job at a time, single-threaded)."""
    max_queued: int = Field(default=4, ge=0, le=1000)
    """Jobs waiting for a worker; a submission beyond this is refused (429)."""
    max_work: int = Field(default=10_000_000, ge=100)
    """Bars x parameter combinations one job may ask for (400 beyond it)."""
    worker_niceness: int = Field(default=10, ge=0, le=19)
    """Added to the workers' nice value (POSIX) so trading wins the CPU when both want it."""
    idle_seconds: float = Field(default=300.0, gt=0)
    """Workers exit after this long without a job; the next job starts them again."""
    compute: str = "local"
    """The registered compute backend parameter searches run on (``local``, ``dask``...)."""


class Budget(_Section):
    """A spending limit in US dollars per UTC day and per UTC month (None: no limit)."""

    daily_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    monthly_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class BudgetSettings(Budget):
    """The overall budget (every priced provider together) and one per provider name."""

    providers: dict[str, Budget] = Field(default_factory=dict)


class ModelPriceSettings(_Section):
    """US dollars per million tokens for one model (overrides an adapter's default price)."""

    input_per_mtok: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    output_per_mtok: float = Field(default=0.0, ge=0, allow_inf_nan=False)


class DemoteSettings(_Section):
    """An optional rule (off by default): a provider whose attributed trade P&L over
    ``costs.value_window_days`` does not cover what it cost, after at least ``min_scored``
    scored votes, has its ensemble weight held at ``weight_floor`` until it does."""

    enabled: bool = False
    weight_floor: float = Field(default=0.05, gt=0)
    min_scored: int = Field(default=20, ge=1)
    refresh_seconds: float = Field(default=3600.0, ge=0)
    """How long one judgement of the providers' value is kept before it is measured again."""


class CostSettings(_Section):
    """The cost ledger and its budgets, which fail closed: a provider past a budget abstains
    with the reason (the ensemble's quorum rule decides), and one notification goes out."""

    budgets: BudgetSettings = BudgetSettings()
    prices: dict[str, ModelPriceSettings] = Field(default_factory=dict)
    """Per-model prices (a key also matches dated variants that start with it); they override
    the defaults each language-model adapter ships with, and ``adapters.<name>.prices`` wins."""
    value_window_days: int = Field(default=30, ge=1, le=3660)
    """The window "value for money" (Brier improvement and P&L per dollar) is measured over."""
    demote: DemoteSettings = DemoteSettings()


class ParitySettings(_Section):
    """Live / backtest parity: the venue's fills judged against the backtester's fill model."""

    tolerance_bps: float = Field(default=50.0, gt=0)
    """An order whose venue fill is this many basis points off the fill model scores 0; an
    exact fill scores 1 (linear in between). A fill only one side made scores 0."""
    gauge_every_seconds: float = Field(default=60.0, ge=0)
    """How often the agent recomputes today's score for the gauge (the shadow replay reads the
    day's flight records; the alert looks at 10 minutes). 0: after every pass."""


class Settings(_Section):
    """The whole validated configuration. Built once at start-up; never mutated."""

    environment: Environment = Environment.DEVELOPMENT
    logging: LoggingSettings = LoggingSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    api: ApiSettings = ApiSettings()
    storage: StorageSettings = StorageSettings()
    market_data: MarketDataSettings = MarketDataSettings()
    providers: ProvidersSettings = ProvidersSettings()
    ensemble: EnsembleSettings = EnsembleSettings()
    risk: RiskSettings = RiskSettings()
    trading: TradingSettings = TradingSettings()
    agent: AgentSettings = AgentSettings()
    approvals: ApprovalSettings = ApprovalSettings()
    notify: NotifySettings = NotifySettings()
    learning: LearningSettings = LearningSettings()
    backtests: BacktestSettings = BacktestSettings()
    live_gate: LiveGateSettings = LiveGateSettings()
    costs: CostSettings = CostSettings()
    parity: ParitySettings = ParitySettings()
    instruments: tuple[Instrument, ...] = DEFAULT_INSTRUMENTS
    adapters: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Options per adapter name (``adapters.anthropic.model``); each adapter validates its own."""

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data: Any) -> Any:
        """Keys moved under ``adapters.<name>`` keep working for one release, with a warning."""
        return migrate_moved_keys(data) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _unique_instruments(self) -> Settings:
        symbols = [i.symbol for i in self.instruments]
        if len(symbols) != len(set(symbols)):
            raise ValueError("instruments: duplicate symbol")
        known = set(symbols)
        unknown = [s for s in self.agent.instruments if s not in known]
        if unknown:
            raise ValueError(f"agent.instruments: unknown instrument(s) {', '.join(unknown)}")
        return self

    def instrument(self, symbol: str) -> Instrument | None:
        symbol = symbol.upper()
        return next((i for i in self.instruments if i.symbol == symbol), None)


class CoreView(BaseModel):
    """The few core settings an adapter may read (``AdapterContext.core``), never all of them:
    the trading mode, account and costs, the instruments, the bar interval, the storage, the
    leader lease's lifetime, monitoring (for telemetry exporters) and model prices."""

    model_config = ConfigDict(frozen=True)
    trading: TradingSettings = TradingSettings()
    instruments: tuple[Instrument, ...] = DEFAULT_INSTRUMENTS
    bar_interval: str = "1h"
    storage: StorageSettings = StorageSettings()
    lease_ttl_seconds: float = 15.0
    monitoring: MonitoringSettings = MonitoringSettings()
    model_prices: dict[str, ModelPriceSettings] = Field(default_factory=dict)
    """``costs.prices``: what language-model adapters price their calls at."""

    @classmethod
    def of(cls, settings: Settings) -> CoreView:
        return cls(
            trading=settings.trading,
            instruments=settings.instruments,
            bar_interval=settings.market_data.interval,
            storage=settings.storage,
            lease_ttl_seconds=settings.agent.lease_ttl_seconds,
            monitoring=settings.monitoring,
            model_prices=settings.costs.prices,
        )

    def instrument(self, symbol: str) -> Instrument | None:
        symbol = symbol.upper()
        return next((i for i in self.instruments if i.symbol == symbol), None)


class MovedKeyWarning(FutureWarning):
    """A deprecated configuration key was read from its old place; it stops working in the next
    release. (A ``FutureWarning``: shown to the person running ffe, unlike DeprecationWarning.)"""


def _plain(value: Any) -> Any:
    return value.model_dump() if isinstance(value, BaseModel) else value


def _warn_moved(old: str, new: str) -> None:
    warnings.warn(
        f"configuration key {old} moved to {new}; the old key stops working in the next release",
        MovedKeyWarning,
        stacklevel=2,
    )


def migrate_moved_keys(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the keys of the previous release moved to their new home (warning each):
    ``telegram.*`` -> ``adapters.telegram.*`` (``telegram.enabled`` lists ``telegram`` among
    the notifiers, approval channels and inbound channels) and ``market_data.cache.redis_url``
    -> ``adapters.redis.url``; ``adapters.sql.*`` (storage options) -> ``adapters.sqlite.*``
    and ``adapters.postgresql.*`` (storage backends are named by URL scheme). A value already at
    the new place wins. Anything not shaped as expected is left for validation to name."""
    adapters = _plain(data.get("adapters", {}))
    if not isinstance(adapters, dict) or not all(isinstance(v, dict) for v in adapters.values()):
        return data
    data, adapters = dict(data), {k: dict(v) for k, v in adapters.items()}
    if "sql" in adapters:
        sql = adapters.pop("sql")
        _warn_moved("adapters.sql.*", "adapters.sqlite.* / adapters.postgresql.*")
        for scheme in ("sqlite", "postgresql"):
            adapters[scheme] = {**sql, **adapters.get(scheme, {})}
        data["adapters"] = adapters
    old = _plain(data.get("telegram"))
    if isinstance(old, dict):
        del data["telegram"]
        old = dict(old)
        enabled = old.pop("enabled", False)
        _warn_moved("telegram.*", "adapters.telegram.* (and notify.* for telegram.enabled)")
        adapters["telegram"] = {**old, **adapters.get("telegram", {})}
        data["adapters"] = adapters
        notify = _plain(data.get("notify", {}))
        if enabled in (True, "true", "True", "1", 1) and isinstance(notify, dict):
            notify = dict(notify)
            for key, default in (("notifiers", ["log"]), ("approval_channels", ["log"])):
                names = notify.get(key, default)
                if isinstance(names, list | tuple) and "telegram" not in names:
                    notify[key] = [*names, "telegram"]
            inbound = notify.get("inbound", [])
            if isinstance(inbound, list | tuple) and "telegram" not in inbound:
                notify["inbound"] = [*inbound, "telegram"]
            data["notify"] = notify
    market = _plain(data.get("market_data"))
    cache = _plain(market.get("cache")) if isinstance(market, dict) else None
    if isinstance(market, dict) and isinstance(cache, dict) and "redis_url" in cache:
        cache = dict(cache)
        url = cache.pop("redis_url")
        _warn_moved("market_data.cache.redis_url", "adapters.redis.url")
        adapters["redis"] = {"url": url, **adapters.get("redis", {})}
        data["market_data"] = {**market, "cache": cache}
        data["adapters"] = adapters
    return data
