"""Tiered configuration: files < local file < environment; bad values fail fast naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ffe_core.domain.errors import ConfigError
from ffe_entrypoints.settings import env_overrides, load_settings, masked_dump


def write(path: Path, data: object) -> None:
    path.write_text(yaml.safe_dump(data))


def test_defaults_run_offline(tmp_path: Path) -> None:
    s = load_settings(tmp_path, environ={})
    assert s.trading.broker == "paper" and s.market_data.sources == ("bundled",)
    assert s.storage.url.startswith("sqlite")


def test_local_file_overrides_repo_file_and_env_overrides_both(tmp_path: Path) -> None:
    write(tmp_path / "config.yaml", {"api": {"port": 8001, "host": "127.0.0.1"}})
    write(tmp_path / "config.local.yaml", {"api": {"port": 8002}})
    s = load_settings(tmp_path, environ={})
    assert (s.api.port, s.api.host) == (8002, "127.0.0.1")
    s = load_settings(tmp_path, environ={"FFE_API__PORT": "8003"})
    assert s.api.port == 8003


def test_seed_environment_names(tmp_path: Path) -> None:
    s = load_settings(
        tmp_path,
        environ={
            "LOGGING_LEVEL": "DEBUG",
            "MONITORING_ENABLED": "true",
            "OLLAMA_HOST": "http://10.0.0.5:11434",
            "FINANCE_FEEDBACK_API_KEY": "k-123456",
            "ENVIRONMENT": "production",
            "ALLOWED_ORIGINS": "https://a.example, https://b.example",
            "FFE_ADAPTERS__TELEGRAM__BOT_TOKEN": "123:abc",
            "FFE_ADAPTERS__TELEGRAM__ALLOWED_CHAT_IDS": "[1, 2]",
        },
    )
    assert s.logging.level == "DEBUG" and s.monitoring.enabled
    assert s.adapters["ollama"]["host"] == "http://10.0.0.5:11434"
    assert s.api.api_key is not None and s.api.api_key.get_secret_value() == "k-123456"
    assert s.environment.value == "production"
    assert s.api.allowed_origins == ("https://a.example", "https://b.example")
    assert s.adapters["telegram"]["allowed_chat_ids"] == [1, 2]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"api": {"port": "eighty"}}, "api.port"),
        ({"risk": {"max_drawdown": 3}}, "risk.max_drawdown"),
        ({"trading": {"mode": "live"}}, "trading"),
        ({"agent": {"instruments": ["DOGE-USD"]}}, "agent.instruments"),
        ({"ensemble": {"aggregation": "vibes"}}, "ensemble.aggregation"),
        ({"typo_section": {}}, "typo_section"),
    ],
)
def test_bad_value_names_the_key(tmp_path: Path, data: object, key: str) -> None:
    write(tmp_path / "config.yaml", data)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={})
    message = str(info.value)
    assert key in message and "\n" not in message


def test_live_mode_needs_explicit_confirmation(tmp_path: Path) -> None:
    write(tmp_path / "config.yaml", {"trading": {"mode": "live", "confirm_live": True}})
    assert load_settings(tmp_path, environ={}).trading.mode.value == "live"


def test_unreadable_yaml_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("api: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(tmp_path, environ={})
    (tmp_path / "config.yaml").write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(tmp_path, environ={})


def test_secrets_are_masked_in_dump(tmp_path: Path) -> None:
    s = load_settings(
        tmp_path,
        environ={
            "FINANCE_FEEDBACK_API_KEY": "super-secret-key",
            "FFE_ADAPTERS__TELEGRAM__BOT_TOKEN": "999:token-value",
            "FFE_ADAPTERS__ANTHROPIC__API_KEY": "sk-ant-secret",
        },
    )
    text = str(masked_dump(s))
    for secret in ("super-secret-key", "999:token-value", "sk-ant-secret"):
        assert secret not in text
    assert "sk-ant-secret" not in repr(s.api) and "super-secret-key" not in repr(s)


def test_empty_environment_variables_count_as_unset(tmp_path: Path) -> None:
    s = load_settings(tmp_path, environ={"FINANCE_FEEDBACK_API_KEY": "", "FFE_API__PORT": " "})
    assert s.api.api_key is None
    assert s.api.port == 8000


def test_env_overrides_nesting_and_json() -> None:
    out = env_overrides({"FFE_A__B__C": "1", "FFE_L": "[1,2]", "OTHER": "x", "FFE_BAD": "{nope"})
    assert out == {"a": {"b": {"c": "1"}}, "l": [1, 2], "bad": "{nope"}


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    section=st.sampled_from(
        [
            "api",
            "risk",
            "trading",
            "agent",
            "storage",
            "market_data",
            "telegram",
            "instruments",
            "ensemble",
            "approvals",
            "adapters",
            "logging",
            "nonsense",
        ]
    ),
    value=yaml_values,
)
def test_fuzzed_config_loads_or_fails_with_config_error(
    tmp_path: Path, section: str, value: object
) -> None:
    write(tmp_path / "config.yaml", {section: value})
    try:
        load_settings(tmp_path, environ={})
    except ConfigError as exc:
        assert str(exc).startswith("invalid configuration:") or "YAML" in str(exc)
