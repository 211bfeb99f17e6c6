"""Ollama votes through ``/api/chat`` with ``format`` set to the answer's JSON schema.

Ollama's SDK does not retry; its ``ResponseError`` keeps the HTTP response only as the
suppressed ``__context__``, which is where ``retry-after`` is read from.
"""

from __future__ import annotations

from typing import Any

import httpx
import ollama

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.llm.base import Completion, LlmProvider, check_body_for_error, make_provider
from ffe_adapters.llm.ollama.config import OllamaOptions
from ffe_adapters.resilience import RETRYABLE_STATUSES, TransientError, parse_retry_after
from ffe_core.domain.errors import ProviderError
from ffe_core.prompts import ANSWER_JSON_SCHEMA, AnswerRejected, Prompt


def _retry_after(exc: ollama.ResponseError) -> float | None:
    original = exc.__context__
    if isinstance(original, httpx.HTTPStatusError):
        return parse_retry_after(original.response.headers)
    return None


class OllamaBackend:
    """One non-streaming chat call asking for the answer schema."""

    def __init__(self, options: OllamaOptions) -> None:
        self.options = options
        self.host = options.resolved_host()
        self._client: ollama.AsyncClient | None = None

    def client(self) -> ollama.AsyncClient:
        if self._client is None:
            headers = {}
            if self.options.api_key is not None:  # a proxy or ollama.com in front of it
                headers["Authorization"] = f"Bearer {self.options.api_key.get_secret_value()}"
            self._client = ollama.AsyncClient(
                host=self.host,
                timeout=self.options.timeout_seconds + 1.0,
                headers=headers,
                event_hooks={"response": [check_body_for_error]},
            )
        return self._client

    async def complete(self, prompt: Prompt) -> Completion:
        model_options: dict[str, Any] = {"num_predict": self.options.max_tokens}
        if self.options.temperature is not None:
            model_options["temperature"] = self.options.temperature
        response = await self.client().chat(
            model=self.options.model,
            messages=[
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user},
            ],
            format=ANSWER_JSON_SCHEMA,
            options=model_options,
            keep_alive=self.options.keep_alive,
            stream=False,
        )
        return Completion(
            output=response.message.content or None,
            tokens_in=response.prompt_eval_count or 0,
            tokens_out=response.eval_count or 0,
            truncated=response.done_reason == "length",
            stop_reason=response.done_reason,
        )

    def translate_error(self, exc: Exception) -> Exception:
        if isinstance(exc, ollama.ResponseError):
            status = exc.status_code
            if status in RETRYABLE_STATUSES:
                return TransientError(f"HTTP {status}: {exc.error}", _retry_after(exc))
            if status in (401, 403):
                return ProviderError(f"authentication failed (HTTP {status}): {exc.error}")
            return ProviderError(f"HTTP {status}: {exc.error}")
        if isinstance(exc, ConnectionError | httpx.TransportError):
            return TransientError(f"cannot reach Ollama at {self.host}: {exc}")
        if isinstance(exc, ValueError):  # a body that is not JSON
            return AnswerRejected(f"unreadable response: {exc}")
        return ProviderError(f"{type(exc).__name__}: {exc}")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()  # type: ignore[no-untyped-call]


def create_provider(ctx: AdapterContext) -> LlmProvider:
    """Factory: options from ``ctx.options``; the SDK client is made on first use."""
    return make_provider(ctx, OllamaOptions, OllamaBackend)
