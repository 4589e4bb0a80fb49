"""What `gensandbox run` shows: the run session (runner/session.py) on the console, with a progress bar, then the
results table and the report. Kept apart from the command's signature so that `gensandbox --help` never imports
the engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gensandbox.cli.output import console, errors, results_table, safety_table
from gensandbox.config import Config, load_config
from gensandbox.runner import RunPlan, ScoringContext, aggregate
from gensandbox.runner.ray.executor import RayOptions
from gensandbox.runner.results import by_model_and_suite
from gensandbox.runner.safety import refusal_rates
from gensandbox.runner.session import Evaluation, evaluate_plan, start_evaluation
from gensandbox.store import SampleRecord, Store, open_store


class ConsoleObserver:
    """Notes on stdout, warnings on stderr, and a progress bar while the calls run."""

    def note(self, message: str) -> None:
        console.print(message, markup=False)

    def warn(self, message: str) -> None:
        errors.print(message, markup=False)

    @contextmanager
    def progress(self, total: int, done: int) -> Iterator[Callable[[SampleRecord], None]]:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task("evaluating", total=total, completed=done)
            yield lambda sample: bar.update(task, advance=1, description=f"{sample.model} · {sample.suite}")


def start_run(config_path: Path | None, evaluation: Evaluation, report: Path | None) -> None:
    config = load_config(config_path)
    store = open_store(config)
    started = start_evaluation(config, store, evaluation, ConsoleObserver())
    if started is not None:  # None: a finished run, of which only missing ledger events were to be written
        plan, scoring = started
        evaluate(plan, store, config, scoring, report, evaluation.on_cluster)


def evaluate(plan: RunPlan, store: Store, config: Config, scoring: ScoringContext,
             report: Path | None, on_cluster: RayOptions | None = None) -> None:
    """Run the session on the console, then print the results (shared by run, --resume, rerun and the audits)."""
    status = evaluate_plan(plan, store, config, scoring, ConsoleObserver(), on_cluster)
    _print_results(plan, store, config, report)
    if status == "capped":
        errors.print(f"stopped at the cost cap (${plan.options.max_cost_usd:g}): items not yet run were left "
                     f"for later; continue with: gensandbox run --resume {plan.run_id} --max-cost HIGHER")
    if status not in ("finished", "capped"):
        raise typer.Exit(130)


def _print_results(plan: RunPlan, store: Store, config: Config, report: Path | None) -> None:
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
