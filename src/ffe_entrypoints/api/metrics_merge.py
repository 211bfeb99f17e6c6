"""One exposition for a server and its agent process: the API's families and the agent's.

A family both processes have is merged sample by sample: counters, histograms and summaries add
up (``_created`` keeps the earlier time); gauges take the agent process's value, since the agent
is what they describe (running, equity, drawdown, circuits of the providers it trades with).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

SampleKey = tuple[str, tuple[tuple[str, str], ...]]


class _Families:
    """A collector that yields fixed families (for ``generate_latest``)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


def _key(sample: Sample) -> SampleKey:
    return sample.name, tuple(sorted(sample.labels.items()))


def _merged(own: Metric, agent: Metric) -> Metric:
    samples: dict[SampleKey, Sample] = {_key(s): s for s in own.samples}
    for s in agent.samples:
        key, mine = _key(s), samples.get(_key(s))
        if mine is None or own.type == "gauge":
            samples[key] = s
        elif s.name.endswith("_created"):
            samples[key] = s._replace(value=min(mine.value, s.value))
        else:
            samples[key] = s._replace(value=mine.value + s.value)
    merged = Metric(own.name, own.documentation, own.type, own.unit)
    merged.samples = list(samples.values())
    return merged


def merge_expositions(own: str, agent: str) -> bytes:
    """``own`` (this process's exposition) with ``agent``'s families merged in."""
    families = {f.name: f for f in text_string_to_metric_families(own)}
    for family in text_string_to_metric_families(agent):
        mine = families.get(family.name)
        families[family.name] = family if mine is None else _merged(mine, family)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families.values()))
    return generate_latest(registry)
