"""The report's view-model: pure functions from a run record and its samples to what a page shows."""

from __future__ import annotations

from dataclasses import dataclass

from gensandbox.reports.chart import Point
from gensandbox.runner.results import (
    Aggregate,
    aggregate,
    by_model,
    by_model_and_category,
    by_model_and_language,
    by_model_and_suite,
)
from gensandbox.runner.stats import pareto_frontier
from gensandbox.store import RunRecord, Store

RANKING_METHOD = (
    "Rows are sorted by measured score only (mean over scored items, errors excluded), then by lower cost. "
    "95% confidence intervals come from a percentile bootstrap over items (2,000 resamples, fixed seed). "
    "No model or vendor is favoured; overlapping intervals mean the difference is not established."
)


@dataclass(frozen=True)
class Matrix:
    """Scores of each model (rows) in each group (columns), e.g. categories or languages."""

    columns: list[str]
    rows: list[tuple[str, list[Aggregate | None]]]


@dataclass(frozen=True)
class ReportView:
    run: RunRecord
    models: dict[str, dict]
    overall: list[Aggregate]
    per_suite: dict[str, list[Aggregate]]
    by_category: Matrix
    by_language: Matrix
    points: list[Point]
    ranking_method: str = RANKING_METHOD

    def is_completion_style(self, model: str) -> bool:
        return self.models.get(model, {}).get("prompt_style") == "completion"


def build_view(run: RunRecord, store: Store, *, resamples: int = 2000) -> ReportView:
    """Each breakdown streams the run's rows again: nothing holds all samples in memory."""
    def rows():
        return store.score_rows(run.run_id)

    models = {m["name"]: m for m in run.models}
    overall = ranked(aggregate(rows(), by_model, resamples=resamples))
    per_suite: dict[str, list[Aggregate]] = {}
    for row in aggregate(rows(), by_model_and_suite, resamples=resamples):
        per_suite.setdefault(row.key[1], []).append(row)
    return ReportView(
        run=run,
        models=models,
        overall=overall,
        per_suite={suite: ranked(rows) for suite, rows in per_suite.items()},
        by_category=matrix(aggregate(rows(), by_model_and_category, resamples=resamples), overall),
        by_language=matrix(aggregate(rows(), by_model_and_language, resamples=resamples), overall),
        points=frontier_points(overall, models),
    )


def ranked(rows: list[Aggregate]) -> list[Aggregate]:
    """Neutral order: score first (unscored last), then cheaper first, then name for stable ties."""
    return sorted(rows, key=lambda r: (r.score != r.score, -(r.score if r.score == r.score else 0),
                                       r.cost_usd, r.key))


def matrix(rows: list[Aggregate], order: list[Aggregate]) -> Matrix:
    columns = sorted({row.key[1] for row in rows})
    cells = {row.key: row for row in rows}
    models = [row.key[0] for row in order]
    return Matrix(columns, [(m, [cells.get((m, c)) for c in columns]) for m in models])


def frontier_points(overall: list[Aggregate], models: dict[str, dict]) -> list[Point]:
    scored = [row for row in overall if row.score == row.score]
    on_frontier = set(pareto_frontier([(row.cost_usd, row.score) for row in scored]))
    return [
        Point(
            label=row.key[0],
            cost_usd=row.cost_usd,
            score=row.score,
            ci_low=row.ci_low,
            ci_high=row.ci_high,
            latency_p50_s=row.latency_p50_s,
            domestic=models.get(row.key[0], {}).get("origin") == "domestic",
            open_weights=models.get(row.key[0], {}).get("weights") != "closed",
            on_frontier=index in on_frontier,
        )
        for index, row in enumerate(scored)
    ]
