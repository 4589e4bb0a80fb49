"""What `gensandbox run` does once its options are parsed: plan, estimate, execute, report.

Kept apart from the command's signature so that `gensandbox --help` never imports the engine.
"""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gensandbox.cli.output import console, errors, results_table, safety_table, split_names
from gensandbox.config import Config, load_config
from gensandbox.errors import GenSandboxError, UserError
from gensandbox.runner import RunPlan, ScoringContext, aggregate, build_plan, execute, run_record
from gensandbox.runner.benchmarks import LAYOUTS
from gensandbox.runner.budget import estimate_cost
from gensandbox.runner.plan import judge_targets, options_from, rebuild_plan, selection_of, spent_so_far
from gensandbox.runner.ray_executor import RayOptions, on_ray
from gensandbox.runner.results import by_model_and_suite
from gensandbox.runner.safety import refusal_rates
from gensandbox.runner.selection import Selection
from gensandbox.store import RunRecord, SampleRecord, SQLiteStore, open_store


def start_run(config_path: Path | None, models: str | None, suites: str | None, run_id: str | None,
              resume: str | None, max_cost: float | None, epochs: int | None, temperature: float | None,
              seed: int | None, no_cache: bool, judge: str | None, mutate: str | None,
              report: Path | None, executor: str = "local", ray_address: str | None = None,
              ray_workers: int | None = None, sweep: str | None = None, limit: int | None = None,
              sample: int | None = None) -> None:
    on_cluster = RayOptions.from_cli(executor, ray_address, ray_workers)
    config = load_config(config_path)
    store = open_store(config)
    if resume:
        if models or suites or run_id or sweep or limit or sample:
            raise UserError("--resume continues a run exactly as it was (its items too); drop --models, --suites, "
                            "--run-id, --sweep, --limit and --sample")
        resumed = _resumed_plan(config, store, resume, max_cost)
        if resumed is None:
            return  # a finished run: only its missing ledger events were to be written
        plan, judges = resumed
    else:
        options = options_from(config.file.run, temperature=temperature, epochs=epochs, seed=seed,
                               use_cache=False if no_cache else None, max_cost_usd=max_cost)
        model_names = split_names(models) or config.file.run.models
        if sweep:
            from gensandbox.runner.sweeps import expand_models, parse_sweep

            model_names = expand_models(model_names, parse_sweep(sweep))
        selection = None
        if limit or sample:  # a sample is drawn with the run's seed: --seed, or [run] seed
            selection = Selection(limit=limit) if limit else Selection(sample=sample, seed=options.seed)
        plan, prices = build_plan(config, model_names,
                                  split_names(suites) or config.file.run.suites, options, run_id,
                                  mutators=split_names(mutate) or [], selection=selection)
        judges = judge_targets(config, prices, judge or config.file.run.judge, plan.suites)
        record = run_record(plan, prices, list(judges.values()), default_judge=judge)
        if on_cluster is not None:  # where it ran, for the record; results do not depend on it
            record = replace(record, settings={**record.settings, "executor": on_cluster.record()})
        store.create_run(record)
    default_judge = judge or config.file.run.judge or store.get_run(plan.run_id).settings["manifest"].get(
        "default_judge")
    evaluate(plan, store, config, ScoringContext(judges=judges, default_judge=default_judge), report, on_cluster)


def _resumed_plan(config: Config, store: SQLiteStore, run_id: str, max_cost: float | None):
    """The plan to go on with, or None for a finished run whose missing ledger events were all it lacked."""
    record = store.get_run(run_id)
    reemitted = _reemit_missing_events(config, store, record)
    if record.status == "finished":
        if reemitted:
            console.print(f"run {run_id} had already finished: nothing more to run", markup=False)
            return None
        raise UserError(f"run `{run_id}` already finished; `gensandbox rerun {run_id}` repeats it as a new run")
    plan, prices, judges = rebuild_plan(config, record, run_id, max_cost_usd=max_cost)
    store.set_run_status(run_id, "running")
    console.print(f"resuming run [bold]{run_id}[/bold]: {store.count_samples(run_id)} of {plan.total} "
                  "items already done")
    return plan, judges


def _reemit_missing_events(config: Config, store: SQLiteStore, record: RunRecord) -> int:
    """Samples stored without their call event (the run was killed between the two writes) get it now: the
    resume skips their items, so nothing else would ever write it."""
    from gensandbox.ledger.writer import open_ledger
    from gensandbox.runner.run_events import reemit_missing

    ledger = open_ledger(config)
    try:
        count = reemit_missing(record, store, ledger)
    finally:
        ledger.close()  # signs the chain head over the events just written
    if count:
        console.print(f"ledger: wrote the call events of {count} stored samples that had none (the run was "
                      "stopped after storing them, before its ledger caught up)")
    return count


def evaluate(plan: RunPlan, store: SQLiteStore, config: Config, scoring: ScoringContext,
             report: Path | None, on_cluster: RayOptions | None = None) -> None:
    """Estimate, run with a progress bar, then print the results (shared by run, --resume and rerun)."""
    _print_licenses(plan)
    already_spent = spent_so_far(store, plan.run_id)
    _check_estimate(plan, store, config, already_spent)
    console.print(f"run id: [bold]{plan.run_id}[/bold]  ({len(plan.targets)} models × {len(plan.suites)} suites"
                  f"{f' × {plan.options.epochs} epochs' if plan.options.epochs > 1 else ''} = {plan.total} "
                  f"calls; store {store.location})")
    if selection := selection_of(plan):
        console.print(selection.describe(), markup=False)
    from gensandbox.ledger.writer import open_ledger

    ledger = open_ledger(config)
    try:
        with _calls_on(plan, scoring, config, on_cluster) as (calling_plan, calling_scoring):
            status = _execute_with_progress(calling_plan, store, calling_scoring, already_spent, ledger)
    finally:
        ledger.close()  # signs the chain head: this run's calls are covered by a checkpoint
    store.set_run_status(plan.run_id, status)
    _print_results(plan, store, config, report)
    if status == "capped":
        errors.print(f"stopped at the cost cap (${plan.options.max_cost_usd:g}): items not yet run were left "
                     f"for later; continue with: gensandbox run --resume {plan.run_id} --max-cost HIGHER")
    if status not in ("finished", "capped"):
        raise typer.Exit(130)


@contextmanager
def _calls_on(plan: RunPlan, scoring: ScoringContext, config: Config, on_cluster: RayOptions | None):
    """Where the model calls run: in this process, or on Ray workers (everything else stays here)."""
    if on_cluster is None:
        yield plan, scoring
        return
    with on_ray(plan, scoring, config, on_cluster) as ray_run:
        console.print(ray_run.describe(on_cluster))
        yield ray_run.plan, ray_run.scoring


def _check_estimate(plan: RunPlan, store: SQLiteStore, config: Config, already_spent: float) -> None:
    cap = plan.options.max_cost_usd
    if cap is None:
        return
    from gensandbox.providers import load_price_table

    compute = load_price_table(config.price_file).compute
    estimate = estimate_cost(plan.jobs_for(plan.targets, store.done_keys(plan.run_id)), plan.request_for,
                             (compute.assumed_prompt_tokens_per_s, compute.assumed_output_tokens_per_s))
    console.print(f"estimate: at most ${estimate.usd:.6f} for {estimate.calls} calls ({estimate.prompt_tokens:,} "
                  f"prompt tokens, ≤ {estimate.max_output_tokens:,} output tokens); cap ${cap:g}"
                  + (f", ${already_spent:.6f} already spent" if already_spent else ""))
    if already_spent + estimate.usd > cap:
        store.set_run_status(plan.run_id, "refused")
        raise UserError(f"the estimate (${already_spent + estimate.usd:.6f}) is above --max-cost ${cap:g}; "
                        "raise the cap, or run fewer models, suites or epochs")


def _execute_with_progress(plan: RunPlan, store, scoring: ScoringContext, already_spent: float, ledger) -> str:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("evaluating", total=plan.total, completed=store.count_samples(plan.run_id))

        def advance(sample: SampleRecord) -> None:
            progress.update(task, advance=1, description=f"{sample.model} · {sample.suite}")

        try:
            outcome = asyncio.run(_execute_then_close(plan, store, scoring, advance, already_spent, ledger))
        except KeyboardInterrupt:
            errors.print(f"interrupted: finished items are kept; continue with: gensandbox run --resume "
                         f"{plan.run_id}")
            return "interrupted"
        except GenSandboxError:
            store.set_run_status(plan.run_id, "failed")
            raise
    return outcome.status


async def _execute_then_close(plan, store, scoring, on_sample, already_spent, ledger):
    """One event loop for the calls and the clean-up: HTTP connections belong to the loop that made them."""
    try:
        return await execute(plan, store, cache=store, on_sample=on_sample, scoring=scoring,
                             already_spent=already_spent, ledger=ledger)
    finally:
        for target in [*plan.targets, *scoring.judges.values()]:
            await target.provider.aclose()


def _print_licenses(plan: RunPlan) -> None:
    for suite in plan.suites:
        if suite.layout in LAYOUTS:  # a public benchmark's file: say how it was read and under which licence
            errors.print(f"suite {suite.name}: read as {LAYOUTS[suite.layout].title} ({suite.layout} layout) from "
                         f"{suite.path.name}; licence {suite.license}", markup=False)
        if suite.license_note:
            errors.print(f"note: suite {suite.name} is under {suite.license}: {suite.license_note}", markup=False)


def _print_results(plan: RunPlan, store: SQLiteStore, config: Config, report: Path | None) -> None:
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

