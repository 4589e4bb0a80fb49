"""A run session, whoever starts it (the CLI, the dashboard, a test, a Python program): plan a new run or resume
one, check the estimate against the cost cap, execute with the ledger open, and end with the run's status.

What a person watching should see (the estimate, a resumed run's progress, the licences of public benchmark
files, progress per item) goes to a `RunObserver`; the library prints nothing itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Protocol

from gensandbox.calls.budget import Estimate, estimate_cost
from gensandbox.calls.targets import Target
from gensandbox.config import Config
from gensandbox.errors import GenSandboxError, UserError
from gensandbox.providers import PriceTable
from gensandbox.runner.agent_jobs import most_calls
from gensandbox.runner.benchmarks import LAYOUTS
from gensandbox.runner.cancellation import Cancellation
from gensandbox.runner.execute import RunPlan, execute, runs_on
from gensandbox.runner.plan import (
    build_plan,
    judge_targets,
    options_from,
    rebuild_plan,
    run_record,
    selection_of,
    spent_so_far,
)
from gensandbox.runner.ray.executor import RayOptions, on_ray
from gensandbox.runner.scoring import ScoringContext
from gensandbox.runner.selection import Selection
from gensandbox.store import RunRecord, SampleRecord, SQLStore

__all__ = ["Evaluation", "QuietObserver", "RunObserver", "evaluate_plan", "plan_evaluation", "remaining_estimate",
           "start_evaluation"]


@dataclass(frozen=True)
class Evaluation:
    """What to evaluate. Unset fields take gensandbox.toml's [run] settings."""

    models: list[str] = field(default_factory=list)
    suites: list[str] = field(default_factory=list)
    run_id: str | None = None
    resume: str | None = None  # continue this run exactly as it was
    max_cost_usd: float | None = None
    epochs: int | None = None
    temperature: float | None = None
    seed: int | None = None
    use_cache: bool | None = None
    judge: str | None = None
    mutate: list[str] = field(default_factory=list)
    sweep: str | None = None  # e.g. "reasoning=direct,step"
    limit: int | None = None  # the first N items of each suite
    sample: int | None = None  # N items of each suite drawn with the seed
    on_cluster: RayOptions | None = None  # None: model calls run in this process


class RunObserver(Protocol):
    def note(self, message: str) -> None:
        """A line for the person watching (the estimate, where the run is stored, a resumed run's progress)."""

    def warn(self, message: str) -> None:
        """A line about something to know (a licence, a note on a suite)."""

    def progress(self, total: int, done: int) -> AbstractContextManager[Callable[[SampleRecord], None]]:
        """While the run goes: called with each sample as it is stored."""


class QuietObserver:
    """Sees nothing: for programs that only want the result."""

    def note(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def progress(self, total: int, done: int) -> AbstractContextManager[Callable[[SampleRecord], None]]:
        return nullcontext(lambda sample: None)


def start_evaluation(config: Config, store: SQLStore, evaluation: Evaluation,
                     observer: RunObserver) -> tuple[RunPlan, ScoringContext] | None:
    """The plan of a new run (its record created in the store), or of the resumed one; None for a finished run
    whose missing ledger events were all it lacked."""
    if evaluation.resume:
        if evaluation.models or evaluation.suites or evaluation.run_id or evaluation.sweep or evaluation.limit \
                or evaluation.sample:
            raise UserError("--resume continues a run exactly as it was (its items too); drop --models, --suites, "
                            "--run-id, --sweep, --limit and --sample")
        resumed = _resumed_plan(config, store, evaluation.resume, evaluation.max_cost_usd, observer)
        if resumed is None:
            return None
        plan, judges = resumed
    else:
        plan, judges = _new_plan(config, store, evaluation)
    default_judge = evaluation.judge or config.file.run.judge or store.get_run(plan.run_id).settings[
        "manifest"].get("default_judge")
    return plan, ScoringContext(judges=judges, default_judge=default_judge)


def plan_evaluation(config: Config, evaluation: Evaluation) -> tuple[RunPlan, PriceTable]:
    """A new run's plan, every model and suite resolved, nothing stored yet (the estimate shown before a start is
    made from it too)."""
    options = options_from(config.file.run, temperature=evaluation.temperature, epochs=evaluation.epochs,
                           seed=evaluation.seed, use_cache=evaluation.use_cache,
                           max_cost_usd=evaluation.max_cost_usd)
    model_names = evaluation.models or config.file.run.models
    if evaluation.sweep:
        from gensandbox.runner.sweeps import expand_models, parse_sweep

        model_names = expand_models(model_names, parse_sweep(evaluation.sweep))
    selection = None
    if evaluation.limit or evaluation.sample:  # a sample is drawn with the run's seed: --seed, or [run] seed
        selection = Selection(limit=evaluation.limit) if evaluation.limit else Selection(
            sample=evaluation.sample, seed=options.seed)
    return build_plan(config, model_names, evaluation.suites or config.file.run.suites, options, evaluation.run_id,
                      mutators=evaluation.mutate, selection=selection)


def _new_plan(config: Config, store: SQLStore, evaluation: Evaluation):
    plan, prices = plan_evaluation(config, evaluation)
    judges = judge_targets(config, prices, evaluation.judge or config.file.run.judge, plan.suites)
    record = run_record(plan, prices, list(judges.values()), default_judge=evaluation.judge)
    if evaluation.on_cluster is not None:  # where it ran, for the record; results do not depend on it
        record = replace(record, settings={**record.settings, "executor": evaluation.on_cluster.record()})
    store.create_run(record)
    return plan, judges


def _resumed_plan(config: Config, store: SQLStore, run_id: str, max_cost: float | None, observer: RunObserver):
    record = store.get_run(run_id)
    reemitted = _reemit_missing_events(config, store, record, observer)
    if record.status == "finished":
        if reemitted:
            observer.note(f"run {run_id} had already finished: nothing more to run")
            return None
        raise UserError(f"run `{run_id}` already finished; `gensandbox rerun {run_id}` repeats it as a new run")
    plan, prices, judges = rebuild_plan(config, record, run_id, max_cost_usd=max_cost)
    store.set_run_status(run_id, "running")
    observer.note(f"resuming run {run_id}: {store.count_samples(run_id)} of {plan.total} items already done")
    return plan, judges


def _reemit_missing_events(config: Config, store: SQLStore, record: RunRecord, observer: RunObserver) -> int:
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
        observer.note(f"ledger: wrote the call events of {count} stored samples that had none (the run was "
                      "stopped after storing them, before its ledger caught up)")
    return count


def evaluate_plan(plan: RunPlan, store: SQLStore, config: Config, scoring: ScoringContext, observer: RunObserver,
                  on_cluster: RayOptions | None = None, cancellation: Cancellation | None = None) -> str:
    """Check the estimate, run with the ledger open, and store the run's status (returned): finished, capped,
    interrupted (Ctrl-C, or `cancellation` cancelled from another thread; finished items are kept) or failed
    (raised)."""
    _warn_licenses(plan, observer)
    already_spent = spent_so_far(store, plan.run_id)
    _check_estimate(plan, store, config, already_spent, observer)
    epochs = f" × {plan.options.epochs} epochs" if plan.options.epochs > 1 else ""
    observer.note(f"run id: {plan.run_id}  ({len(plan.targets)} models × {len(plan.suites)} suites{epochs} = "
                  f"{plan.total} calls; store {store.location})")
    if selection := selection_of(plan):
        observer.note(selection.describe())
    from gensandbox.ledger.writer import open_ledger

    ledger = open_ledger(config)
    try:
        with _calls_on(plan, scoring, config, on_cluster, observer) as (calling_plan, calling_scoring):
            status = _execute(calling_plan, store, calling_scoring, already_spent, ledger, observer, cancellation)
    finally:
        ledger.close()  # signs the chain head: this run's calls are covered by a checkpoint
    store.set_run_status(plan.run_id, status)
    return status


@contextmanager
def _calls_on(plan: RunPlan, scoring: ScoringContext, config: Config, on_cluster: RayOptions | None,
              observer: RunObserver):
    """Where the model calls run: in this process, or on Ray workers (everything else stays here)."""
    if on_cluster is None:
        yield plan, scoring
        return
    with on_ray(plan, scoring, config, on_cluster) as ray_run:
        observer.note(ray_run.describe(on_cluster))
        yield ray_run.plan, ray_run.scoring


def _check_estimate(plan: RunPlan, store: SQLStore, config: Config, already_spent: float,
                    observer: RunObserver) -> None:
    cap = plan.options.max_cost_usd
    if cap is None:
        return
    estimate = remaining_estimate(plan, config, store.done_keys(plan.run_id))
    observer.note(f"estimate: at most ${estimate.usd:.6f} for {estimate.calls} calls ({estimate.prompt_tokens:,} "
                  f"prompt tokens, ≤ {estimate.max_output_tokens:,} output tokens); cap ${cap:g}"
                  + (f", ${already_spent:.6f} already spent" if already_spent else ""))
    if already_spent + estimate.usd > cap:
        store.set_run_status(plan.run_id, "refused")
        raise UserError(f"the estimate (${already_spent + estimate.usd:.6f}) is above --max-cost ${cap:g}; "
                        "raise the cap, or run fewer models, suites or epochs")


def remaining_estimate(plan: RunPlan, config: Config, done: set, targets: list[Target] | None = None) -> Estimate:
    """The most the items not yet `done` can cost (of `targets`, default all): what --max-cost is checked against."""
    from gensandbox.providers import load_price_table

    compute = load_price_table(config.price_file).compute
    return estimate_cost(plan.jobs_for(plan.targets if targets is None else targets, done), plan.request_for,
                         (compute.assumed_prompt_tokens_per_s, compute.assumed_output_tokens_per_s),
                         calls_for=lambda job: most_calls(job.item))


def _execute(plan: RunPlan, store: SQLStore, scoring: ScoringContext, already_spent: float, ledger,
             observer: RunObserver, cancellation: Cancellation | None = None) -> str:
    with observer.progress(plan.total, store.count_samples(plan.run_id)) as advance:
        try:
            outcome = asyncio.run(_execute_then_close(plan, store, scoring, advance, already_spent, ledger,
                                                      cancellation))
        except (KeyboardInterrupt, asyncio.CancelledError) as stopped:
            if isinstance(stopped, asyncio.CancelledError) and not (cancellation and cancellation.requested):
                raise
            observer.warn(f"{'cancelled' if cancellation and cancellation.requested else 'interrupted'}: finished "
                          f"items are kept; continue with: gensandbox run --resume {plan.run_id}")
            return "interrupted"
        except GenSandboxError:
            store.set_run_status(plan.run_id, "failed")
            raise
    return outcome.status


async def _execute_then_close(plan, store, scoring, on_sample, already_spent, ledger, cancellation=None):
    """One event loop for the calls and the clean-up: HTTP connections belong to the loop that made them."""
    try:
        if cancellation is not None:
            cancellation.attach()
        return await execute(plan, store, cache=store, on_sample=on_sample, scoring=scoring,
                             already_spent=already_spent, ledger=ledger)
    finally:
        if cancellation is not None:
            cancellation.detach()  # closing the connections is not to be cut short
        for target in [*plan.targets, *scoring.judges.values(), *plan.users.values()]:
            await target.provider.aclose()


def _warn_licenses(plan: RunPlan, observer: RunObserver) -> None:
    for suite in plan.suites:
        for target in plan.targets:
            if not runs_on(suite, target):  # said, not silently left out
                observer.warn(f"suite {suite.name} is not run on {target.model.name}: its {suite.agent_items} agent "
                              "tasks need a model that can call tools, and this one cannot")
        if suite.layout in LAYOUTS:  # a public benchmark's file: say how it was read and under which licence
            observer.warn(f"suite {suite.name}: read as {LAYOUTS[suite.layout].title} ({suite.layout} layout) "
                          f"from {suite.path.name}; licence {suite.license}")
        if suite.license_note:
            observer.warn(f"note: suite {suite.name} is under {suite.license}: {suite.license_note}")
