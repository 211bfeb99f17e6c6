"""Hook implementations of the example plugin: a decision provider, a notifier, a cache, a
compute backend and an order-level backtest strategy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ffe_adapters.hookspecs import AdapterContext, Factory, hookimpl
from ffe_plugin_example.breakout import ChannelBreakout
from ffe_plugin_example.journal import JournalNotifier, JournalOptions
from ffe_plugin_example.provider import ContrarianOptions, ContrarianProvider
from ffe_plugin_example.thread_pool import ThreadPoolCompute, ThreadPoolOptions
from ffe_plugin_example.ttl_cache import TtlDictCache, TtlDictOptions


def build_contrarian(ctx: AdapterContext) -> ContrarianProvider:
    return ContrarianProvider(ctx.parse_options(ContrarianOptions))


def build_journal(ctx: AdapterContext) -> JournalNotifier:
    return JournalNotifier(ctx.parse_options(JournalOptions))


def build_ttl_dict(ctx: AdapterContext) -> TtlDictCache:
    return TtlDictCache(ctx.parse_options(TtlDictOptions), ctx.clock)


def build_thread_pool(ctx: AdapterContext) -> ThreadPoolCompute:
    return ThreadPoolCompute(ctx.parse_options(ThreadPoolOptions))


@hookimpl
def ffe_decision_providers() -> Mapping[str, Factory]:
    return {"contrarian": build_contrarian}


@hookimpl
def ffe_notifiers() -> Mapping[str, Factory]:
    return {"journal": build_journal}


@hookimpl
def ffe_caches() -> Mapping[str, Factory]:
    return {"ttl_dict": build_ttl_dict}


@hookimpl
def ffe_compute_backends() -> Mapping[str, Factory]:
    return {"thread_pool": build_thread_pool}


@hookimpl
def ffe_order_strategies() -> Mapping[str, Any]:
    return {"example_breakout": ChannelBreakout}
