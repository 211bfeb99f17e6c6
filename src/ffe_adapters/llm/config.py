"""Options every language-model adapter shares; each SDK package subclasses them with defaults."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from ffe_core.config import url_passwords
from ffe_core.domain.errors import ConfigError

V = TypeVar("V")


class ModelPrice(BaseModel):
    """US dollars per million tokens, as the provider's price list states them."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    input_per_mtok: float = Field(default=0.0, ge=0)
    output_per_mtok: float = Field(default=0.0, ge=0)


def lookup_by_model(table: Mapping[str, V], model: str) -> V | None:
    """The entry for ``model``, else for the longest key it starts with (dated snapshots)."""
    if model in table:
        return table[model]
    prefixes = [key for key in table if model.startswith(key)]
    return table[max(prefixes, key=len)] if prefixes else None


class LlmOptions(BaseModel):
    """``settings.adapters.<name>`` for a language-model provider.

    Prices and knowledge cut-offs are keyed by model name (a key also matches dated variants
    that start with it); the defaults of each SDK package are estimates to override in config.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    model: str = Field(min_length=1)
    api_key: SecretStr | None = None  # None: the SDK's own environment variable is used
    base_url: str | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_tokens: int = Field(default=1024, ge=16)
    temperature: float | None = Field(default=None, ge=0, le=2)
    requests_per_minute: float | None = Field(default=50.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=10)
    max_retry_wait_seconds: float = Field(default=30.0, ge=0)
    circuit_failure_threshold: int = Field(default=5, ge=1)
    circuit_reset_seconds: float = Field(default=60.0, gt=0)
    max_bars: int = Field(default=30, ge=1, le=500)
    cache_votes: bool = True
    cache_ttl_seconds: float = Field(default=90 * 86400.0, gt=0)
    prices: dict[str, ModelPrice] = Field(default_factory=dict)
    knowledge_cutoffs: dict[str, date] = Field(default_factory=dict)

    DEFAULT_PRICES: ClassVar[Mapping[str, Mapping[str, float]]] = {}
    DEFAULT_CUTOFFS: ClassVar[Mapping[str, str]] = {}
    KEY_ENV_VARS: ClassVar[tuple[str, ...]] = ()
    """Environment variables the SDK reads a key from when ``api_key`` is not set."""
    KEY_REQUIRED: ClassVar[bool] = True
    """A hosted API answers nothing without a key; a local server (Ollama) may need none."""

    @model_validator(mode="before")
    @classmethod
    def _merge_default_tables(cls, data: Any) -> Any:
        """Configured prices and cut-offs extend (and override) the package defaults."""
        if not isinstance(data, Mapping):
            return data
        merged = dict(data)
        merged["prices"] = {**cls.DEFAULT_PRICES, **dict(data.get("prices") or {})}
        merged["knowledge_cutoffs"] = {
            **cls.DEFAULT_CUTOFFS,
            **dict(data.get("knowledge_cutoffs") or {}),
        }
        return merged

    def secret_values(self) -> Iterator[str]:
        """What the client may authenticate with (the key, its SDK's variables, URL passwords):
        the values an upstream could echo back, to be scrubbed from what it returns."""
        if self.api_key is not None:
            yield self.api_key.get_secret_value()
        for var in self.KEY_ENV_VARS:
            if os.environ.get(var):
                yield os.environ[var]
        yield from url_passwords(self.base_url or "")

    def require_key(self, name: str) -> None:
        """ConfigError naming the key when a provider that needs one has none (the SDK would
        only fail at the first vote, every vote abstaining)."""
        if not self.KEY_REQUIRED:
            return
        if self.api_key is not None and self.api_key.get_secret_value().strip():
            return
        if any(os.environ.get(var, "").strip() for var in self.KEY_ENV_VARS):
            return
        where = " or ".join((f"FFE_ADAPTERS__{name.upper()}__API_KEY", *self.KEY_ENV_VARS))
        raise ConfigError(f"adapters.{name}.api_key is not set ({where}): {name} cannot vote")

    def price(self) -> ModelPrice:
        return lookup_by_model(self.prices, self.model) or ModelPrice()

    def cost_usd(self, tokens_in: int, tokens_out: int) -> float:
        """Estimated cost of a call from the price table (0 for an unknown model)."""
        price = self.price()
        return (tokens_in * price.input_per_mtok + tokens_out * price.output_per_mtok) / 1e6

    def knowledge_cutoff(self) -> date | None:
        return lookup_by_model(self.knowledge_cutoffs, self.model)
