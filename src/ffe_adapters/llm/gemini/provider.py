"""Gemini votes through ``generateContent`` with ``response_mime_type=application/json`` and
the answer's JSON schema; the text is validated by the shared machinery.
"""

from __future__ import annotations

from typing import Any

import httpx
from google import genai
from google.genai import errors, types

from ffe_adapters.hookspecs import AdapterContext
from ffe_adapters.llm.base import Completion, LlmProvider, check_body_for_error, make_provider
from ffe_adapters.llm.gemini.config import GeminiOptions
from ffe_adapters.resilience import RETRYABLE_STATUSES, TransientError, parse_retry_after
from ffe_core.domain.errors import ProviderError
from ffe_core.prompts import ANSWER_JSON_SCHEMA, AnswerRejected, Prompt

BLOCKED = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE", "OTHER"}
)
"""Finish reasons that mean the model (or its filters) declined to answer."""


def _transport_errors() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [httpx.TransportError]
    try:  # the SDK's own transport; which one it uses depends on its version
        import httpx2

        found.append(httpx2.TransportError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(found)


TRANSPORT_ERRORS = _transport_errors()


def retry_delay(details: Any) -> float | None:
    """Seconds from a ``google.rpc.RetryInfo`` detail (``"retryDelay": "1.5s"``), if any."""
    error = details.get("error", details) if isinstance(details, dict) else None
    for item in (error or {}).get("details") or []:
        delay = item.get("retryDelay") if isinstance(item, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return max(0.0, float(delay[:-1]))
            except ValueError:
                return None
    return None


def _name(value: object) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


class GeminiBackend:
    """One ``models.generate_content`` call asking for the answer schema."""

    def __init__(self, options: GeminiOptions) -> None:
        self.options = options
        self._client: genai.Client | None = None

    def client(self) -> genai.Client:
        if self._client is None:
            key = self.options.api_key
            self._client = genai.Client(
                api_key=key.get_secret_value() if key else None,
                http_options=types.HttpOptions(
                    base_url=self.options.base_url,
                    api_version=self.options.api_version,
                    timeout=int((self.options.timeout_seconds + 1.0) * 1000),
                    retry_options=types.HttpRetryOptions(attempts=1),  # LlmProvider retries
                    # an error inside a 200 body (httpx/httpx2; google-genai drops the hook
                    # when it uses aiohttp, which ffe does not install)
                    async_client_args={"event_hooks": {"response": [check_body_for_error]}},
                ),
            )
        return self._client

    async def complete(self, prompt: Prompt) -> Completion:
        config = types.GenerateContentConfig(
            system_instruction=prompt.system,
            response_mime_type="application/json",
            response_json_schema=ANSWER_JSON_SCHEMA,
            max_output_tokens=self.options.max_tokens,
            temperature=self.options.temperature,
        )
        response = await self.client().aio.models.generate_content(
            model=self.options.model, contents=prompt.user, config=config
        )
        usage = response.usage_metadata
        tokens_in = (usage.prompt_token_count or 0) if usage else 0
        tokens_out = (usage.candidates_token_count or 0) if usage else 0
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            blocked = f"prompt blocked: {_name(feedback.block_reason)}"
            return Completion(None, tokens_in, tokens_out, refusal=blocked)
        if not response.candidates:
            return Completion(None, tokens_in, tokens_out, stop_reason="no candidates")
        candidate = response.candidates[0]
        finish = _name(candidate.finish_reason)
        parts = candidate.content.parts if candidate.content and candidate.content.parts else []
        text = "".join(part.text for part in parts if part.text and not part.thought) or None
        refusal: str | None = None
        if finish in BLOCKED:
            refusal = candidate.finish_message or f"finish_reason={finish}"
        return Completion(
            output=text,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            refusal=refusal,
            truncated=finish == "MAX_TOKENS",
            stop_reason=finish,
        )

    def translate_error(self, exc: Exception) -> Exception:
        if isinstance(exc, errors.APIError):
            status = exc.code
            detail = exc.message or exc.status or ""
            if status in RETRYABLE_STATUSES:
                headers: Any = getattr(exc.response, "headers", None) or {}
                wait = parse_retry_after(headers)
                if wait is None:
                    wait = retry_delay(exc.details)
                return TransientError(f"HTTP {status}: {detail}", wait)
            if status in (401, 403):
                return ProviderError(f"authentication failed (HTTP {status}): {detail}")
            return ProviderError(f"HTTP {status}: {detail}")
        if isinstance(exc, TRANSPORT_ERRORS):
            return TransientError(f"transport error: {type(exc).__name__}: {exc}")
        if isinstance(exc, ValueError):  # a body that is not JSON, or a missing key
            return AnswerRejected(f"unreadable response: {exc}")
        return ProviderError(f"{type(exc).__name__}: {exc}")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aio.aclose()


def create_provider(ctx: AdapterContext) -> LlmProvider:
    """Factory: options from ``ctx.options``; the SDK client is made on first use."""
    return make_provider(ctx, GeminiOptions, GeminiBackend)
