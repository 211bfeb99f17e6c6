"""The Litestar application, assembled from the container."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from ffe_core import __version__
from ffe_core.domain.errors import FfeError
from ffe_core.ports.capabilities import InboundChannel, WebhookHandler
from ffe_core.ports.control import AgentMetricsSource, StandsBy
from ffe_entrypoints.api.agent import AgentController
from ffe_entrypoints.api.approvals import ApprovalController
from ffe_entrypoints.api.audit import CostController, FlightController, ParityController
from ffe_entrypoints.api.auth import API_KEY_HEADER, api_key_guards
from ffe_entrypoints.api.backtests import BacktestController
from ffe_entrypoints.api.decimal_schema import DecimalSchemaPlugin
from ffe_entrypoints.api.decisions import DecisionController
from ffe_entrypoints.api.desk import DeskController
from ffe_entrypoints.api.errors import (
    domain_error_handler,
    http_error_handler,
    unexpected_error_handler,
)
from ffe_entrypoints.api.health import HealthController
from ffe_entrypoints.api.json_depth import DepthLimitedRequest
from ffe_entrypoints.api.live_gate import LiveGateController
from ffe_entrypoints.api.metrics import UNMETERED, MetricsController, prometheus_config
from ffe_entrypoints.api.portfolio import PortfolioController
from ffe_entrypoints.api.providers import ProviderController
from ffe_entrypoints.api.proxies import TrustedProxyMiddleware, networks
from ffe_entrypoints.api.ratelimit import (
    HEALTH_COMPONENT,
    FallbackStore,
    rate_limit_middleware,
    rate_limit_store,
    stores,
)
from ffe_entrypoints.api.sentry import init_sentry
from ffe_entrypoints.api.static import dashboard_routes, find_dist
from ffe_entrypoints.api.swagger import swagger_assets_router, swagger_plugin
from ffe_entrypoints.api.telegram import TelegramController
from ffe_entrypoints.container import Container
from ffe_entrypoints.lifecycle import shutdown, startup
from ffe_entrypoints.services.health import HealthService

UNTRACED = ["/ready", "/live", *UNMETERED]
PUBLIC_CONTROLLERS = [HealthController, MetricsController, TelegramController]
PROTECTED_CONTROLLERS = [
    DecisionController,
    PortfolioController,
    DeskController,
    AgentController,
    ApprovalController,
    ProviderController,
    BacktestController,
    LiveGateController,
    CostController,
    FlightController,
    ParityController,
]
API_KEY_SCHEME = "apiKey"
DEPENDENCIES = {
    "health_service": "health_service",
    "decision_service": "decision_service",
    "uow_factory": "uow_factory",
    "broker": "broker",
    "account_reads": "account_reads",
    "decision_feed": "decision_feed",
    "settings": "settings",
    "market_data": "market_data",
    "control": "control",
    "approval_service": "approval_service",
    "decision_providers": "decision_providers",
    "telegram_webhook": "telegram_webhook",
    "backtest_service": "backtest_service",
    "cost_ledger": "cost_ledger",
    "flight_recorder": "flight_recorder",
    "weights": "weights",
    "parity": "parity",
    "learning": "learning",
    "agent_metrics": "agent_metrics",
}


def _with_store_check(container: Container, limits: FallbackStore) -> HealthService:
    """The health service, reporting the rate-limit store too when it is Redis."""
    health = container.health_service()
    if limits.primary is not None:
        health.add_check(HEALTH_COMPONENT, limits.check)
    return health


def _plugins(container: Container) -> list[Any]:
    """Decimals documented as strings; Litestar's OpenTelemetry plugin when the container has a
    tracer provider."""
    tracer_provider = container.tracer_provider()
    if tracer_provider is None:
        return [DecimalSchemaPlugin()]
    from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

    config = OpenTelemetryConfig(
        tracer_provider=tracer_provider,
        exclude=UNTRACED,
        exclude_spans=["receive", "send"],
    )
    return [DecimalSchemaPlugin(), OpenTelemetryPlugin(config)]


def create_app(
    container: Container, *, start_agent: bool | None = None, started: bool = False
) -> Litestar:
    """Build the API. ``start_agent`` overrides ``agent.autostart`` for this process;
    ``started``: the container's start-up already ran (``ffe serve`` runs it before uvicorn)."""
    settings = container.settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        from ffe_entrypoints.logging import configure_logging

        configure_logging(settings)
        init_sentry(settings)
        if not started:
            await startup(container)
        try:  # a start-up that fails (e.g. the live gate refuses the autostart) closes too
            for channel in container.inbound().values():
                await channel.start()
            autostart = settings.agent.autostart if start_agent is None else start_agent
            if autostart:
                control = container.control()
                if container.lease() is not None and isinstance(control, StandsBy):
                    control.start_standby("startup", settings.agent.lease_ttl_seconds / 4)
                else:
                    await control.start_agent("startup")
            yield
        finally:
            await limits.aclose()
            await shutdown(container)

    def telegram_webhook() -> WebhookHandler | None:
        channel = container.inbound().get("telegram")
        return channel.webhook if isinstance(channel, InboundChannel) else None

    def agent_metrics() -> AgentMetricsSource | None:
        control = container.control() if container.agent_in_child() else None
        return control if isinstance(control, AgentMetricsSource) else None

    def provide(name: str) -> Provide:
        if name == "agent_metrics":
            return Provide(agent_metrics, sync_to_thread=False)
        if name == "telegram_webhook":
            return Provide(telegram_webhook, sync_to_thread=False)
        if name == "health_service":  # built lazily; the rate-limit store joins its report
            return Provide(lambda: _with_store_check(container, limits), sync_to_thread=False)
        provider = container.providers[name]
        return Provide(lambda: provider(), sync_to_thread=False)

    api_key = settings.api.api_key
    prom = prometheus_config()
    cors = (
        CORSConfig(
            allow_origins=list(settings.api.allowed_origins),
            allow_headers=["X-API-Key", "Content-Type"],
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        )
        if settings.api.allowed_origins
        else None
    )
    limits = rate_limit_store(settings)
    proxies = DefineMiddleware(
        TrustedProxyMiddleware, trusted=networks(settings.api.trusted_proxies)
    )
    dist = find_dist(settings.api.frontend_dist)
    guards = api_key_guards(api_key.get_secret_value() if api_key else None)
    return Litestar(
        route_handlers=[
            *PUBLIC_CONTROLLERS,
            swagger_assets_router(),
            Router(
                path="/",
                route_handlers=PROTECTED_CONTROLLERS,
                security=[{API_KEY_SCHEME: []}],
                guards=guards,
            ),
            *(dashboard_routes(dist) if dist else []),
        ],
        dependencies={key: provide(name) for key, name in DEPENDENCIES.items()},
        middleware=[
            proxies,
            prom.middleware,
            *rate_limit_middleware(settings.api.rate_limit_per_minute),
        ],
        request_class=DepthLimitedRequest,
        plugins=_plugins(container),
        cors_config=cors,
        stores=stores(limits),
        exception_handlers={
            FfeError: domain_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
        openapi_config=OpenAPIConfig(
            title="Finance Feedback Engine API",
            version=__version__,
            openapi_router=Router(
                path="/schema", route_handlers=[], guards=guards, include_in_schema=False
            ),
            render_plugins=[swagger_plugin()],
            components=Components(
                security_schemes={
                    API_KEY_SCHEME: SecurityScheme(
                        type="apiKey",
                        name=API_KEY_HEADER,
                        security_scheme_in="header",
                        description="Required when FINANCE_FEEDBACK_API_KEY is set",
                    )
                }
            ),
        ),
        lifespan=[lifespan],
        debug=False,
    )
