"""Does a variant help? The variant and its base (or the variant re-based on each of several models) run as one
evaluation, then compared item by item: over all items, per category and per language, with the paired
statistics of runner/compare.py. Here, not in variants/, because it needs the runner; variants/ sits below the
call layer so that a variant can be called like any model."""

from __future__ import annotations

from dataclasses import dataclass

from gensandbox.config import ROUTE_PREFIX, VARIANT_PREFIX, Config, VariantConfig
from gensandbox.errors import UserError
from gensandbox.runner.compare import PairedComparison, compare_models
from gensandbox.runner.plan import build_plan, judge_targets, options_from, run_record
from gensandbox.runner.scoring import ScoringContext
from gensandbox.runner.session import RunObserver, evaluate_plan
from gensandbox.runner.stats import SIGNIFICANCE
from gensandbox.store import ScoreRow, SQLStore

__all__ = ["GroupComparison", "compare_by_group", "compare_variant", "variant_pairs", "verdict"]


@dataclass(frozen=True)
class GroupComparison:
    group: str  # "all", "category: …" or "language: …"
    comparison: PairedComparison


def verdict(comparison: PairedComparison) -> str:
    """Helps or hurts only when the 95% CI excludes 0 and the permutation test agrees (p < 0.05): with a
    handful of items the bootstrap interval alone can exclude 0 by chance."""
    if comparison.p_value < SIGNIFICANCE and comparison.ci_low > 0:
        return "helps"
    if comparison.p_value < SIGNIFICANCE and comparison.ci_high < 0:
        return "hurts"
    return "no measurable difference"


def compare_by_group(rows: list[ScoreRow], variant: str, base: str) -> list[GroupComparison]:
    """variant − base over all items, then per category and per language (groups both scored)."""
    groups = [("all", rows)]
    for field in ("category", "language"):
        for value in sorted({getattr(r, field) for r in rows if r.model in (variant, base)}):
            groups.append((f"{field}: {value}", [r for r in rows if getattr(r, field) == value]))
    found = []
    for label, members in groups:
        try:
            found.append(GroupComparison(label, compare_models(members, variant, base)))
        except UserError:  # no item both answered in this group
            continue
    return found


def variant_pairs(variant: VariantConfig, models: list[str] | None) -> list[tuple[str, str]]:
    """(variant, base) to compare: on its own base, or re-based on each of --models."""
    if not models and variant.base.startswith(ROUTE_PREFIX):
        raise UserError(f"variant `{variant.name}` is based on the route `{variant.base}`; name the models to "
                        "compare it on with --models")
    own = VARIANT_PREFIX + variant.name
    return [(own if model == variant.base else f"{own}@{model}", model) for model in models or [variant.base]]


def compare_variant(config: Config, store: SQLStore, variant: VariantConfig, observer: RunObserver, *,
                    suites: list[str] | None = None, models: list[str] | None = None, run_id: str | None = None,
                    max_cost: float | None = None,
                    epochs: int | None = None) -> tuple[str, list[tuple[str, str, list[GroupComparison]]]]:
    """Run the pairs as one evaluation; returns the run and, per (variant, base) pair, its group comparisons."""
    pairs = variant_pairs(variant, models)
    options = options_from(config.file.run, epochs=epochs, max_cost_usd=max_cost)
    plan, prices = build_plan(config, [spec for pair in pairs for spec in pair], suites or config.file.run.suites,
                              options, run_id)
    judges = judge_targets(config, prices, config.file.run.judge, plan.suites)
    store.create_run(run_record(plan, prices, list(judges.values()), default_judge=config.file.run.judge))
    status = evaluate_plan(plan, store, config, ScoringContext(judges=judges, default_judge=config.file.run.judge),
                           observer)
    if status == "interrupted":
        raise KeyboardInterrupt
    rows = list(store.score_rows(plan.run_id))
    compared = []
    for variant_spec, base in pairs:
        groups = compare_by_group(rows, variant_spec, base)
        if not groups:
            raise UserError(f"{variant_spec} and {base} have no scored items in common in run {plan.run_id}")
        compared.append((variant_spec, base, groups))
    return plan.run_id, compared
