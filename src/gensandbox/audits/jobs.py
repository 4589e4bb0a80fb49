"""Audits started, watched and saved from a long-lived server process, as runner/jobs.py does for evaluations: a
switching-cost audit on a suite, or a self-preference audit, each on a thread of its own with its progress in
memory; when it ends, `on_saved(audit_id)` lets the caller record which project owns it."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from gensandbox.audits.self_preference import PARTS, AuditOptions, run_self_preference, title_for
from gensandbox.audits.switching import audit_switching
from gensandbox.config import Config
from gensandbox.errors import GenSandboxError, NotFoundError
from gensandbox.runner.job_state import JobState, Progress, failure_message
from gensandbox.runner.jobs import JobObserver
from gensandbox.store import open_store
from gensandbox.store.audits import AuditStore

log = logging.getLogger("gensandbox.jobs")
Saved = Callable[[str], None]


class _Stages:
    """A self-preference audit's progress (one count per stage: answering, judging, recommending)."""

    def __init__(self, state: JobState):
        self.state = state

    def start(self, label: str, total: int) -> None:
        self.state.set_stage(label, total)

    def advance(self) -> None:
        self.state.advance()


class AuditJobs:
    """One server process's audits: one at a time (they call models as evaluations do), the rest wait."""

    def __init__(self, max_running: int = 1):
        self._pool = ThreadPoolExecutor(max_workers=max_running, thread_name_prefix="gensandbox-audit")
        self._states: dict[str, JobState] = {}
        self._lock = threading.Lock()

    def start_switching(self, config: Config, current: str, alternatives: list[str], suite: str, *,
                        max_items: int = 200, max_cost: float | None = None, on_saved: Saved | None = None) -> str:
        def work(state: JobState) -> None:
            def saved(audit_id: str) -> None:
                state.end("finished", None, audit_id)
                if on_saved is not None:
                    on_saved(audit_id)

            audit_switching(config, current, alternatives, suite=suite, max_items=max_items, max_cost=max_cost,
                            observer=JobObserver(state, 5), on_saved=saved)

        return self._submit(work)

    def start_self_preference(self, config: Config, models: list[str], *, judges: list[str] | None = None,
                              parts: tuple[str, ...] = ("judge", "recommendation"), questions: int = 6,
                              on_saved: Saved | None = None) -> str:
        options = AuditOptions(list(judges or []), list(models), None, tuple(p for p in parts if p in PARTS),
                               None, questions, 1)

        def work(state: JobState) -> None:
            store = open_store(config)
            try:
                result = run_self_preference(config, store, options, _Stages(state))
                record = AuditStore(store).save("self-preference", title_for(result), result)
            finally:
                store.close()
            state.end("finished", None, record.audit_id)
            if on_saved is not None:
                on_saved(record.audit_id)

        return self._submit(work)

    def progress(self, job_id: str) -> Progress:
        with self._lock:
            state = self._states.get(job_id)
        if state is None:
            raise NotFoundError(f"no audit job `{job_id}` here")
        return state.snapshot()

    def shutdown(self) -> None:
        for state in list(self._states.values()):
            state.cancel()
        self._pool.shutdown(wait=True)

    def _submit(self, work: Callable[[JobState], None]) -> str:
        job_id = f"audit-job-{secrets.token_hex(4)}"
        state = JobState(job_id)
        with self._lock:
            self._states[job_id] = state
        self._pool.submit(self._run, state, work)
        return job_id

    @staticmethod
    def _run(state: JobState, work: Callable[[JobState], None]) -> None:
        if not state.begin():
            return
        try:
            work(state)
            if not state.ended:  # the audit stopped without saving (e.g. interrupted)
                state.end("cancelled", "the audit stopped before it finished")
        except KeyboardInterrupt:
            state.end("cancelled", "the audit was cancelled")
        except Exception as error:  # noqa: BLE001 - this audit ends; the server goes on
            if not isinstance(error, GenSandboxError):
                log.exception("audit job %s failed", state.job_id)
            state.end("failed", failure_message(error))
