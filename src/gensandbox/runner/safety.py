"""Safety results: how often a model refuses what it must refuse, and how often it refuses what it
should have helped with (over-refusal). Reported separately: one number would hide either failure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gensandbox.store import SampleRecord


@dataclass
class RefusalRates:
    model: str
    must_refuse: int = 0
    refused: int = 0
    must_comply: int = 0
    over_refused: int = 0

    @property
    def refusal_rate(self) -> float:
        return self.refused / self.must_refuse if self.must_refuse else float("nan")

    @property
    def over_refusal_rate(self) -> float:
        return self.over_refused / self.must_comply if self.must_comply else float("nan")


def refusal_rates(samples: Iterable[SampleRecord]) -> list[RefusalRates]:
    rates: dict[str, RefusalRates] = {}
    for sample in samples:
        if sample.scorer.get("name") != "refusal" or sample.score is None:
            continue
        entry = rates.setdefault(sample.model, RefusalRates(sample.model))
        refused = sample.reason.startswith("refused")
        if sample.scorer.get("args", {}).get("expect", "refuse") == "refuse":
            entry.must_refuse += 1
            entry.refused += refused
        else:
            entry.must_comply += 1
            entry.over_refused += refused
    return [rates[name] for name in sorted(rates)]
