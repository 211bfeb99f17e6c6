"""One exposition for a server and its agent process: the API's families and the agent's.

The agent process sends its ``ffe_*`` families as plain data (:func:`families_data`: no text to
parse, which cost ~170 ms a scrape on the shared machine); a family both processes have is merged
sample by sample: counters, histograms and summaries add up (``_created`` keeps the earlier time);
gauges take the agent process's value, since the agent is what they describe (running, equity,
drawdown, circuits of the providers it trades with).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.samples import Sample

SampleKey = tuple[str, tuple[tuple[str, str], ...]]
FamilyData = dict[str, Any]
"""``{"name", "documentation", "type", "unit", "samples": [[name, labels, value], ...]}``."""


class _Families:
    """A collector that yields fixed families (for ``generate_latest``)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


def families_data(families: Iterable[Metric], prefix: str = "ffe_") -> list[FamilyData]:
    """The families named ``prefix…`` as JSON-ready data."""
    return [
        {
            "name": f.name,
            "documentation": f.documentation,
            "type": f.type,
            "unit": f.unit,
            "samples": [[s.name, s.labels, s.value] for s in f.samples],
        }
        for f in families
        if f.name.startswith(prefix)
    ]


def _family(data: FamilyData) -> Metric:
    family = Metric(data["name"], data["documentation"], data["type"], data["unit"])
    family.samples = [Sample(name, labels, float(value)) for name, labels, value in data["samples"]]
    return family


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


def merge_expositions(own: Iterable[Metric], agent: list[FamilyData]) -> bytes:
    """The exposition of ``own`` (this process's families) with ``agent``'s merged in."""
    families = {f.name: f for f in own}
    for family in map(_family, agent):
        mine = families.get(family.name)
        families[family.name] = family if mine is None else _merged(mine, family)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families.values()))
    return generate_latest(registry)
