"""The report's view-model: from a run record and its stored rows to everything a page shows.

Every step streams the run's rows from the store again rather than holding them: a 100,000-sample run
costs a few passes over narrow rows, and only the chosen samples of the browser are read in full.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from gensandbox.reports.samples import SAMPLE_LIMIT, SampleSelection, load_selection
from gensandbox.reports.significance import paired_comparisons, top_models
from gensandbox.runner import agent_metrics as agents
from gensandbox.runner.compare import PairedComparison
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

# What build_view reports to its `progress` callback, in order; a progress bar's total is len(STEPS).
STEPS = ("leaderboard", "per suite", "per category", "per language", "paired tests", "sample browser")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Matrix:
    """Scores of each model (rows) in each group (columns), e.g. categories or languages."""

    columns: list[str]
    rows: list[tuple[str, list[Aggregate | None]]]


@dataclass(frozen=True)
class FrontierPoint:
    model: str
    cost_usd: float
    score: float
    ci_low: float
    ci_high: float
    latency_p50_s: float
    origin: str  # domestic | foreign | unknown
    weights: str  # open | closed | unknown
    completion_style: bool
    on_frontier: bool


@dataclass(frozen=True)
class AgentSection:
    """The agent tasks of a run: metrics per model (ranked like the leaderboard) and per suite, their cost–success
    frontier, and the models probed by risk items (items with an `attack`)."""

    per_model: list[agents.AgentMetrics]
    per_suite: dict[str, list[agents.AgentMetrics]]
    points: list[FrontierPoint]
    epochs: int

    @property
    def probed(self) -> list[agents.AgentMetrics]:
        return [row for row in self.per_model if row.attack_tries]

    @property
    def frontier_models(self) -> list[str]:
        return [p.model for p in sorted(self.points, key=lambda p: p.cost_usd) if p.on_frontier]


@dataclass(frozen=True)
class ReportView:
    run: RunRecord
    models: dict[str, dict]
    overall: list[Aggregate]
    per_suite: dict[str, list[Aggregate]]
    by_category: Matrix
    by_language: Matrix
    points: list[FrontierPoint]
    comparisons: list[PairedComparison]
    samples: SampleSelection
    resamples: int = 2000
    audits: list = field(default_factory=list)  # AuditRecords that name this run
    reasoning: list = field(default_factory=list)  # ReasoningMetrics per model, when the run swept reasoning
    agents: AgentSection | None = None  # when the run has agent tasks

    def is_completion_style(self, model: str) -> bool:
        return self.models.get(model, {}).get("prompt_style") == "completion"

    @property
    def scored(self) -> list[Aggregate]:
        return [row for row in self.overall if row.score == row.score]

    @property
    def rank_of(self) -> dict[str, int]:
        return {row.key[0]: rank for rank, row in enumerate(self.scored, 1)}

    @property
    def frontier_models(self) -> list[str]:
        return [p.model for p in sorted(self.points, key=lambda p: p.cost_usd) if p.on_frontier]

    @property
    def compared_models(self) -> list[str]:
        return top_models(self.overall)


def build_view(run: RunRecord, store: Store, *, resamples: int = 2000, sample_limit: int = SAMPLE_LIMIT,
               progress: Progress | None = None) -> ReportView:
    """`progress`, when given, is called with each name in STEPS as that step starts."""
    step = progress or (lambda _name: None)

    def rows():
        return store.score_rows(run.run_id)

    def breakdown(name: str, key) -> list[Aggregate]:
        step(name)
        return aggregate(rows(), key, resamples=resamples)

    models = {m["name"]: m for m in run.models}
    overall = ranked(breakdown("leaderboard", by_model))
    per_suite = group_by_suite(breakdown("per suite", by_model_and_suite))
    by_category = matrix(breakdown("per category", by_model_and_category), overall)
    by_language = matrix(breakdown("per language", by_model_and_language), overall)
    step("paired tests")
    comparisons = paired_comparisons(rows(), top_models(overall), resamples=resamples)
    for variant, base in variant_pairs(run, {row.key[0] for row in overall}):
        if not any({c.first, c.second} == {variant, base} for c in comparisons):
            comparisons += paired_comparisons(rows(), [variant, base], resamples=resamples)
    step("sample browser")
    tries: list[agents.AgentTry] = []  # gathered while the browser's samples stream past: no pass of its own
    selection = load_selection(run, agents.agent_tries(store.samples(run.run_id), tries), rows(), sample_limit)
    return ReportView(run=run, models=models, overall=overall, per_suite=per_suite, by_category=by_category,
                      by_language=by_language, points=frontier_points(overall, models), comparisons=comparisons,
                      samples=selection, resamples=resamples, audits=run_audits(store, run.run_id),
                      reasoning=reasoning_rows(run, lambda: store.samples(run.run_id)),
                      agents=agent_section(tries, run, models, resamples))


def agent_section(tries: list[agents.AgentTry], run: RunRecord, models: dict[str, dict],
                  resamples: int) -> AgentSection | None:
    """The agent metrics of the tries gathered from the run's samples; None for a run without agent tasks."""
    if not tries:
        return None
    epochs = int((run.settings or {}).get("epochs") or 1)

    def by_rank(rows: list[agents.AgentMetrics]) -> list[agents.AgentMetrics]:
        return sorted(rows, key=lambda r: _rank_key(r.success, r.cost_usd, r.key))

    per_model = by_rank(agents.agent_metrics(tries, epochs, agents.by_model, resamples=resamples))
    per_suite: dict[str, list[agents.AgentMetrics]] = {}
    for row in agents.agent_metrics(tries, epochs, resamples=resamples):
        per_suite.setdefault(row.key[1], []).append(row)
    points = points_of([(r.model, r.cost_usd, r.success, r.ci_low, r.ci_high, r.latency_p50_s) for r in per_model],
                       models)
    return AgentSection(per_model, {suite: by_rank(rows) for suite, rows in per_suite.items()}, points, epochs)


def variant_pairs(run: RunRecord, models: set[str]) -> list[tuple[str, str]]:
    """(variant, its base) for each variant in the run whose base model ran too: a customisation is always
    shown against the model it customises, whatever their ranks."""
    pairs = []
    for definition in run.settings.get("manifest", {}).get("model_definitions", []):
        spec = definition.get("variant")
        if not spec or definition["name"] not in models:
            continue
        name = definition["name"]
        base = name.partition("@")[2] or spec["definition"]["base"]  # variant:NAME@MODEL is re-based on MODEL
        if base in models:
            pairs.append((name, base))
    return pairs


def reasoning_rows(run: RunRecord, samples) -> list:
    """Thinking costs per model, for a run with reasoning settings (a sweep); nothing for any other run. Full
    samples are streamed once: the narrow score rows lack the time to the first answer token."""
    from gensandbox.providers.regimes import SWEEP_MARK
    from gensandbox.runner.reasoning_metrics import reasoning_metrics

    if not any(SWEEP_MARK in model["name"] for model in run.models):
        return []
    order = {model["name"]: index for index, model in enumerate(run.models)}  # the sweep's order, not the alphabet's
    return sorted(reasoning_metrics(samples()), key=lambda m: order.get(m.model, len(order)))


def run_audits(store: Store, run_id: str) -> list:
    """The audits made with this run (a switching audit's evaluation, a held-out custody run). Only the SQL
    stores (SQLite, PostgreSQL) keep audits; another store has none to show."""
    from gensandbox.store import SQLStore
    from gensandbox.store.audits import AuditStore

    if not isinstance(store, SQLStore):
        return []
    return [audit for audit in AuditStore(store).list() if audit.result.get("run_id") == run_id]


def ranked(rows: list[Aggregate]) -> list[Aggregate]:
    """Neutral order: measured score first (unscored last), then cheaper first, then name for stable ties.
    Nothing about a model (vendor, origin, weights) enters the order."""
    return sorted(rows, key=lambda r: _rank_key(r.score, r.cost_usd, r.key))


def _rank_key(score: float, cost_usd: float, key: tuple) -> tuple:
    return (score != score, -(score if score == score else 0), cost_usd, key)


def group_by_suite(rows: list[Aggregate]) -> dict[str, list[Aggregate]]:
    per_suite: dict[str, list[Aggregate]] = {}
    for row in rows:
        per_suite.setdefault(row.key[1], []).append(row)
    return {suite: ranked(suite_rows) for suite, suite_rows in per_suite.items()}


def matrix(rows: list[Aggregate], order: list[Aggregate]) -> Matrix:
    columns = sorted({row.key[1] for row in rows})
    cells = {row.key: row for row in rows}
    models = [row.key[0] for row in order]
    return Matrix(columns, [(m, [cells.get((m, c)) for c in columns]) for m in models])


def frontier_points(overall: list[Aggregate], models: dict[str, dict]) -> list[FrontierPoint]:
    return points_of([(row.key[0], row.cost_usd, row.score, row.ci_low, row.ci_high, row.latency_p50_s)
                      for row in overall], models)


def points_of(entries: list[tuple[str, float, float, float, float, float]],
              models: dict[str, dict]) -> list[FrontierPoint]:
    """Points of a cost–quality chart from (model, cost, score, ci_low, ci_high, p50 latency); unscored models are
    left out."""
    scored = [entry for entry in entries if entry[2] == entry[2]]
    on_frontier = set(pareto_frontier([(cost, score) for _, cost, score, *_ in scored]))
    return [
        FrontierPoint(
            model=model, cost_usd=cost, score=score, ci_low=low, ci_high=high, latency_p50_s=latency,
            origin=models.get(model, {}).get("origin") or "unknown",
            weights=models.get(model, {}).get("weights") or "unknown",
            completion_style=models.get(model, {}).get("prompt_style") == "completion",
            on_frontier=index in on_frontier,
        )
        for index, (model, cost, score, low, high, latency) in enumerate(scored)
    ]
