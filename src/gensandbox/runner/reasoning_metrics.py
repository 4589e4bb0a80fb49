"""What thinking costs and what it buys, per model: pure functions over a run's samples (or score rows).

Reasoning tokens and time to the first answer token come from the providers when they report them (rows made
before they did count 0 reasoning tokens and have no first-answer time). Answer tokens are the output tokens
that are not reasoning. "Correct" sums the scores, so a 0.5 counts half.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from gensandbox.providers.regimes import split_sweep_name
from gensandbox.runner.stats import pareto_frontier, percentile
from gensandbox.store import SampleRecord, ScoreRow


@dataclass(frozen=True)
class ReasoningMetrics:
    model: str
    base_model: str
    setting: str | None  # the sweep setting, None outside a sweep
    n: int  # scored samples
    errors: int
    accuracy: float | None
    reasoning_tokens_mean: float
    reasoning_tokens_p90: float
    answer_tokens_mean: float
    answer_tokens_p90: float
    output_tokens_per_item: float
    cost_per_item_usd: float
    cost_per_correct_usd: float | None  # None when nothing was correct
    latency_p50_s: float | None
    first_answer_p50_s: float | None
    accuracy_per_1k_reasoning_tokens: float | None  # None without reasoning tokens

    def to_json(self) -> dict:
        return {key: _rounded(value) for key, value in asdict(self).items()}


@dataclass
class _Rows:
    scores: list[float] = field(default_factory=list)
    reasoning: list[float] = field(default_factory=list)
    answer: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    first_answer: list[float] = field(default_factory=list)
    cost_usd: float = 0.0
    errors: int = 0

    def add(self, row: ScoreRow | SampleRecord) -> None:
        self.cost_usd += row.cost_usd
        if row.score is None:
            self.errors += 1
            return
        reasoning = getattr(row, "reasoning_tokens", None) or 0
        self.scores.append(row.score)
        self.reasoning.append(reasoning)
        self.answer.append(max(0, row.output_tokens - reasoning))
        if row.latency_s is not None:
            self.latencies.append(row.latency_s)
        if (first := getattr(row, "first_answer_s", None)) is not None:
            self.first_answer.append(first)


def reasoning_metrics(rows: Iterable[ScoreRow | SampleRecord]) -> list[ReasoningMetrics]:
    """One entry per model, in order of name (a sweep's settings then sit together under their model)."""
    groups: dict[str, _Rows] = {}
    for row in rows:
        groups.setdefault(row.model, _Rows()).add(row)
    return [_metrics(model, groups[model]) for model in sorted(groups)]


def _metrics(model: str, rows: _Rows) -> ReasoningMetrics:
    n = len(rows.scores)
    accuracy = sum(rows.scores) / n if n else None
    correct = sum(rows.scores)
    reasoning_mean = _mean(rows.reasoning)
    base, setting = split_sweep_name(model)
    return ReasoningMetrics(
        model=model, base_model=base, setting=setting, n=n, errors=rows.errors, accuracy=accuracy,
        reasoning_tokens_mean=reasoning_mean, reasoning_tokens_p90=_p90(rows.reasoning),
        answer_tokens_mean=_mean(rows.answer), answer_tokens_p90=_p90(rows.answer),
        output_tokens_per_item=_mean([r + a for r, a in zip(rows.reasoning, rows.answer, strict=True)]),
        cost_per_item_usd=rows.cost_usd / (n + rows.errors) if n + rows.errors else 0.0,
        cost_per_correct_usd=rows.cost_usd / correct if correct else None,
        latency_p50_s=percentile(rows.latencies, 50) if rows.latencies else None,
        first_answer_p50_s=percentile(rows.first_answer, 50) if rows.first_answer else None,
        accuracy_per_1k_reasoning_tokens=accuracy / (reasoning_mean / 1000) if accuracy is not None and reasoning_mean
        else None,
    )


def frontier_models(metrics: list[ReasoningMetrics], cost_of) -> set[str]:
    """Models no other beats on both `cost_of(metric)` (lower) and accuracy (higher), across every point."""
    scored = [m for m in metrics if m.accuracy is not None]
    return {scored[i].model for i in pareto_frontier([(cost_of(m), m.accuracy) for m in scored])}


def has_sweep(metrics: list[ReasoningMetrics]) -> bool:
    return any(m.setting is not None for m in metrics)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _p90(values: list[float]) -> float:
    return percentile(values, 90) if values else 0.0


def _rounded(value):
    return round(value, 8) if isinstance(value, float) else value
