"""Evaluations started, watched and cancelled from a long-lived server process (the workbench's engine).

`estimate` gives the numbers a person sees before starting (the same worst case `gensandbox run --max-cost` checks).
`RunJobs` runs each evaluation through the run session (runner/session.py), exactly as `gensandbox run` does, on a
thread of its own with its own store connection; at most `max_running` at once, later ones wait in order. Progress
is kept in memory as samples are stored, so a dashboard can poll it every second without touching the store. A
cancelled run keeps its finished samples and is stored as `interrupted`, like a CLI run stopped with Ctrl-C:
`gensandbox run --resume RUN_ID` continues it. A run that fails ends with its error's message, and the server goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields

from gensandbox.config import Config
from gensandbox.errors import GenSandboxError, NotFoundError, UserError
from gensandbox.runner.execute import runs_on
from gensandbox.runner.job_state import FinishedItem, JobState, Progress, failure_message
from gensandbox.runner.plan import new_run_id, spent_so_far
from gensandbox.runner.session import Evaluation, plan_evaluation, remaining_estimate, start_evaluation
from gensandbox.store import SampleRecord, open_store

__all__ = ["Estimate", "FinishedItem", "ModelEstimate", "Progress", "RunJob", "RunJobs", "estimate"]

log = logging.getLogger("gensandbox.jobs")


# ---- the estimate before a start ----


@dataclass(frozen=True)
class ModelEstimate:
    model: str
    items: int  # items × epochs this model answers
    calls: int  # model calls at most (an agent task counts as its most steps)
    usd: float  # worst case: every answer as long as max_tokens
    priced_by: str  # "tokens", "compute" (a local model: its time at the price table's assumed speeds) or "unpriced"
    price_source: str  # where the price came from (a price table, gensandbox.toml), or how to add one


@dataclass(frozen=True)
class Estimate:
    models: list[ModelEstimate]
    items: int
    calls: int
    usd: float

    @property
    def unpriced(self) -> list[str]:
        """Models with no price: their calls are counted as free, so the total understates what they cost."""
        return [m.model for m in self.models if m.priced_by == "unpriced"]


def estimate(config: Config, models: list[str], suites: list[str], **settings) -> Estimate:
    """The most a run of `models` on `suites` can cost, per model and in total. `suites`: built-in names, names
    from gensandbox.toml, or suite file paths. `settings`: Evaluation's (epochs, limit, sample, mutate, sweep, …)."""
    plan, _ = plan_evaluation(config, _evaluation(models, suites, settings))
    per_model = []
    for target in plan.targets:
        worst = remaining_estimate(plan, config, set(), [target])
        items = sum(suite.count for suite in plan.suites if runs_on(suite, target)) * plan.options.epochs
        per_model.append(ModelEstimate(target.model.name, items, worst.calls, worst.usd, _priced_by(target.price),
                                       target.price.source))
    return Estimate(per_model, sum(m.items for m in per_model), sum(m.calls for m in per_model),
                    sum(m.usd for m in per_model))


def _priced_by(price) -> str:
    if price.per_compute_hour_usd:
        return "compute"
    if price.per_million_input_tokens_usd or price.per_million_output_tokens_usd:
        return "tokens"
    return "unpriced"


def _evaluation(models: list[str], suites: list[str], settings: dict) -> Evaluation:
    unknown = set(settings) - {f.name for f in fields(Evaluation)} | ({"models", "suites"} & set(settings))
    if unknown:
        raise UserError(f"unknown run settings: {', '.join(sorted(unknown))}; the settings are "
                        + ", ".join(f.name for f in fields(Evaluation) if f.name not in ("models", "suites")))
    return Evaluation(models=list(models), suites=list(suites), **settings)


# ---- runs in the background ----


class RunJob:
    """One evaluation started by a RunJobs: its run id at once, its progress while it goes."""

    def __init__(self, run_id: str, evaluation: Evaluation):
        self.run_id, self.evaluation = run_id, evaluation
        self.state = JobState(run_id)

    def progress(self) -> Progress:
        return self.state.snapshot()


class RunJobs:
    """The evaluations of one server process. `max_running` run at once ([serve] concurrent_runs); more wait."""

    def __init__(self, max_running: int = 2, recent: int = 5):
        if max_running < 1:
            raise UserError(f"concurrent runs must be at least 1, not {max_running}")
        self._pool = ThreadPoolExecutor(max_workers=max_running, thread_name_prefix="gensandbox-run")
        self._jobs: dict[str, RunJob] = {}
        self._lock = threading.Lock()
        self._recent = recent

    def start(self, config: Config, models: list[str], suites: list[str], *, max_cost_usd: float | None,
              on_started: Callable[[str], None] | None = None, **settings) -> RunJob:
        """Queue a run and return at once with its id. `on_started(run_id)` is called on the run's thread right
        after the run is created in the store, before any model is called; if it raises, the run fails unrun.
        `settings`: Evaluation's other fields (run_id, epochs, temperature, seed, use_cache, judge, limit, …)."""
        evaluation = _evaluation(models, suites, {**settings, "max_cost_usd": max_cost_usd})
        run_id = evaluation.resume or evaluation.run_id or new_run_id()
        if not evaluation.resume:
            evaluation = Evaluation(**{**{f.name: getattr(evaluation, f.name) for f in fields(Evaluation)},
                                       "run_id": run_id})
        job = RunJob(run_id, evaluation)
        with self._lock:
            if run_id in self._jobs and not self._jobs[run_id].state.ended:
                raise UserError(f"run `{run_id}` is already queued or running here")
            self._jobs[run_id] = job
        self._pool.submit(self._run, job, config, on_started)
        return job

    def get(self, run_id: str) -> RunJob:
        with self._lock:
            job = self._jobs.get(run_id)
        if job is None:
            raise NotFoundError(f"no run `{run_id}` was started by this server")
        return job

    def jobs(self) -> list[RunJob]:
        """Every run started here, oldest first."""
        with self._lock:
            return list(self._jobs.values())

    def progress(self, run_id: str) -> Progress:
        return self.get(run_id).progress()

    def cancel(self, run_id: str) -> Progress:
        """Stop the run: a queued one never starts; a running one stops within about a second, keeping what
        finished (resumable with `gensandbox run --resume`). Cancelling an ended run changes nothing."""
        job = self.get(run_id)
        job.state.cancel()
        return job.progress()

    def shutdown(self, wait: bool = True) -> None:
        """Cancel every run (the server is stopping) and, with `wait`, wait until each has saved what it has."""
        for job in self.jobs():
            job.state.cancel()
        self._pool.shutdown(wait=wait)

    def _run(self, job: RunJob, config: Config, on_started: Callable[[str], None] | None) -> None:
        state = job.state
        if not state.begin():  # cancelled while it waited
            return
        store, created = None, False
        try:
            store = open_store(config)
            started = start_evaluation(config, store, job.evaluation, JobObserver(state, self._recent))
            if started is None:  # a resumed run that had already finished
                state.end("finished")
                return
            plan, scoring = started
            created = True
            if job.evaluation.resume:
                state.add_cost(spent_so_far(store, plan.run_id))
            elif on_started is not None:
                on_started(plan.run_id)
            from gensandbox.runner.session import evaluate_plan

            status = evaluate_plan(plan, store, config, scoring, JobObserver(state, self._recent),
                                   job.evaluation.on_cluster, cancellation=state.cancellation)
            state.end(*_ending(status, plan))
        except Exception as error:  # noqa: BLE001 - whatever it was, this run ends and the server goes on
            if not isinstance(error, GenSandboxError):
                log.exception("run %s failed", job.run_id)
            state.end("failed", failure_message(error))
            if created and store is not None:
                _mark_failed(store, job.run_id)
        finally:
            if store is not None:
                store.close()


def _ending(status: str, plan) -> tuple[str, str | None]:
    """The job's status and what to tell the person watching (the same advice the CLI prints)."""
    if status == "interrupted":
        return "cancelled", ("cancelled: finished items are kept; continue with: gensandbox run --resume "
                             f"{plan.run_id}")
    if status == "capped":
        return "capped", (f"stopped at the cost cap (${plan.options.max_cost_usd:g}): items not yet run were left for "
                          f"later; continue with: gensandbox run --resume {plan.run_id} --max-cost HIGHER")
    return status, None


def _mark_failed(store, run_id: str) -> None:
    """Left `running`, the run would look alive forever; `failed` can still be resumed."""
    try:
        if store.get_run(run_id).status == "running":
            store.set_run_status(run_id, "failed")
    except Exception:  # noqa: BLE001 - the store may be what failed; the job's status says so already
        log.exception("could not mark run %s failed", run_id)


class JobObserver:
    """The run session's observer: notes kept for the person watching, each stored sample counted in memory."""

    def __init__(self, state: JobState, recent: int):
        self.state, self.recent = state, recent

    def note(self, message: str) -> None:
        self.state.add_note(message)

    def warn(self, message: str) -> None:
        self.state.add_note(message)

    def progress(self, total: int, done: int):
        from contextlib import nullcontext

        self.state.set_total(total, done)
        return nullcontext(self._finished)

    def _finished(self, sample: SampleRecord) -> None:
        self.state.add_sample(FinishedItem.of(sample), self.recent)
