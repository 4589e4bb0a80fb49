"""Repeat a run from its manifest (same models, suite files, options and seeds; the models are called again),
say whether every score came out the same, and judge two models' answers of a run pairwise."""

from __future__ import annotations

from gensandbox.calls.models import resolve_model
from gensandbox.calls.targets import target_for
from gensandbox.config import Config, ModelConfig
from gensandbox.ledger.writer import open_ledger
from gensandbox.providers import load_price_table
from gensandbox.runner.execute import RunPlan
from gensandbox.runner.pairwise import PairwiseResult, judge_pairs, pairs_from
from gensandbox.runner.plan import new_run_id, rebuild_plan, run_record
from gensandbox.runner.scoring import ScoringContext
from gensandbox.store import RunRecord, SQLStore

__all__ = ["judge_run_pairs", "pairwise_summary", "plan_rerun", "same_scores_line"]


def plan_rerun(config: Config, store: SQLStore, run_id: str,
               new_id: str | None = None) -> tuple[RunPlan, ScoringContext]:
    """The new run's plan (its record created), repeating `run_id` without the response cache."""
    original = store.get_run(run_id)
    plan, prices, judges = rebuild_plan(config, original, new_id or new_run_id(), use_cache=False)
    default_judge = original.settings["manifest"].get("default_judge")
    store.create_run(run_record(plan, prices, list(judges.values()), default_judge=default_judge))
    return plan, ScoringContext(judges=judges, default_judge=default_judge)


def same_scores_line(store: SQLStore, first: str, second: str) -> str:
    def scores(run: str) -> dict:
        return {(r.model, r.suite, r.item_id, r.epoch): r.score for r in store.score_rows(run)}

    before, after = scores(first), scores(second)
    shared = before.keys() & after.keys()
    differing = sorted(key for key in shared if before[key] != after[key])
    if not differing and len(shared) == len(before) == len(after):
        return f"reproduced: all {len(shared)} scores are identical to run {first}"
    examples = ", ".join(f"{m}/{s}/{i}" for m, s, i, _ in differing[:5])
    return (f"not identical: {len(differing)} of {len(shared)} shared items scored differently"
            + (f" (e.g. {examples})" if examples else "")
            + (f"; {len(before) - len(shared)} items only in {first}" if len(before) > len(shared) else ""))


async def judge_run_pairs(config: Config, store: SQLStore, run: RunRecord, first: str, second: str, judge: str,
                          rubric: str | None) -> PairwiseResult:
    """`judge` compares the two models' answers to each item of the run, in both orders; its calls are on the
    ledger, durable before this returns."""
    prices = load_price_table(config.price_file)
    definitions = {m["name"]: m for m in run.settings["manifest"]["model_definitions"]}
    first_model, second_model = (ModelConfig.model_validate(definitions[name]) for name in (first, second))
    targets = [target_for(m, config, prices) for m in (resolve_model(judge, config), first_model, second_model)]
    ledger = open_ledger(config)  # the judge's calls are on the record, durable before the verdict is printed
    try:
        return await judge_pairs(pairs_from(store.samples(run.run_id), first, second), *targets, rubric=rubric,
                                 ledger=ledger, run_id=run.run_id)
    finally:
        ledger.close()  # flushes, and signs the chain head over these events
        for target in targets:
            await target.provider.aclose()


def pairwise_summary(result: PairwiseResult) -> str:
    judged = max(result.judged, 1)
    line = (f"judge {result.judge}, both orders on {result.judged} items: {result.first} preferred "
            f"{result.first_wins / judged:.0%}, {result.second} {result.second_wins / judged:.0%}, ties "
            f"{result.ties / judged:.0%} (of which the verdict flipped with the order: {result.inconsistent})")
    if result.failed:
        line += f"; {result.failed} items could not be judged"
    if result.same_family:
        line += f"; warning: {result.judge} is from the same vendor family as a model it judged"
    return line
