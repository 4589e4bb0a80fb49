"""Paired significance between the top models of the ranking, on the items both answered.

One streaming pass collects the per-item scores of the top models only (an item's epochs averaged);
each pair then goes through the same paired bootstrap and sign-flip permutation test as
`gensandbox compare` (runner.stats.paired_difference).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations

from gensandbox.runner.compare import PairedComparison
from gensandbox.runner.results import Aggregate
from gensandbox.runner.stats import paired_difference
from gensandbox.store import ScoreRow

TOP_MODELS = 3


def top_models(ranked: list[Aggregate], count: int = TOP_MODELS) -> list[str]:
    """The first `count` models of the neutral ranking that have a score."""
    return [row.key[0] for row in ranked if row.score == row.score][:count]


def paired_comparisons(rows: Iterable[ScoreRow], models: list[str], *, resamples: int = 2000) -> list[PairedComparison]:
    """Every pair among `models`, in ranking order (first listed is the better-ranked model)."""
    per_item = item_scores(rows, set(models))
    comparisons = []
    for first, second in combinations(models, 2):
        shared = sorted(set(per_item[first]) & set(per_item[second]))
        if not shared:
            continue  # nothing in common: no paired test is possible, and the page says so
        a = [per_item[first][key] for key in shared]
        b = [per_item[second][key] for key in shared]
        difference, low, high, p_value = paired_difference(a, b, resamples=resamples)
        comparisons.append(PairedComparison(first, second, len(shared), sum(a) / len(a), sum(b) / len(b),
                                            difference, low, high, p_value))
    return comparisons


def item_scores(rows: Iterable[ScoreRow], models: set[str]) -> dict[str, dict[tuple[str, str], float]]:
    """model -> (suite, item) -> mean score over its scored epochs."""
    totals: dict[str, dict[tuple[str, str], list[float]]] = {model: {} for model in models}
    for row in rows:
        if row.model in models and row.score is not None:
            total = totals[row.model].setdefault((row.suite, row.item_id), [0.0, 0])
            total[0] += row.score
            total[1] += 1
    return {model: {key: total / count for key, (total, count) in items.items()} for model, items in totals.items()}


def verdict_key(comparison: PairedComparison) -> str:
    """Which plain-language verdict applies (a key of reports.text)."""
    if not comparison.significant:
        return "verdict_unclear"
    return "verdict_better" if comparison.difference > 0 else "verdict_worse"
