"""The report's view-model on a real run: neutral ranking, frontier, paired tests, breakdowns, samples."""

import math

import pytest

from gensandbox.reports import build_view, chart_specs
from gensandbox.reports.view import STEPS
from gensandbox.runner.compare import compare_models


@pytest.fixture(scope="module")
def view(made_run):
    store = made_run.store()
    return build_view(store.get_run(made_run.run_id), store, resamples=500)


def test_leaderboard_is_sorted_by_measured_results_only(view):
    # echo and echo-twin tie on score; the cheaper ranks first whatever its origin or weights; the model with
    # no scored item comes last.
    assert [row.key[0] for row in view.overall] == ["echo", "echo-twin", "grader", "broken"]
    assert [row.score for row in view.overall[:3]] == [0.5, 0.5, 0.0]
    assert math.isnan(view.overall[3].score) and view.overall[3].errors == 40
    assert view.rank_of == {"echo": 1, "echo-twin": 2, "grader": 3}


def test_frontier_has_the_cheapest_and_the_best_with_their_facts(view):
    points = {p.model: p for p in view.points}
    assert {name: p.on_frontier for name, p in points.items()} == {"echo": True, "echo-twin": False, "grader": True}
    assert view.frontier_models == ["grader", "echo"]
    echo, grader = points["echo"], points["grader"]
    assert (echo.origin, echo.weights, echo.completion_style) == ("foreign", "open", False)
    assert (grader.origin, grader.weights, grader.completion_style) == ("domestic", "open", True)
    assert echo.latency_p50_s > 0 and echo.ci_low < 0.5 < echo.ci_high
    assert "broken" not in points  # nothing scored, so nothing to place


def test_paired_significance_between_the_top_three(view, made_run):
    pairs = {(c.first, c.second): c for c in view.comparisons}
    assert list(pairs) == [("echo", "echo-twin"), ("echo", "grader"), ("echo-twin", "grader")]
    twins = pairs[("echo", "echo-twin")]
    assert (twins.n, twins.difference, twins.p_value, twins.significant) == (40, 0.0, 1.0, False)
    versus = pairs[("echo", "grader")]
    reference = compare_models(made_run.store().score_rows(made_run.run_id), "echo", "grader")
    assert (versus.n, versus.difference) == (reference.n, reference.difference) == (40, 0.5)
    assert versus.significant and versus.p_value < 0.01 and versus.ci_low > 0.2


def test_breakdowns_by_category_and_language(view):
    assert view.by_category.columns == ["knowledge", "reading"]
    assert view.by_language.columns == ["en", "ko"]
    cells = dict(view.by_language.rows)
    assert [cell.n for cell in cells["echo"]] == [20, 20]
    assert list(view.per_suite) == ["mixed"]


def test_every_sample_is_in_the_browser_when_the_run_is_small(view):
    selection = view.samples
    assert selection.total == len(selection.samples) == 160 and selection.complete
    assert selection.outcomes == {"error": 40, "incorrect": 80, "correct": 40}
    assert selection.targets_known
    first = selection.samples[0]
    assert first.outcome == "error" and first.model == "broken" and "500" in first.error
    right = next(s for s in selection.samples if s.model == "echo" and s.item_id == "i003")
    assert (right.prompt, right.answer, right.target, right.outcome) == ("item 3 says yes",) * 2 + ("yes", "correct")
    assert right.reason == "contains 'yes'"


def test_a_bounded_browser_takes_errors_first_then_every_model(made_run):
    store = made_run.store()
    seen = []
    bounded = build_view(store.get_run(made_run.run_id), store, resamples=200, sample_limit=20, progress=seen.append)
    assert seen == list(STEPS)
    samples = bounded.samples.samples
    assert len(samples) == 20 and bounded.samples.total == 160 and not bounded.samples.complete
    assert [s.outcome for s in samples[:10]] == ["error"] * 10  # problems fill the first half, errors first
    assert {s.model for s in samples} == {"echo", "echo-twin", "grader", "broken"}  # then an even spread
    assert any(s.outcome == "correct" for s in samples)
    again = build_view(store.get_run(made_run.run_id), store, resamples=200, sample_limit=20)
    assert again.samples == bounded.samples


def test_chart_specs_hold_every_scored_model(view):
    specs = chart_specs(view, "en")
    assert list(specs) == ["frontier", "leaderboard", "category", "language"]
    frontier = specs["frontier"]["data"]["values"]
    assert {row["model"]: row["on_frontier"] for row in frontier} == {"echo": True, "echo-twin": False, "grader": True}
    assert next(row for row in frontier if row["model"] == "grader")["label"] == "grader †"
    korean = chart_specs(view, "ko")["frontier"]
    assert korean["title"]["text"] == "비용 대비 품질"
