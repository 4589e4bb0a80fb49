"""`gensandbox rerun` and `gensandbox compare`: repeat a run exactly, and test a difference."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gensandbox.cli.output import ConfigOption


def rerun(
    run_id: Annotated[str, typer.Argument(help="The run to repeat.")],
    new_run_id_option: Annotated[str | None, typer.Option("--run-id", help="Name the new run.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Also write the HTML report here.")] = None,
    config_path: ConfigOption = None,
) -> None:
    """Repeat a run from its manifest (same models, suite files, options, seeds; models are called again)
    and say whether every score came out the same."""
    from gensandbox.cli.repeating import repeat_run

    repeat_run(run_id, new_run_id_option, report, config_path)


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
    from gensandbox.cli.repeating import compare_runs

    compare_runs(run_id, first, second, suite, judge, rubric, config_path)
