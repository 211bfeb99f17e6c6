"""Every kind is chosen by name from the configuration: a third-party plugin's notifier and cache
(the example plugin's ``journal`` and ``ttl_dict``) are picked by config and used by the engine;
an unknown name is refused at start-up naming the key; moved keys keep working with a warning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from ffe_plugin_example.journal import JournalNotifier
from ffe_plugin_example.ttl_cache import TtlDictCache

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_adapters.registry import load_registry
from ffe_core.config import MovedKeyWarning, Settings
from ffe_core.domain.errors import ConfigError
from ffe_core.domain.instruments import Instrument
from ffe_core.domain.market import Bar, Quote
from ffe_core.ports.notify import EventKind, Notification
from ffe_entrypoints.container import build_container
from ffe_entrypoints.lifecycle import shutdown, startup
from ffe_entrypoints.settings import load_settings


class CountingSource:
    """A remote-like source (cacheable, the default) that counts how often it is asked."""

    name = "counting"

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    async def get_bars(self, instrument: Instrument, interval: str, **kw: Any) -> list[Bar]:
        self.calls += 1
        bars: list[Bar] = await self.inner.get_bars(instrument, interval, **kw)
        return bars

    async def get_quote(self, instrument: Instrument) -> Quote:
        self.calls += 1
        quote: Quote = await self.inner.get_quote(instrument)
        return quote

    async def close(self) -> None:
        return None


SOURCES: list[CountingSource] = []


class CountingPlugin:
    @staticmethod
    @hookimpl
    def ffe_market_data_sources() -> dict[str, Factory]:
        def build(ctx: AdapterContext) -> CountingSource:
            synthetic = load_registry().factory("market_data", "synthetic")(ctx)
            SOURCES.append(CountingSource(synthetic))
            return SOURCES[-1]

        return {"counting": build}


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'ffe.db'}"},
        "market_data": {"sources": ["counting"], "cache": {"backend": "ttl_dict"}},
        "notify": {"notifiers": ["log", "journal"]},
        "adapters": {"journal": {"path": str(tmp_path / "journal.jsonl")}},
    }
    return load_settings(tmp_path, environ={}, overrides={**base, **overrides})


def with_counting_source(container: Any) -> Any:
    registry = load_registry(extra=[("counting-test", CountingPlugin)])
    container.registry.override(providers.Object(registry))
    return container


async def test_the_example_plugins_notifier_and_cache_are_chosen_by_config_and_used(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    container = with_counting_source(build_container(settings))
    await startup(container)
    try:
        cache = container.cache()
        assert isinstance(cache, TtlDictCache)
        instrument = settings.instrument("BTC-USD")
        assert instrument is not None
        market_data = container.market_data()
        first = await market_data.fetch_bars(instrument, "1h", limit=40)
        assert (cache.misses, cache.hits, SOURCES[-1].calls) == (1, 0, 1)
        again = await market_data.fetch_bars(instrument, "1h", limit=40)
        # the second read came out of the plugin's cache: the source was not asked again
        assert (cache.hits, SOURCES[-1].calls) == (1, 1)
        assert again.from_cache and again.bars == first.bars

        assert any(isinstance(n, JournalNotifier) for n in container.notifiers())
        await container.agent().notifier.notify(Notification(kind=EventKind.AGENT, title="hi"))
    finally:
        await shutdown(container)
    lines = (tmp_path / "journal.jsonl").read_text().splitlines()
    assert [json.loads(line)["title"] for line in lines] == ["hi"]


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"market_data": {"cache": {"backend": "nope"}}}, "market_data.cache.backend"),
        ({"notify": {"notifiers": ["log", "pager"]}}, "notify.notifiers"),
        ({"notify": {"inbound": ["carrier_pigeon"]}}, "notify.inbound"),
        ({"agent": {"lease": "zookeeper"}}, "agent.lease"),
        ({"monitoring": {"metrics": "statsd"}}, "monitoring.metrics"),
        ({"backtests": {"compute": "ray"}}, "backtests.compute"),
        ({"storage": {"url": "mongodb://127.0.0.1/ffe"}}, "storage.url"),
    ],
)
async def test_an_unknown_name_is_refused_at_start_up_naming_key_and_registered_names(
    tmp_path: Path, overrides: dict[str, Any], key: str
) -> None:
    container = with_counting_source(build_container(settings_for(tmp_path, **overrides)))
    with pytest.raises(ConfigError) as refused:
        await startup(container)
    message = str(refused.value)
    assert message.startswith(f"{key}: no ") and "registered: " in message
    assert "\n" not in message
    await shutdown(container)


def test_the_cache_names_are_what_plugins_registered_not_a_fixed_list(tmp_path: Path) -> None:
    message = ""
    settings = settings_for(tmp_path, market_data={"cache": {"backend": "x"}})
    container = with_counting_source(build_container(settings))
    try:
        import asyncio

        asyncio.run(startup(container))
    except ConfigError as exc:
        message = str(exc)
    for name in ("memory", "redis", "none", "ttl_dict"):
        assert name in message.split("registered: ")[1]


def test_moved_keys_keep_working_for_one_release_with_a_warning(tmp_path: Path) -> None:
    legacy = {
        "telegram": {
            "enabled": True,
            "bot_token": "1:tok",
            "allowed_chat_ids": [7],
            "mode": "polling",
        },
        "market_data": {"cache": {"backend": "redis", "redis_url": "redis://127.0.0.1:6379/3"}},
        "adapters": {"sql": {"min_free_bytes": 1024}},
    }
    with pytest.warns(MovedKeyWarning) as caught:
        settings = load_settings(tmp_path, environ={}, overrides=legacy)
    moved = " ".join(str(w.message) for w in caught)
    assert "telegram.*" in moved and "market_data.cache.redis_url" in moved
    assert "adapters.sql.*" in moved
    assert (
        settings.adapters["sqlite"] == settings.adapters["postgresql"] == {"min_free_bytes": 1024}
    )
    assert settings.adapters["telegram"]["allowed_chat_ids"] == [7]
    assert settings.adapters["redis"]["url"] == "redis://127.0.0.1:6379/3"
    assert "telegram" in settings.notify.notifiers
    assert "telegram" in settings.notify.approval_channels
    assert settings.notify.inbound == ("telegram",)

    container = build_container(settings)
    try:
        assert [n.name for n in container.notifiers()] == ["log", "telegram"]
    finally:
        import asyncio

        asyncio.run(shutdown(container))


def test_a_moved_key_set_in_the_environment_still_works(tmp_path: Path) -> None:
    environ = {"FFE_TELEGRAM__BOT_TOKEN": "2:env", "FFE_TELEGRAM__ALLOWED_CHAT_IDS": "[9]"}
    with pytest.warns(MovedKeyWarning, match=r"telegram\.\*"):
        settings = load_settings(tmp_path, environ=environ)
    assert settings.adapters["telegram"]["bot_token"] == "2:env"
    assert settings.notify.notifiers == ("log",)  # telegram.enabled was not set


def test_new_keys_need_no_warning(tmp_path: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", MovedKeyWarning)
        settings = load_settings(
            tmp_path,
            environ={"FFE_ADAPTERS__TELEGRAM__BOT_TOKEN": "3:new"},
            overrides={"notify": {"notifiers": ["log", "telegram"]}},
        )
    assert settings.adapters["telegram"]["bot_token"] == "3:new"
