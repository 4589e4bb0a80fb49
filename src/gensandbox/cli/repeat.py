"""`gensandbox rerun` and `gensandbox compare`: repeat a run exactly, and test a difference (runner/repeat.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gensandbox.cli.output import ConfigOption, console


def rerun(
    run_id: Annotated[str, typer.Argument(help="The run to repeat.")],
    new_run_id_option: Annotated[str | None, typer.Option("--run-id", help="Name the new run.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Also write the HTML report here.")] = None,
    config_path: ConfigOption = None,
) -> None:
    """Repeat a run from its manifest (same models, suite files, options, seeds; models are called again)
    and say whether every score came out the same."""
    from gensandbox.cli.output import load
    from gensandbox.cli.run import evaluate
    from gensandbox.runner.repeat import plan_rerun, same_scores_line

    config, store = load(config_path)
    plan, scoring = plan_rerun(config, store, run_id, new_run_id_option)
    console.print(f"repeating run {run_id} as {plan.run_id}")
    evaluate(plan, store, config, scoring, report)
    console.print(same_scores_line(store, run_id, plan.run_id))


def compare(
    run_id: Annotated[str, typer.Argument(help="The run holding both models.")],
    first: Annotated[str, typer.Argument(help="A model in that run.")],
    second: Annotated[str, typer.Argument(help="Another model in that run.")],
    suite: Annotated[str | None, typer.Option("--suite", help="Only this suite's items.")] = None,
    judge: Annotated[str | None, typer.Option("--judge", help="Also ask this model which answer is better, "
                                              "in both orders.")] = None,
    rubric: Annotated[str | None, typer.Option("--rubric", help="What the judge should prefer.")] = None,
    config_path: ConfigOption = None,
) -> None:
    """Paired comparison of two models on the same items: difference, 95% CI and permutation-test p-value;
    with --judge, a pairwise judgement in both orders."""
    import asyncio

    from gensandbox.cli.output import load
    from gensandbox.runner import compare_models
    from gensandbox.runner.repeat import judge_run_pairs, pairwise_summary

    config, store = load(config_path)
    run = store.get_run(run_id)
    result = compare_models(store.score_rows(run_id), first, second, suite)
    console.print(f"{first}: {result.first_score:.1%}   {second}: {result.second_score:.1%}")
    console.print(result.sentence())
    if judge:
        pairwise = asyncio.run(judge_run_pairs(config, store, run, first, second, judge, rubric))
        console.print(pairwise_summary(pairwise))
