import math

from gensandbox.runner.stats import bootstrap_ci, pareto_frontier, percentile


def test_bootstrap_interval_brackets_the_mean_and_is_reproducible():
    values = [1.0] * 30 + [0.0] * 20
    low, high = bootstrap_ci(values)
    assert low < 0.6 < high
    assert 0.4 < low and high < 0.8
    assert bootstrap_ci(values) == (low, high)


def test_bootstrap_interval_narrows_with_more_items():
    small = bootstrap_ci([1.0, 0.0] * 10)
    large = bootstrap_ci([1.0, 0.0] * 500)
    assert (large[1] - large[0]) < (small[1] - small[0]) / 4


def test_bootstrap_edge_cases():
    assert all(math.isnan(v) for v in bootstrap_ci([]))
    assert bootstrap_ci([1.0] * 5) == (1.0, 1.0)


def test_bootstrap_on_a_large_run_stays_in_bounds():
    low, high = bootstrap_ci([i % 2 for i in range(200_000)], resamples=200)
    assert 0.49 < low < 0.5 < high < 0.51


def test_percentile():
    assert percentile([1.0, 2.0, 3.0], 50) == 2.0
    assert math.isnan(percentile([], 50))


def test_pareto_frontier_keeps_only_undominated_points_in_cost_order():
    points = [(1.0, 0.5), (2.0, 0.4), (3.0, 0.9), (0.5, 0.2), (3.0, 0.8)]
    assert pareto_frontier(points) == [3, 0, 2]


def test_pareto_frontier_with_ties():
    assert pareto_frontier([(1.0, 0.5), (1.0, 0.5)]) == [0, 1]
