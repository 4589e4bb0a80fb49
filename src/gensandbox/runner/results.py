"""From stored samples to the numbers people compare: score with CI, latency, tokens, cost."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gensandbox.runner.stats import bootstrap_ci, percentile
from gensandbox.store import SampleRecord


@dataclass(frozen=True)
class Aggregate:
    key: tuple[str, ...]
    n: int  # items scored (calls that failed are counted in `errors`, not in the score)
    errors: int
    score: float
    ci_low: float
    ci_high: float
    latency_p50_s: float
    input_tokens: int
    output_tokens: int
    cost_usd: float


def by_model_and_suite(sample: SampleRecord) -> tuple[str, ...]:
    return (sample.model, sample.suite)


def by_model_and_category(sample: SampleRecord) -> tuple[str, ...]:
    return (sample.model, sample.category)


def by_model_and_language(sample: SampleRecord) -> tuple[str, ...]:
    return (sample.model, sample.language)


def by_model(sample: SampleRecord) -> tuple[str, ...]:
    return (sample.model,)


def aggregate(
    samples: Iterable[SampleRecord], key: Callable[[SampleRecord], tuple[str, ...]], *, resamples: int = 2000
) -> list[Aggregate]:
    groups: dict[tuple[str, ...], list[SampleRecord]] = {}
    for sample in samples:
        groups.setdefault(key(sample), []).append(sample)
    return [_aggregate(group_key, members, resamples) for group_key, members in sorted(groups.items())]


def _aggregate(key: tuple[str, ...], members: list[SampleRecord], resamples: int) -> Aggregate:
    scores = [s.score for s in members if s.score is not None]
    latencies = [s.latency_s for s in members if s.error is None and s.latency_s is not None]
    low, high = bootstrap_ci(scores, resamples=resamples)
    return Aggregate(
        key=key,
        n=len(scores),
        errors=sum(1 for s in members if s.error is not None),
        score=sum(scores) / len(scores) if scores else float("nan"),
        ci_low=low,
        ci_high=high,
        latency_p50_s=percentile(latencies, 50),
        input_tokens=sum(s.input_tokens for s in members),
        output_tokens=sum(s.output_tokens for s in members),
        cost_usd=sum(s.cost_usd for s in members),
    )


def results_json(run_id: str, rows: list[Aggregate]) -> dict:
    """The shape `gensandbox show RUN_ID --json` prints."""
    return {
        "run_id": run_id,
        "results": [
            {
                "model": row.key[0],
                "suite": row.key[1],
                "n": row.n,
                "errors": row.errors,
                "score": _finite(row.score),
                "ci_low": _finite(row.ci_low),
                "ci_high": _finite(row.ci_high),
                "latency_p50_s": _finite(row.latency_p50_s),
                "input_tokens": row.input_tokens,
                "output_tokens": row.output_tokens,
                "cost_usd": row.cost_usd,
            }
            for row in rows
        ],
    }


def _finite(value: float) -> float | None:
    """JSON has no NaN: a model with no scored item has no score."""
    return None if value != value else round(value, 6)
