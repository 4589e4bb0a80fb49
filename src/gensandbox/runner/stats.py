"""Numbers a decision can rest on: bootstrap confidence intervals, percentiles, the Pareto frontier."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SIGNIFICANCE = 0.05  # the p-value under which every comparison and audit calls a difference real


def bootstrap_ci(
    values: Sequence[float], *, resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap of the mean. A fixed seed makes the interval reproducible."""
    # Sorted first: with a fixed seed the resampled positions are fixed, so unsorted the interval would depend
    # on which items sit where (the store's order, which items a model got right), not only on the scores.
    data = np.sort(np.asarray(values, dtype=float))
    if data.size == 0:
        return (float("nan"), float("nan"))
    if data.size == 1 or np.all(data == data[0]):
        return (float(data[0]), float(data[0]))
    rng = np.random.default_rng(seed)
    # Resample in batches so memory stays bounded for very large runs.
    batch = max(1, min(resamples, 4_000_000 // data.size))
    means = np.concatenate([
        data[rng.integers(0, data.size, size=(min(batch, resamples - start), data.size))].mean(axis=1)
        for start in range(0, resamples, batch)
    ])
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return (float(low), float(high))


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def pareto_frontier(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of points (cost, score) that no other point beats: cheaper-or-equal and at least as good,
    strictly better in one. Returned in order of increasing cost."""
    frontier = []
    for i, (cost, score) in enumerate(points):
        dominated = any(
            (other_cost <= cost and other_score >= score) and (other_cost < cost or other_score > score)
            for j, (other_cost, other_score) in enumerate(points)
            if j != i
        )
        if not dominated:
            frontier.append(i)
    return sorted(frontier, key=lambda i: (points[i][0], -points[i][1]))


def paired_difference(
    first: Sequence[float], second: Sequence[float], *, resamples: int = 10000, seed: int = 0
) -> tuple[float, float, float, float]:
    """Mean of (first - second) over paired items, its 95% bootstrap interval, and the two-sided p-value
    of a sign-flip permutation test (under no difference, each pair's sign is a coin toss)."""
    # Sorted for the same reason as in bootstrap_ci: the result depends on the differences, not their order.
    differences = np.sort(np.asarray(first, dtype=float) - np.asarray(second, dtype=float))
    if differences.size == 0:
        return (float("nan"),) * 4
    observed = float(differences.mean())
    low, high = bootstrap_ci(differences, resamples=resamples, seed=seed)
    rng = np.random.default_rng(seed)
    batch = max(1, min(resamples, 4_000_000 // differences.size))
    extreme = 0
    for start in range(0, resamples, batch):
        signs = rng.choice((-1.0, 1.0), size=(min(batch, resamples - start), differences.size))
        extreme += int(np.sum(np.abs((signs * differences).mean(axis=1)) >= abs(observed) - 1e-12))
    return observed, low, high, (extreme + 1) / (resamples + 1)
