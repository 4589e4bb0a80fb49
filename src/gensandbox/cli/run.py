"""`gensandbox run` (and `--resume`): evaluate models on suites, through the run session (runner/session.py),
shown on the console with a progress bar, then the results table and the report. The engine is imported only
when a command runs, so `gensandbox --help` stays quick."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from gensandbox.cli.output import ConfigOption, console, errors, finite_usd

if TYPE_CHECKING:
    from gensandbox.config import Config
    from gensandbox.runner import RunPlan, ScoringContext
    from gensandbox.runner.ray.executor import RayOptions
    from gensandbox.runner.session import Evaluation
    from gensandbox.store import SampleRecord, SQLStore

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
    from gensandbox.runner.ray.executor import RayOptions
    from gensandbox.runner.session import Evaluation

    evaluation = Evaluation(
        models=split_names(models) or [], suites=split_names(suites) or [], run_id=run_id, resume=resume,
        max_cost_usd=max_cost, epochs=epochs, temperature=temperature, seed=seed,
        use_cache=False if no_cache else None, judge=judge,
        mutate=split_names(mutate) or [], sweep=sweep, limit=limit, sample=sample,
        on_cluster=RayOptions.from_cli(executor, ray_address, ray_workers))
    start_run(config_path, evaluation, report)


class ConsoleObserver:
    """Notes on stdout, warnings on stderr, and a progress bar while the calls run."""

    def note(self, message: str) -> None:
        console.print(message, markup=False)

    def warn(self, message: str) -> None:
        errors.print(message, markup=False)

    @contextmanager
    def progress(self, total: int, done: int) -> Iterator[Callable[[SampleRecord], None]]:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task("evaluating", total=total, completed=done)
            yield lambda sample: bar.update(task, advance=1, description=f"{sample.model} · {sample.suite}")


def start_run(config_path: Path | None, evaluation: Evaluation, report: Path | None) -> None:
    from gensandbox.config import load_config
    from gensandbox.runner.session import start_evaluation
    from gensandbox.store import open_store

    config = load_config(config_path)
    store = open_store(config)
    started = start_evaluation(config, store, evaluation, ConsoleObserver())
    if started is not None:  # None: a finished run, of which only missing ledger events were to be written
        plan, scoring = started
        evaluate(plan, store, config, scoring, report, evaluation.on_cluster)


def evaluate(plan: RunPlan, store: SQLStore, config: Config, scoring: ScoringContext,
             report: Path | None, on_cluster: RayOptions | None = None) -> None:
    """Run the session on the console, then print the results (shared by run, --resume, rerun and the holdout)."""
    from gensandbox.collector import tuned_gc
    from gensandbox.runner.session import evaluate_plan

    with tuned_gc():  # the plan is built: full collections scan only what the run makes
        status = evaluate_plan(plan, store, config, scoring, ConsoleObserver(), on_cluster)
    _print_results(plan, store, config, report)
    if status == "capped":
        errors.print(f"stopped at the cost cap (${plan.options.max_cost_usd:g}): items not yet run were left "
                     f"for later; continue with: gensandbox run --resume {plan.run_id} --max-cost HIGHER")
    if status not in ("finished", "capped"):
        raise typer.Exit(130)


def _print_results(plan: RunPlan, store: SQLStore, config: Config, report: Path | None) -> None:
    from gensandbox.cli.output import results_table, safety_table
    from gensandbox.runner import aggregate
    from gensandbox.runner.results import by_model_and_suite
    from gensandbox.runner.safety import refusal_rates

    run = store.get_run(plan.run_id)
    rows = aggregate(store.score_rows(plan.run_id), by_model_and_suite,
                     resamples=config.file.run.bootstrap_resamples)
    console.print(results_table(run, rows))
    has_refusal_items = any("refusal" in suite.scorers for suite in plan.suites)
    rates = refusal_rates(store.samples(plan.run_id)) if has_refusal_items else []
    if rates:
        console.print(safety_table(rates))
    for row in rows:
        if row.errors:
            first = next(s.error for s in store.samples(plan.run_id) if s.model == row.key[0] and s.error)
            errors.print(f"{row.key[0]} on {row.key[1]}: {row.errors} of {row.errors + row.n} items failed; "
                         f"first error: {first}")
    if report:
        from gensandbox.reports import build_view, write_report  # Jinja2 only when a report is asked for

        path = write_report(build_view(run, store), report)
        console.print(f"report: {path.resolve()}")
