"""Tiered configuration: config.yaml < config.local.yaml < environment, validated at start-up.

Environment variables: ``FFE_<SECTION>__<KEY>`` (nested keys joined by ``__``, case-insensitive),
plus the deployment names of the seed (``LOGGING_LEVEL``, ``FINANCE_FEEDBACK_API_KEY`` ...).
A value starting with ``[`` or ``{`` is read as JSON; ``ALLOWED_ORIGINS`` is comma-separated;
an empty variable counts as unset.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ffe_core.config import Settings
from ffe_core.domain.errors import ConfigError

ENV_PREFIX = "FFE_"
SEED_ENV: dict[str, tuple[str, ...]] = {
    "LOGGING_LEVEL": ("logging", "level"),
    "MONITORING_ENABLED": ("monitoring", "enabled"),
    "OLLAMA_HOST": ("adapters", "ollama", "host"),
    "FINANCE_FEEDBACK_API_KEY": ("api", "api_key"),
    "ENVIRONMENT": ("environment",),
    "ALLOWED_ORIGINS": ("api", "allowed_origins"),
    "SENTRY_DSN": ("monitoring", "sentry_dsn"),
}
CONFIG_FILES = ("config.yaml", "config.local.yaml")


def default_config_dir() -> Path:
    return Path(os.environ.get("FFE_CONFIG_DIR", "config"))


def deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` wins; nested mappings merge key by key."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def _set_path(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = target
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value


def _env_value(raw: str) -> Any:
    """A list or mapping written as JSON or as YAML flow (``[trend, breakout]``, the README's
    form), else the string as it is."""
    stripped = raw.strip()
    if stripped[:1] in "[{":
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            pass
        try:
            parsed = yaml.safe_load(stripped)
        except yaml.YAMLError:
            return raw
        return parsed if isinstance(parsed, (list, dict)) else raw
    return raw


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """The nested settings dict described by environment variables."""
    out: dict[str, Any] = {}
    for name, path in SEED_ENV.items():
        if environ.get(name, "").strip():
            raw = environ[name]
            value: Any = (
                [o.strip() for o in raw.split(",") if o.strip()]
                if (name == "ALLOWED_ORIGINS")
                else raw
            )
            _set_path(out, path, value)
    for name, raw in environ.items():
        if not name.upper().startswith(ENV_PREFIX) or name.upper() in (
            "FFE_CONFIG_DIR",
            "FFE_HOME",
        ):
            continue
        if not raw.strip():  # an empty variable means "not set", as in compose files
            continue
        parts = tuple(p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p)
        if parts:
            _set_path(out, parts, _env_value(raw))
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = exc.problem_mark if isinstance(exc, yaml.MarkedYAMLError) else None
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    return data


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped, so it stays one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the first offending key and why (and how many more there are)."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return one_line(f"{key}: {message}{more}")


def load_settings(
    config_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read, merge and validate all tiers; raises ConfigError with a one-line reason."""
    directory = config_dir if config_dir is not None else default_config_dir()
    merged: dict[str, Any] = {}
    for filename in CONFIG_FILES:
        path = directory / filename
        if path.is_file():
            merged = deep_merge(merged, _read_yaml(path))
    merged = deep_merge(merged, env_overrides(os.environ if environ is None else environ))
    if overrides:
        merged = deep_merge(merged, overrides)
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration: {describe_validation_error(exc)}") from None


def masked_dump(settings: Settings) -> dict[str, Any]:
    """Settings as plain data with every secret replaced by ``'**********'``.

    Secrets are options whose name says so (``api_key``, ``bot_token`` ...) and the password of
    any ``scheme://user:password@host`` URL (``storage.url``, ``adapters.redis.url``).
    """
    from ffe_core.config import is_secret_key, mask_url_passwords

    def mask(node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            return {k: mask(v, k) for k, v in node.items()}
        if isinstance(node, list | tuple):
            return [mask(v, key) for v in node]
        if node is not None and key and is_secret_key(key):
            return "**********"
        if isinstance(node, str):
            return mask_url_passwords(node)
        return node

    dumped = settings.model_dump(mode="json")
    return dict(mask(dumped))
