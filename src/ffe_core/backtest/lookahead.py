"""The look-ahead guard of a replay: a language model must not be asked about a period its
training data may cover, or its "forecast" may be a memory of what happened next.

Every :class:`~ffe_core.ports.providers.LanguageModelProvider` declares its model's knowledge
cut-off; a replay whose first decision falls on or before it is refused (one line naming
provider, model and date), unless the caller allows it, in which case the report is marked
contaminated. A model whose cut-off is unknown is refused too: nobody can say it is clean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from ffe_core.domain.errors import ValidationFailed
from ffe_core.ports.providers import DecisionProvider, LanguageModelProvider


@dataclass(frozen=True)
class Contamination:
    """One provider whose model may remember the replayed period."""

    provider: str
    model: str
    cutoff: date | None
    first_decision: datetime

    def describe(self) -> str:
        if self.cutoff is None:
            return (
                f"provider {self.provider} (model {self.model}) declares no training cut-off; "
                f"set adapters.{self.provider}.knowledge_cutoffs"
            )
        return (
            f"provider {self.provider} (model {self.model}) was trained on data up to "
            f"{self.cutoff.isoformat()}, after the replay's first decision at "
            f"{self.first_decision:%Y-%m-%d}"
        )

    def as_json(self) -> dict[str, str | None]:
        return {
            "provider": self.provider,
            "model": self.model,
            "cutoff": None if self.cutoff is None else self.cutoff.isoformat(),
            "first_decision": self.first_decision.isoformat(),
        }


def contamination(
    providers: Mapping[str, DecisionProvider], first_decision: datetime
) -> list[Contamination]:
    """The language-model providers that may know what followed ``first_decision``."""
    found = []
    for name, provider in providers.items():
        if not isinstance(provider, LanguageModelProvider):
            continue
        cutoff = provider.knowledge_cutoff()
        if cutoff is None or first_decision.date() <= cutoff:
            found.append(Contamination(name, provider.model, cutoff, first_decision))
    return found


def refuse_lookahead(found: list[Contamination]) -> None:
    """Raise ValidationFailed describing the first contaminated provider (and how many more)."""
    if not found:
        return
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    raise ValidationFailed(
        f"look-ahead: {found[0].describe()}{more}; replay a later period, or pass "
        "--allow-lookahead to run anyway with the report marked contaminated"
    )
