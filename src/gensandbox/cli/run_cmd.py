"""`gensandbox run`: evaluate models on suites."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gensandbox.cli.output import console, errors, results_table
from gensandbox.config import load_config
from gensandbox.errors import GenSandboxError
from gensandbox.reports import build_view, write_report
from gensandbox.runner import aggregate, build_plan, execute, run_record
from gensandbox.runner.results import by_model_and_suite
from gensandbox.store import SampleRecord, SQLiteStore

MODELS_HELP = "Comma-separated model names (see `gensandbox models`)."
SUITES_HELP = "Comma-separated suite names or .jsonl paths (see `gensandbox suites`)."
RUN_ID_HELP = "Name this run (default: time-based)."
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="gensandbox.toml to read.")]


def split_names(value: str | None) -> list[str] | None:
    return [part.strip() for part in value.split(",") if part.strip()] if value else None


def run(
    config_path: ConfigOption = None,
    models: Annotated[str | None, typer.Option("--models", "-m", help=MODELS_HELP)] = None,
    suites: Annotated[str | None, typer.Option("--suites", "-s", help=SUITES_HELP)] = None,
    run_id: Annotated[str | None, typer.Option("--run-id", help=RUN_ID_HELP)] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Also write the HTML report here.")] = None,
) -> None:
    """Evaluate models on suites: score with 95% CI, latency, tokens and cost per model and suite."""
    config = load_config(config_path)
    plan, prices = build_plan(config, split_names(models) or config.file.run.models,
                              split_names(suites) or config.file.run.suites, run_id)
    store = SQLiteStore(config.database_path)
    record = run_record(plan, prices)
    store.create_run(record)
    console.print(f"run id: [bold]{plan.run_id}[/bold]  ({len(plan.targets)} models × "
                  f"{len(plan.suites)} suites = {plan.total} calls; store {config.database_path})")
    status = _execute_with_progress(plan, store)
    store.finish_run(plan.run_id, status)
    run_stored = store.get_run(plan.run_id)
    samples = list(store.samples(plan.run_id))
    console.print(results_table(run_stored, aggregate(samples, by_model_and_suite,
                                                      resamples=config.file.run.bootstrap_resamples)))
    _summarise_failures(samples)
    if report:
        path = write_report(build_view(run_stored, samples), report)
        console.print(f"report: {path.resolve()}")
    if status != "finished":
        raise typer.Exit(130)


def _execute_with_progress(plan, store) -> str:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("evaluating", total=plan.total)

        def advance(sample: SampleRecord) -> None:
            progress.update(task, advance=1, description=f"{sample.model} · {sample.suite}")

        try:
            asyncio.run(_execute_then_close(plan, store, advance))
        except KeyboardInterrupt:
            errors.print(f"interrupted: finished items are kept in run {plan.run_id}")
            return "interrupted"
        except GenSandboxError:
            store.finish_run(plan.run_id, "failed")
            raise
    return "finished"


async def _execute_then_close(plan, store, on_sample) -> None:
    """One event loop for the calls and the clean-up: HTTP connections belong to the loop that made them."""
    try:
        await execute(plan, store, on_sample)
    finally:
        for target in plan.targets:
            await target.provider.aclose()


def _summarise_failures(samples: list[SampleRecord]) -> None:
    failed: dict[str, list[SampleRecord]] = {}
    for sample in samples:
        if sample.error:
            failed.setdefault(sample.model, []).append(sample)
    for model, bad in failed.items():
        total = sum(1 for s in samples if s.model == model)
        errors.print(f"{model}: {len(bad)} of {total} calls failed; first error: {bad[0].error}")
