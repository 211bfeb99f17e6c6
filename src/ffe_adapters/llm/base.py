"""The machinery all language-model providers share.

An SDK package supplies only a :class:`Backend` (one structured-output call and the mapping of
its SDK's errors); :class:`LlmProvider` adds the per-attempt timeout, retries with backoff
honouring ``retry-after``, the outgoing rate limit, a circuit breaker whose state is visible,
one retry with the validation error fed back, token and cost accounting, metrics, the vote
cache and the knowledge cut-off warning. It never raises from :meth:`LlmProvider.vote`.

Upstream text is scrubbed of every known secret where it enters: each error the SDK raised (an
echoed key in a 401 body), each rejected answer, and each vote :meth:`LlmProvider.vote` returns.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from ffe_adapters.llm.config import LlmOptions, lookup_by_model
from ffe_adapters.llm.safety import LookaheadWarning, VoteCache, knowledge_cutoff_warning
from ffe_adapters.resilience import (
    RETRYABLE_STATUSES,
    TransientError,
    call_with_retry,
    parse_retry_after,
    per_minute_limiter,
)
from ffe_core.domain.context import DecisionContext, ReplayedBar
from ffe_core.domain.decisions import ProviderVote
from ffe_core.domain.errors import ProviderError, RateLimited
from ffe_core.domain.flight import ProviderSpec
from ffe_core.ports.clock import Clock, SystemClock
from ffe_core.ports.market_data import Cache
from ffe_core.ports.metrics import Metrics, NullMetrics
from ffe_core.ports.providers import CallEstimate, CallPlan, Signal
from ffe_core.prompt_keys import ReplayedKeys, prompt_key
from ffe_core.prompts import (
    PROMPT_VERSION,
    AnswerRejected,
    LlmAnswer,
    Prompt,
    answer_to_vote,
    feedback_prompt,
    parse_answer,
    prompt_hash,
    render_prompt,
)
from ffe_core.scrubbing import Scrub, SecretScrubber, scrub_vote
from ffe_core.services.circuit import CircuitBreaker, CircuitState

log = logging.getLogger(__name__)

FEEDBACK_RETRIES = 1
"""Rejected output is retried once with the problem fed back, then the provider abstains."""

CHARS_PER_TOKEN = 4
"""Rough prompt size in tokens for cost estimates (English text and numbers run ~4 chars/token)."""
ESTIMATED_ANSWER_TOKENS = 256
"""Expected answer length for cost estimates (``max_tokens`` when lower): a short JSON verdict."""


@dataclass(frozen=True)
class Completion:
    """What one structured-output call returned, before validation.

    ``output`` is the structured object (a dict from a tool call, or JSON text); ``refusal``
    is set when the model declined; ``truncated`` when it stopped at the token limit.
    """

    output: str | dict[str, Any] | None
    tokens_in: int = 0
    tokens_out: int = 0
    refusal: str | None = None
    truncated: bool = False
    stop_reason: str | None = None

    @property
    def raw_text(self) -> str:
        if self.output is None:
            return self.refusal or ""
        return self.output if isinstance(self.output, str) else json.dumps(self.output)


class Backend(Protocol):
    """The SDK-specific part of a provider."""

    async def complete(self, prompt: Prompt) -> Completion:
        """One call asking for the answer schema; SDK errors propagate unchanged."""
        ...

    def translate_error(self, exc: Exception) -> Exception:
        """Map an SDK error to TransientError (retry), ProviderError (give up) or
        AnswerRejected (unreadable response: counts as bad output)."""
        ...

    async def close(self) -> None: ...


class _OutputRejected(Exception):
    """The model's output stayed unacceptable after the feedback retry."""


MAX_RAW_ANSWER = 8000
"""Characters of the model's raw answer kept on the vote (for the flight recorder)."""


@dataclass
class _Usage:
    tokens_in: int = 0
    tokens_out: int = 0
    raw_answer: str | None = None
    """The last answer the model gave (scrubbed), accepted or not."""

    def add(self, completion: Completion) -> None:
        self.tokens_in += completion.tokens_in
        self.tokens_out += completion.tokens_out


def check_completion(completion: Completion, last_price: float) -> LlmAnswer:
    """Validate a completion into an answer, or raise AnswerRejected saying what was wrong."""
    if completion.refusal is not None:
        raise AnswerRejected(f"the model refused: {completion.refusal[:300]}")
    if completion.output is None:
        raise AnswerRejected(f"no structured output (stop reason {completion.stop_reason})")
    try:
        return parse_answer(completion.output, last_price)
    except AnswerRejected as exc:
        if completion.truncated:
            raise AnswerRejected(f"output cut off at the token limit: {exc}") from None
        raise


class LlmProvider:
    """A DecisionProvider backed by a language model through ``backend``."""

    def __init__(
        self,
        name: str,
        options: LlmOptions,
        backend: Backend,
        *,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
        cache: Cache | None = None,
        scrub: Scrub | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self.backend = backend
        self._scrub: Scrub = scrub or SecretScrubber(options.secret_values())
        self._metrics = metrics or NullMetrics()
        self.circuit = CircuitBreaker(
            name,
            clock or SystemClock(),
            failure_threshold=options.circuit_failure_threshold,
            reset_seconds=options.circuit_reset_seconds,
            on_change=self._circuit_changed,
        )
        self._metrics.circuit_state(name, CircuitState.CLOSED.value)
        self._limiter = (
            per_minute_limiter(options.requests_per_minute) if options.requests_per_minute else None
        )
        self._votes = (
            VoteCache(cache, options.cache_ttl_seconds)
            if cache is not None and options.cache_votes
            else None
        )
        self._warned_lookahead = False
        cutoff = lookup_by_model(options.knowledge_cutoffs, self.model)
        self._lookahead_until = (
            float("-inf")
            if cutoff is None
            else datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC).timestamp() + 86400.0
        )
        """Decision times (seconds since 1970) before this may fall on or before the model's
        knowledge cut-off; -inf once warned."""
        self._replayed: ReplayedKeys | None = None
        """The keys of the series last replayed (see :meth:`cached_signal_at`)."""
        self.stats: dict[str, float] = {
            "calls": 0,
            "abstentions": 0,
            "cache_hits": 0,
            "tokens_in": 0,
            "tokens_out": 0,
            "cost_usd": 0.0,
        }

    @property
    def model(self) -> str:
        return self.options.model

    def health(self) -> dict[str, object]:
        """A snapshot for ``/health``: circuit state, last error and running totals."""
        return {"provider": self.name, "model": self.model, **self.circuit.snapshot(), **self.stats}

    async def close(self) -> None:
        await self.backend.close()

    def call_plan(self, context: DecisionContext) -> CallPlan:
        """Model, parameters, prices and the rendered prompt for ``context`` (no call made)."""
        prompt = render_prompt(context, max_bars=self.options.max_bars)
        price = self.options.price()
        parameters: dict[str, object] = {
            "max_tokens": self.options.max_tokens,
            "temperature": self.options.temperature,
            "max_bars": self.options.max_bars,
            "timeout_seconds": self.options.timeout_seconds,
            "max_retries": self.options.max_retries,
        }
        spec = ProviderSpec(
            provider=self.name,
            model=self.model,
            parameters=parameters,
            prompt_version=PROMPT_VERSION,
            prompt_hash=prompt_hash(prompt),
            input_usd_per_mtok=price.input_per_mtok,
            output_usd_per_mtok=price.output_per_mtok,
        )
        return CallPlan(spec, f"{prompt.system}\n\n{prompt.user}")

    def knowledge_cutoff(self) -> date | None:
        """The configured (or default) training cut-off of this provider's model."""
        return self.options.knowledge_cutoff()

    def estimate_call(self, context: DecisionContext) -> CallEstimate:
        """Tokens and dollars one uncached call on ``context`` is expected to use."""
        prompt = render_prompt(context, max_bars=self.options.max_bars)
        tokens_in = (len(prompt.system) + len(prompt.user)) // CHARS_PER_TOKEN + 1
        tokens_out = min(self.options.max_tokens, ESTIMATED_ANSWER_TOKENS)
        return CallEstimate(tokens_in, tokens_out, self.options.cost_usd(tokens_in, tokens_out))

    async def cached_vote(self, context: DecisionContext) -> ProviderVote | None:
        """The vote the cache holds for this context's prompt, or None (no call is made)."""
        started = time.perf_counter()
        return await self._from_cache(self._key(context), started)

    async def cached_signal_at(self, bar: ReplayedBar) -> Signal | None:
        """The signal of the vote :meth:`vote` answers from the cache for the context a replay
        builds from ``bar`` (keyed by :func:`~ffe_core.prompt_keys.replayed_prompt_key`, equal
        to :meth:`_key` of that context), counted and timed as a cached vote; None on a miss
        (no call is made)."""
        votes = self._votes
        if votes is None:
            return None
        started = time.perf_counter()
        vote = await votes.get(self.name, self.model, self._replayed_key(bar))
        if vote is None:
            return None
        return self._counted(Signal(vote.action, vote.confidence, vote.abstained), started)

    def cached_now(self) -> bool:
        """Whether the vote cache is held in this process (:meth:`cached_signal_now` reads it)."""
        return self._votes is not None and self._votes.reads_now

    def cached_signal_now(self, bar: ReplayedBar) -> Signal | None:
        """:meth:`cached_signal_at` without awaiting, when :meth:`cached_now`."""
        votes = self._votes
        if votes is None:
            return None
        started = time.perf_counter()
        signal = votes.signal_now(self.name, self.model, self._replayed_key(bar))
        return None if signal is None else self._counted(signal, started)

    def _replayed_key(self, bar: ReplayedBar) -> str:
        """The vote cache's key of ``bar``, after the look-ahead check of its time."""
        keys, at = self._replayed, bar.at
        if (
            keys is None
            or keys.series is not at.series
            or keys.with_indicators != bar.with_indicators
        ):
            keys = ReplayedKeys.of(at.series, self.options.max_bars, bar.with_indicators)
            self._replayed = keys
        if keys.times[at.index] < self._lookahead_until:
            self._check_lookahead_at(keys.times[at.index])
        return keys.key(bar)

    def _counted(self, signal: Signal, started: float) -> Signal:
        """A cached vote's signal, counted as :meth:`vote` counts a cached vote."""
        # Scrubbing changes text only: the action, confidence and abstention stay as stored.
        self._count("cached", time.perf_counter() - started, signal.abstained, 0, 0, 0.0)
        return signal

    def _key(self, context: DecisionContext) -> str:
        """The vote cache's key for ``context``: :func:`prompt_key`, so no prompt is rendered."""
        return prompt_key(context, max_bars=self.options.max_bars)

    async def _from_cache(self, key: str, started: float) -> ProviderVote | None:
        if self._votes is None:
            return None
        found = await self._votes.get_stored(self.name, self.model, key)
        if found is None:
            return None
        cached, raw = found
        # Scrubbed before it was stored; scrubbed again unless no secret known now is in it.
        clean = isinstance(self._scrub, SecretScrubber) and not self._scrub.may_change_json(raw)
        free = {"tokens_in": 0, "tokens_out": 0, "cost_usd": 0.0}
        return self._finish(cached, "cached", started, update=free, scrubbed=clean)

    async def vote(self, context: DecisionContext) -> ProviderVote:
        started = time.perf_counter()
        self._check_lookahead(context)
        key = self._key(context)
        cached = await self._from_cache(key, started)
        if cached is not None:
            return cached
        prompt = render_prompt(context, max_bars=self.options.max_bars)  # rendered on a miss only
        if not self.circuit.allow():
            reason = f"circuit open after repeated failures: {self.circuit.last_error}"
            return self._finish(self._abstain(reason), "circuit_open", started)
        usage = _Usage()
        outcome = "ok"
        try:
            answer = await self._ask(prompt, context.last_price, usage)
        except _OutputRejected as exc:
            self.circuit.record_success()  # the service answered; the model misbehaved
            vote, outcome = self._abstain(f"invalid output after retry: {exc}", usage), "invalid"
        except (TransientError, RateLimited, ProviderError) as exc:
            self.circuit.record_failure(self._scrub(str(exc)))
            vote, outcome = self._abstain(str(exc), usage), "error"
        except Exception as exc:  # an adapter bug must not break the ensemble
            log.exception("provider %s failed unexpectedly", self.name)
            self.circuit.record_failure(self._scrub(repr(exc)))
            vote, outcome = self._abstain(f"unexpected error: {exc!r}", usage), "error"
        else:
            self.circuit.record_success()
            vote = answer_to_vote(
                answer, provider=self.name, model=self.model, **self._accounting(usage)
            )
        vote = self._finish(vote, outcome, started)
        if outcome == "ok" and self._votes is not None:
            await self._votes.put(vote, self.model, key)
        return vote

    async def _ask(self, prompt: Prompt, last_price: float, usage: _Usage) -> LlmAnswer:
        current, problem = prompt, ""
        for attempt in range(FEEDBACK_RETRIES + 1):
            raw = ""
            try:
                completion = await call_with_retry(
                    functools.partial(self._attempt, current),
                    attempts=self.options.max_retries + 1,
                    max_wait=self.options.max_retry_wait_seconds,
                    limiter=self._limiter,
                )
            except AnswerRejected as exc:  # the response itself was unreadable
                problem = str(exc)
            else:
                usage.add(completion)
                raw = self._scrub(completion.raw_text)
                usage.raw_answer = raw[:MAX_RAW_ANSWER]
                try:
                    return check_completion(completion, last_price)
                except AnswerRejected as exc:
                    problem = self._scrub(str(exc))
            log.info("provider %s output rejected (try %d): %s", self.name, attempt + 1, problem)
            if attempt < FEEDBACK_RETRIES:
                current = feedback_prompt(prompt, raw, problem)
        raise _OutputRejected(problem)

    async def _attempt(self, prompt: Prompt) -> Completion:
        """One call under the per-attempt timeout, with SDK errors translated and scrubbed."""
        try:
            async with asyncio.timeout(self.options.timeout_seconds):
                return await self.backend.complete(prompt)
        except TimeoutError:
            raise TransientError(f"timed out after {self.options.timeout_seconds:g}s") from None
        except (TransientError, ProviderError, RateLimited, AnswerRejected) as exc:
            self._scrubbed(exc)
            raise
        except Exception as exc:
            raise self._scrubbed(self.backend.translate_error(exc)) from exc

    def _scrubbed(self, exc: Exception) -> Exception:
        """``exc`` with its message scrubbed (type and attributes such as retry-after kept)."""
        exc.args = tuple(self._scrub(a) if isinstance(a, str) else a for a in exc.args)
        return exc

    def _accounting(self, usage: _Usage) -> dict[str, Any]:
        return {
            "tokens_in": usage.tokens_in,
            "tokens_out": usage.tokens_out,
            "cost_usd": self.options.cost_usd(usage.tokens_in, usage.tokens_out),
            "raw_answer": usage.raw_answer,
        }

    def _abstain(self, reason: str, usage: _Usage | None = None) -> ProviderVote:
        return ProviderVote.abstain(  # scrubbed before it is cut to length
            self.name, self._scrub(reason), model=self.model, **self._accounting(usage or _Usage())
        )

    def _finish(
        self,
        vote: ProviderVote,
        outcome: str,
        started: float,
        *,
        update: dict[str, Any] | None = None,
        scrubbed: bool = False,
    ) -> ProviderVote:
        """Every vote leaves through here: scrubbed (unless known ``scrubbed``), given
        ``update``, timed and counted."""
        if not scrubbed:
            vote = scrub_vote(vote, self._scrub)
        elapsed = time.perf_counter() - started
        vote = vote.model_copy(update={**(update or {}), "latency_ms": elapsed * 1000.0})
        self._count(
            outcome, elapsed, vote.abstained, vote.tokens_in, vote.tokens_out, vote.cost_usd
        )
        return vote

    def _count(
        self,
        outcome: str,
        elapsed: float,
        abstained: bool,
        tokens_in: int,
        tokens_out: int,
        cost_usd: float,
    ) -> None:
        stats = self.stats
        stats["calls"] += 1
        stats["abstentions"] += int(abstained)
        stats["cache_hits"] += int(outcome == "cached")
        stats["tokens_in"] += tokens_in
        stats["tokens_out"] += tokens_out
        stats["cost_usd"] += cost_usd
        self._metrics.provider_called(self.name, outcome, elapsed, cost_usd)

    def _check_lookahead(self, context: DecisionContext) -> None:
        if self._warned_lookahead:
            return
        message = knowledge_cutoff_warning(
            self.model, context.as_of, self.options.knowledge_cutoffs
        )
        if message is not None:
            self._warn_lookahead(message)

    def _check_lookahead_at(self, timestamp: float) -> None:
        """:meth:`_check_lookahead` for a decision at ``timestamp`` (seconds since 1970, UTC);
        a datetime is made only for a time on or before the model's cut-off (the caller
        compares the time with ``_lookahead_until`` first)."""
        as_of = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=timestamp)
        message = knowledge_cutoff_warning(self.model, as_of, self.options.knowledge_cutoffs)
        if message is not None:
            self._warn_lookahead(message)

    def _warn_lookahead(self, message: str) -> None:
        """Warn once (log and ``LookaheadWarning``) that a decision falls before the cut-off."""
        self._warned_lookahead = True
        self._lookahead_until = float("-inf")
        log.warning("%s: %s", self.name, message)
        warnings.warn(LookaheadWarning(f"{self.name}: {message}"), stacklevel=4)

    def _circuit_changed(self, name: str, state: CircuitState) -> None:
        self._metrics.circuit_state(name, state.value)


TRANSIENT_ERROR_KINDS = frozenset(
    {"overloaded_error", "api_error", "rate_limit_error", "server_error", "INTERNAL", "UNAVAILABLE"}
)
"""Error types/statuses a vendor uses for a failure on its side (Anthropic, OpenAI, Google)."""


def error_in_body(body: Any) -> Exception | None:
    """The upstream error an HTTP 2xx body carries instead of an answer, or None.

    Every vendor documents such bodies inside 200 streams (and proxies send them unstreamed):
    Anthropic ``{"type": "error", "error": {"type", "message"}}``, OpenAI ``{"error": {"message",
    "type", "code"}}``, Google ``{"error": {"code", "message", "status"}}``, Ollama ``{"error":
    "text"}``. A server-side kind (or a retryable code) is a TransientError, anything else a
    ProviderError; either way the vendor's message is kept and the body is not fed back to the
    model as if it were its answer.
    """
    if not isinstance(body, dict) or not body.get("error"):
        return None
    error = body["error"]
    if not isinstance(error, dict):
        return ProviderError(f"error in an HTTP 200 body: {error}")
    kind = error.get("type") or error.get("status")
    code = error.get("code")
    message = f"error in an HTTP 200 body: {kind or code}: {error.get('message') or error}"
    if kind in TRANSIENT_ERROR_KINDS or code in RETRYABLE_STATUSES:
        return TransientError(message)
    return ProviderError(message)


def raise_error_in_body(body: Any) -> None:
    """Raise :func:`error_in_body`'s error if ``body`` is one."""
    error = error_in_body(body)
    if error is not None:
        raise error


async def check_body_for_error(response: Any) -> None:
    """An httpx response hook raising the error a 2xx JSON body carries (for SDKs that would
    otherwise read it as an empty answer: google-genai, ollama)."""
    if not 200 <= response.status_code < 300:
        return
    if "json" not in response.headers.get("content-type", ""):
        return
    await response.aread()
    try:
        body = json.loads(response.content)
    except ValueError:
        return  # an unreadable body is the SDK's to report
    raise_error_in_body(body)


def translate_sdk_error(
    sdk: Any, exc: Exception, *, detail: str | None = None, retryable: frozenset[int] = frozenset()
) -> Exception:
    """Map an error of the Stainless-generated SDKs (``anthropic``, ``openai``) to ours.

    429/5xx (and ``retryable``) become TransientError with the server's Retry-After; 401/403 an
    authentication ProviderError; an unreadable body AnswerRejected (fed back once).
    """
    if isinstance(exc, sdk.APIStatusError):
        status = exc.status_code
        message = detail or exc.message
        if status in RETRYABLE_STATUSES or status in retryable:
            return TransientError(
                f"HTTP {status}: {message}", parse_retry_after(exc.response.headers)
            )
        if status in (401, 403):
            return ProviderError(f"authentication failed (HTTP {status}): {message}")
        return ProviderError(f"HTTP {status}: {message}")
    if isinstance(exc, sdk.APIResponseValidationError):
        return AnswerRejected(f"unreadable response: {exc.message}")
    if isinstance(exc, sdk.APITimeoutError):
        return TransientError("request timed out")
    if isinstance(exc, sdk.APIConnectionError):
        return TransientError(f"connection failed: {exc.message}")
    if isinstance(exc, ValueError):  # a body that is not JSON
        return AnswerRejected(f"unreadable response: {exc}")
    return ProviderError(f"{type(exc).__name__}: {exc}")


def with_configured_prices(ctx: Any) -> dict[str, Any]:
    """The adapter's options with ``costs.prices`` (``ctx.core.model_prices``) beneath its own
    ``prices`` (which win); both override the package defaults."""
    options = dict(ctx.options)
    configured = {m: p.model_dump() for m, p in ctx.core.model_prices.items()}
    if configured:
        options["prices"] = {**configured, **dict(options.get("prices") or {})}
    return options


def make_provider(
    ctx: Any, options_type: type[LlmOptions], backend_type: Callable[[Any], Backend]
) -> LlmProvider:
    """The factory every LLM plugin uses: options from ``ctx.options`` (a bad one is a
    ConfigError naming its key, and so is a missing API key), client made on first use."""
    options = replace(ctx, options=with_configured_prices(ctx)).parse_options(options_type)
    options.require_key(ctx.name)
    ctx.scrubber.add(options.secret_values())  # logs and stored decisions mask them too
    return LlmProvider(
        ctx.name,
        options,
        backend_type(options),
        clock=ctx.clock,
        metrics=ctx.metrics,
        cache=ctx.cache,
        scrub=ctx.scrubber,
    )
