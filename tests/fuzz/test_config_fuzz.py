"""Fuzzing the config loader end to end: YAML files (raw bytes too) and environment variables.

Whatever arrives, ``load_settings`` returns validated settings or raises :class:`ConfigError`
whose message is one printable line naming the key (or the file and line for unreadable YAML).
The per-section fuzz in ``tests/unit/foundation/test_settings.py`` covers parsed YAML values;
this file adds raw file bytes, the environment tier and both tiers at once.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ffe_core.config import Settings
from ffe_core.domain.errors import ConfigError
from ffe_entrypoints.settings import SEED_ENV, load_settings

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECTIONS = sorted(Settings.model_fields)
KNOWN_KEYS = [
    "API__PORT",
    "API__HOST",
    "API__ALLOWED_ORIGINS",
    "API__RATE_LIMIT_PER_MINUTE",
    "RISK__MAX_DRAWDOWN",
    "RISK__SIZING",
    "TRADING__MODE",
    "TRADING__INITIAL_CASH",
    "TRADING__COMMISSION",
    "AGENT__INSTRUMENTS",
    "AGENT__INTERVAL_SECONDS",
    "TELEGRAM__ENABLED",
    "TELEGRAM__ALLOWED_CHAT_IDS",
    "TELEGRAM__BOT_TOKEN",
    "LEARNING__HORIZONS",
    "LEARNING__W_MIN",
    "MARKET_DATA__SOURCES",
    "MARKET_DATA__CACHE__BACKEND",
    "STORAGE__SCHEMA_NAME",
    "INSTRUMENTS",
    "ADAPTERS",
    "ADAPTERS__ANTHROPIC__API_KEY",
    "ADAPTERS__FILES",
    "ENVIRONMENT",
    "LOGGING",
    "NONSENSE__KEY",
    "",
    "__",
    "API____PORT",
]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
env_text = st.one_of(
    st.text(max_size=30),
    json_values.map(lambda v: json.dumps(v)),
    st.sampled_from(["[", "{", "[1,", "{nope", " ", "true", "-1", "1e400", "nan", "live", "USD"]),
)
env_names = st.one_of(
    st.sampled_from(KNOWN_KEYS).map(lambda k: "FFE_" + k),
    st.sampled_from(KNOWN_KEYS).map(lambda k: "ffe_" + k.lower()),
    st.sampled_from(sorted(SEED_ENV)),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ_", min_size=1, max_size=12).map(
        lambda s: "FFE_" + s
    ),
)
environments = st.dictionaries(env_names, env_text, max_size=5)
instrument_dicts = st.fixed_dictionaries(
    {
        "symbol": st.sampled_from(["X", "ZZ-USD", "bad symbol", ""]),
        "asset_class": st.sampled_from(["crypto", "forex", "moon"]),
        "base": st.text(max_size=3),
        "quote": st.just("USD"),
    },
    optional={
        "size_increment": st.sampled_from(["1", "1e-30", "0", "-1", "NaN", "Infinity", "1e400"]),
        "min_size": st.sampled_from(["0", "1e30", "3", "NaN", "Infinity", "-2"]),
        "price_increment": st.sampled_from(["0.01", "sNaN", "1E+999999"]),
    },
)


def check(directory: Path, environ: dict[str, str]) -> Settings | None:
    """Load; on ConfigError assert the message is one printable line naming a key or the file."""
    try:
        return load_settings(directory, environ=environ)
    except ConfigError as exc:
        message = str(exc)
        assert message.isprintable(), repr(message)  # one line, no control characters
        if message.startswith("invalid configuration: "):
            key = message.removeprefix("invalid configuration: ").split(": ", 1)[0]
            assert key, message
        else:
            assert str(directory) in message, message  # names the file
        return None


@FUZZ
@given(raw=st.binary(max_size=200))
@example(raw=b"api:\n  port: \xff\xfe\n")  # not UTF-8
@example(raw=b'"bad\\nkey": 1\n')  # a key with a newline in it
@example(raw=b"[" * 60)
@example(raw=b"a: &x [*x]\n")
def test_raw_config_file_bytes(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "config.yaml").write_bytes(raw)
        check(directory, {})


@FUZZ
@given(environ=environments)
@example(environ={"FFE_API__PORT": "1e400"})
@example(environ={"FFE_TELEGRAM__ALLOWED_CHAT_IDS": '[1, "x"]', "FFE_TELEGRAM__ENABLED": "true"})
@example(environ={"FFE_AGENT__INSTRUMENTS": '["A\\nB"]'})
def test_environment_only(environ: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        loaded = check(Path(tmp), environ)
    if loaded is not None and environ.get("FFE_API__PORT", "").strip().isdigit():
        assert loaded.api.port == int(environ["FFE_API__PORT"])


@FUZZ
@given(
    file_data=st.dictionaries(st.sampled_from([*SECTIONS, "bogus"]), json_values, max_size=3),
    local_data=st.dictionaries(st.sampled_from(SECTIONS), json_values, max_size=2),
    environ=environments,
)
def test_files_and_environment_together(
    file_data: dict[str, Any], local_data: dict[str, Any], environ: dict[str, str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "config.yaml").write_text(yaml.safe_dump(file_data))
        (directory / "config.local.yaml").write_text(yaml.safe_dump(local_data))
        check(directory, environ)


@FUZZ
@given(instruments=st.lists(instrument_dicts, min_size=1, max_size=2))
@example(
    instruments=[
        {
            "symbol": "X",
            "asset_class": "crypto",
            "base": "X",
            "quote": "USD",
            "size_increment": "1e-30",
            "min_size": "1e30",
        }
    ]
)
def test_instruments_with_extreme_decimals(instruments: list[dict[str, Any]]) -> None:
    environ = {"FFE_INSTRUMENTS": json.dumps(instruments), "FFE_AGENT__INSTRUMENTS": "[]"}
    with tempfile.TemporaryDirectory() as tmp:
        loaded = check(Path(tmp), environ)
    if loaded is not None:
        for inst in loaded.instruments:
            assert inst.size_increment > 0 and inst.min_size >= 0
            assert inst.size_increment.is_finite() and inst.min_size.is_finite()
