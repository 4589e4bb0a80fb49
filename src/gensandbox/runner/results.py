"""From stored samples to the numbers people compare: score with CI, epoch spread, latency, tokens, cost.

Rows arrive ordered by item, so each item's epochs are averaged as they stream past; only a compact
array of per-item scores is kept per group, never the samples themselves.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from gensandbox.runner.stats import bootstrap_ci, percentile
from gensandbox.store import ScoreRow

KeyFunction = Callable[[ScoreRow], tuple[str, ...]]


@dataclass(frozen=True)
class Aggregate:
    key: tuple[str, ...]
    n: int  # items scored (an item's epochs are averaged first; failed calls count in `errors`)
    errors: int
    score: float
    ci_low: float
    ci_high: float
    latency_p50_s: float
    input_tokens: int
    output_tokens: int
    cost_usd: float  # what the answers cost when they were made, cached ones included: what models are compared on
    epochs: int = 1
    epoch_scores: tuple[float, ...] = ()
    cached: int = 0  # answers taken from the response cache in this run
    spent_usd: float = 0.0  # what this run paid: a cached answer costs nothing again
    calls: int = 0  # answers and failures, every epoch

    @property
    def epoch_std(self) -> float:
        """Spread of the score between repeats (sample standard deviation); NaN with one epoch."""
        if len(self.epoch_scores) < 2:
            return float("nan")
        mean = sum(self.epoch_scores) / len(self.epoch_scores)
        return math.sqrt(sum((s - mean) ** 2 for s in self.epoch_scores) / (len(self.epoch_scores) - 1))


def by_model_and_suite(row: ScoreRow) -> tuple[str, ...]:
    return (row.model, row.suite)


def by_model_and_category(row: ScoreRow) -> tuple[str, ...]:
    return (row.model, row.category)


def by_model_and_language(row: ScoreRow) -> tuple[str, ...]:
    return (row.model, row.language)


def by_model(row: ScoreRow) -> tuple[str, ...]:
    return (row.model,)


BREAKDOWNS: dict[str, KeyFunction] = {
    "suite": by_model_and_suite, "category": by_model_and_category, "language": by_model_and_language,
}


@dataclass
class _Group:
    item_scores: array = field(default_factory=lambda: array("d"))
    latencies: array = field(default_factory=lambda: array("d"))
    epoch_totals: dict[int, list[float]] = field(default_factory=dict)
    errors: int = 0
    cached: int = 0
    spent_usd: float = 0.0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    current_item: tuple | None = None
    current_scores: list[float] = field(default_factory=list)

    def add(self, row: ScoreRow) -> None:
        item = (row.model, row.suite, row.item_id)
        if item != self.current_item:
            self.flush_item()
            self.current_item = item
        self.input_tokens += row.input_tokens
        self.output_tokens += row.output_tokens
        self.cost_usd += row.cost_usd
        self.calls += 1
        if row.cached:
            self.cached += 1
        else:
            self.spent_usd += row.cost_usd
        if row.error is not None and row.score is None:
            self.errors += 1
            return
        if row.latency_s is not None:
            self.latencies.append(row.latency_s)
        if row.score is not None:
            self.current_scores.append(row.score)
            totals = self.epoch_totals.setdefault(row.epoch, [0.0, 0])
            totals[0] += row.score
            totals[1] += 1

    def flush_item(self) -> None:
        if self.current_scores:
            self.item_scores.append(sum(self.current_scores) / len(self.current_scores))
        self.current_scores = []

    def result(self, key: tuple[str, ...], resamples: int) -> Aggregate:
        self.flush_item()
        scores = self.item_scores
        low, high = bootstrap_ci(scores, resamples=resamples)
        return Aggregate(
            key=key, n=len(scores), errors=self.errors,
            score=sum(scores) / len(scores) if scores else float("nan"), ci_low=low, ci_high=high,
            latency_p50_s=percentile(self.latencies, 50), input_tokens=self.input_tokens,
            output_tokens=self.output_tokens, cost_usd=self.cost_usd, epochs=max(len(self.epoch_totals), 1),
            epoch_scores=tuple(total / count for _, (total, count) in sorted(self.epoch_totals.items())),
            cached=self.cached, spent_usd=self.spent_usd, calls=self.calls,
        )


def aggregate(rows: Iterable[ScoreRow], key: KeyFunction, *, resamples: int = 2000) -> list[Aggregate]:
    """Rows must come grouped by (model, suite, item), as `Store.score_rows` gives them."""
    groups: dict[tuple[str, ...], _Group] = {}
    for row in rows:
        group_key = key(row)
        group = groups.get(group_key)
        if group is None:
            group = groups[group_key] = _Group()
        group.add(row)
    return [groups[k].result(k, resamples) for k in sorted(groups)]


def results_json(run_id: str, rows: list[Aggregate], group: str = "suite") -> dict:
    """The shape `gensandbox show RUN_ID --json` prints; `group` names the second key (suite by default)."""
    return {
        "run_id": run_id,
        "results": [
            {
                "model": row.key[0],
                group: row.key[1],
                "n": row.n,
                "errors": row.errors,
                "score": _finite(row.score),
                "ci_low": _finite(row.ci_low),
                "ci_high": _finite(row.ci_high),
                "latency_p50_s": _finite(row.latency_p50_s),
                "input_tokens": row.input_tokens,
                "output_tokens": row.output_tokens,
                # What this run paid (cached answers cost nothing again); measured_cost_usd is what the answers
                # cost when they were made, the figure to compare models on.
                "cost_usd": row.spent_usd,
                "measured_cost_usd": row.cost_usd,
                "cached": row.cached,
                "epochs": row.epochs,
                "epoch_scores": [_finite(s) for s in row.epoch_scores],
                "epoch_std": _finite(row.epoch_std),
            }
            for row in rows
        ],
    }


def _finite(value: float) -> float | None:
    """JSON has no NaN: a model with no scored item has no score."""
    return None if value != value else round(value, 6)
