"""Verifying the ledger from the dashboard: a job in a worker thread that counts the records it has checked,
so the page can show progress on a ledger that takes seconds or minutes to check."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gensandbox.ledger.signing import Signer
from gensandbox.ledger.verify import Verdict, verify_lines
from gensandbox.ledger.writer import open_backend
from gensandbox.ui.text import t

JOBS_KEPT = 20  # enough for a reloaded page to find its job; old ones go


@dataclass
class VerifyJob:
    job_id: str
    total: int | None = None  # the head's record number, once the ledger is open
    checked: int = 0
    verdict: Verdict | None = None
    failure: str | None = None

    @property
    def state(self) -> str:
        if self.failure is not None:
            return "failed"
        if self.verdict is None:
            return "running"
        return "ok" if self.verdict.ok else "bad"

    def as_json(self, lang: str) -> dict:
        return {"id": self.job_id, "state": self.state, "checked": self.checked, "total": self.total,
                "message": message(self, lang), "poll": f"/ledger/verify/{self.job_id}"}


class VerifyJobs:
    def __init__(self) -> None:
        self._jobs: OrderedDict[str, VerifyJob] = OrderedDict()
        self._lock = threading.Lock()

    def new(self) -> VerifyJob:
        job = VerifyJob(secrets.token_hex(8))
        with self._lock:
            self._jobs[job.job_id] = job
            while len(self._jobs) > JOBS_KEPT:
                self._jobs.popitem(last=False)
        return job

    def get(self, job_id: str) -> VerifyJob | None:
        with self._lock:
            return self._jobs.get(job_id)


def run_verification(job: VerifyJob, ledger_url: str, key_path: Path) -> None:
    """Runs in a worker thread. It records any failure on the job, since no caller is left to raise to and the
    page polling it must learn that it ended."""
    try:
        # Without this machine's key the chain is still checked; a dashboard never creates a key as a side effect.
        public_key = Signer.load_or_create(key_path).public_key if key_path.exists() else None
        backend = open_backend(ledger_url)
        try:
            job.total = backend.head().seq
            job.verdict = verify_lines(_counted(backend.lines(), job), public_key, require_signed_end=False)
        finally:
            backend.close()
    except Exception as error:  # reported on the page: see the docstring
        job.failure = f"{type(error).__name__}: {error}"


def _counted(lines: Iterable[bytes], job: VerifyJob) -> Iterator[bytes]:
    for line in lines:
        job.checked += 1
        yield line


def message(job: VerifyJob, lang: str) -> str:
    if job.failure is not None:
        return t(lang, "ledger.failed", error=job.failure)
    verdict = job.verdict
    if verdict is None and job.total is None:
        return t(lang, "ledger.starting")
    if verdict is None:
        return t(lang, "ledger.verifying", checked=f"{job.checked:,}", total=f"{job.total:,}")
    if not verdict.ok:
        return t(lang, "ledger.bad", record=verdict.first_bad, reason=verdict.reason,
                 before=f"{(verdict.first_bad or 1) - 1:,}")
    text = t(lang, "ledger.ok", records=f"{verdict.records:,}", checkpoints=f"{verdict.checkpoints:,}",
             head=verdict.head_hash[:16] + "…")
    if verdict.unsigned_tail:
        text += t(lang, "ledger.unsigned", count=f"{verdict.unsigned_tail:,}")
    if not verdict.signatures_checked:
        text += t(lang, "ledger.no_key")
    return text
