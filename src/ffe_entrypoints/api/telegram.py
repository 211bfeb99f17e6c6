"""The Telegram webhook: authenticated by Telegram's secret-token header, not by the API key."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency

from ffe_entrypoints.api.auth import PUBLIC_OPT
from ffe_entrypoints.api.errors import error_responses


class TelegramController(Controller):
    path = "/webhook"
    tags = ["telegram"]
    opt = {PUBLIC_OPT: True}

    @post(
        "/telegram",
        summary="Telegram Bot API updates (callback buttons, commands)",
        responses=error_responses(404, protected=False),
    )
    async def webhook(
        self,
        request: Request[Any, Any, Any],
        telegram_webhook: NamedDependency[Any],
    ) -> Response[dict[str, Any]]:
        if telegram_webhook is None:
            return Response(
                {"status_code": 404, "detail": "telegram is not enabled"}, status_code=404
            )
        status, body = await telegram_webhook.handle(dict(request.headers), await request.body())
        return Response(body, status_code=status)
