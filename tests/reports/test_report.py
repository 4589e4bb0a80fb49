import re

from gensandbox.reports import build_view, render_report
from gensandbox.reports.chart import Point, cost_vs_score_svg
from gensandbox.store import RunRecord, SampleRecord, SQLiteStore

MODELS = [
    {"name": "cheap-good", "origin": "domestic", "weights": "open", "prompt_style": "chat",
     "price": {"per_compute_hour_usd": 0.1, "source": "table"}},
    {"name": "pricey-good", "origin": "foreign", "weights": "closed", "prompt_style": "chat",
     "price": {"per_million_input_tokens_usd": 1, "per_million_output_tokens_usd": 2, "source": "toml"}},
    {"name": "base-<b>", "origin": "foreign", "weights": "open", "prompt_style": "completion",
     "price": {"per_compute_hour_usd": 0.1, "source": "table"}},
]


def sample(model, item, score, cost, category="knowledge", language="en") -> SampleRecord:
    return SampleRecord(run_id="r", model=model, suite="s", item_id=item, category=category, language=language,
                        request={}, response_text="a", finish_reason="stop", input_tokens=3, output_tokens=1,
                        latency_s=0.2, cost_usd=cost, score=score, scorer={"name": "exact"}, reason="")


def make_view(tmp_path):
    run = RunRecord(run_id="r", created_at="2026-11-29T00:00:00+00:00", status="finished", models=MODELS,
                    suites=[{"name": "s", "items": 4, "license": "Apache-2.0"}], settings={"seed": 0})
    samples = []
    for n in range(4):
        lang = "ko" if n % 2 else "en"
        samples.append(sample("cheap-good", f"i{n}", 1.0 if n < 3 else 0.0, 0.001, language=lang))
        samples.append(sample("pricey-good", f"i{n}", 1.0, 0.01, category="reading", language=lang))
        samples.append(sample("base-<b>", f"i{n}", 0.0 if n < 3 else 1.0, 0.002, language=lang))
    store = SQLiteStore(tmp_path / "g.db")
    store.create_run(run)
    for one in samples:
        store.add_sample(one)
    return build_view(run, store)


def test_leaderboard_is_sorted_by_measured_score_only(tmp_path):
    view = make_view(tmp_path)
    assert [row.key[0] for row in view.overall] == ["pricey-good", "cheap-good", "base-<b>"]


def test_frontier_has_the_cheap_and_the_best_but_not_the_dominated(tmp_path):
    on = {p.label: p.on_frontier for p in make_view(tmp_path).points}
    assert on == {"pricey-good": True, "cheap-good": True, "base-<b>": False}


def test_category_and_language_breakdowns(tmp_path):
    view = make_view(tmp_path)
    assert view.by_category.columns == ["knowledge", "reading"]
    cells = dict(view.by_category.rows)
    assert cells["pricey-good"][0] is None and cells["pricey-good"][1].score == 1.0
    assert view.by_language.columns == ["en", "ko"]


def test_html_is_self_contained_escaped_and_marks_base_models(tmp_path):
    html = render_report(make_view(tmp_path))
    assert "<svg" in html and 'class="frontier"' in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "no network resources"
    assert "base-&lt;b&gt;" in html and "base-<b>" not in html
    assert "base model, completion-style" in html
    assert "sorted by measured score only" in html
    assert "s (4 items)" in html
    for name in ("cheap-good", "pricey-good"):
        assert name in html


def test_chart_without_scores_explains_itself():
    assert "nothing to plot" in cost_vs_score_svg([], "t")


def test_chart_uses_a_log_axis_when_costs_differ_by_orders_of_magnitude():
    points = [Point("a", 0.0001, 0.5, 0.4, 0.6, 0.1, False, True, True),
              Point("b", 1.0, 0.9, 0.8, 1.0, 0.1, True, False, True)]
    svg = cost_vs_score_svg(points, "t")
    xs = [float(x) for x in re.findall(r'<circle cx="([\d.]+)" cy="[\d.]+" r="7"', svg)]
    assert len(xs) == 2 and xs[1] - xs[0] > 300  # both visible, far apart
