"""`gensandbox run` (and `--resume`): evaluate models on suites."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from gensandbox.cli.output import ConfigOption, finite_usd

LIMIT_HELP = "Only the first N items of each suite, for a quick look before a full run."
SAMPLE_HELP = "Only N items of each suite, drawn at random with --seed: the same items for the same seed."


def run(
    ctx: typer.Context,
    config_path: ConfigOption = None,
    models: Annotated[str | None, typer.Option("--models", "-m", help="Comma-separated model names "
                                               "(see `gensandbox models`).")] = None,
    suites: Annotated[str | None, typer.Option("--suites", "-s", help="Comma-separated suites: names, "
                                               ".jsonl/.csv/.yaml paths or LAYOUT:PATH.")] = None,
    run_id: Annotated[str | None, typer.Option("--run-id", help="Name this run (default: time-based).")] = None,
    resume: Annotated[str | None, typer.Option("--resume", help="Continue this interrupted run.")] = None,
    max_cost: Annotated[float | None, typer.Option("--max-cost", min=0.0, help="Refuse to start, or stop, "
                                                   "before spending more than this many USD.",
                                                   callback=finite_usd)] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", min=1, help="Repeat every item N times.")] = None,
    temperature: Annotated[float | None, typer.Option("--temperature", min=0.0, max=2.0)] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Base seed; epoch k uses seed + k.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Call models even for answers "
                                           "already in the response cache.")] = False,
    judge: Annotated[str | None, typer.Option("--judge", help="Model that grades judge-scored items.")] = None,
    mutate: Annotated[str | None, typer.Option("--mutate", help="Add red-team variants: homoglyphs, spacing, "
                                               "jamo, roleplay, language-switch.")] = None,
    sweep: Annotated[str | None, typer.Option("--sweep", help="Run every model under several settings, e.g. "
                                              "reasoning=direct,step,vote-3 or reasoning=effort:low,effort:high "
                                              "(also budget:TOKENS, max_tokens:TOKENS).")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Also write the HTML report here.")] = None,
    executor: Annotated[Literal["local", "ray"], typer.Option("--executor", help="Where model calls run: this "
                                                             "process, or Ray workers.")] = "local",
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="Join this Ray cluster (default: "
                                                    "start a local instance).")] = None,
    ray_workers: Annotated[int | None, typer.Option("--ray-workers", min=1, help="Ray workers (default: 2 "
                                                    "locally, one per node on a cluster).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, metavar="N", help=LIMIT_HELP)] = None,
    sample: Annotated[int | None, typer.Option("--sample", min=1, metavar="N", help=SAMPLE_HELP)] = None,
) -> None:
    """Evaluate models on suites: score with 95% CI, latency, tokens and cost per model and suite."""
    if limit is not None and sample is not None:
        ctx.fail("--limit and --sample cannot be used together: take the first N items or a sample of N")
    from gensandbox.cli.output import split_names
    from gensandbox.cli.running import start_run
    from gensandbox.runner.ray.executor import RayOptions
    from gensandbox.runner.session import Evaluation

    evaluation = Evaluation(
        models=split_names(models) or [], suites=split_names(suites) or [], run_id=run_id, resume=resume,
        max_cost_usd=max_cost, epochs=epochs, temperature=temperature, seed=seed,
        use_cache=False if no_cache else None, judge=judge,
        mutate=split_names(mutate) or [], sweep=sweep, limit=limit, sample=sample,
        on_cluster=RayOptions.from_cli(executor, ray_address, ray_workers))
    start_run(config_path, evaluation, report)
