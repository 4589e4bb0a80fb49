"""A background job's progress, kept in memory: written by the job's thread as it goes, read by any thread.

Every reader gets a frozen `Progress` made under one short lock (a few counters and a handful of items copied), so
twenty people polling every second cost nothing next to the run itself, and nobody reads the store for it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from gensandbox.errors import GenSandboxError
from gensandbox.runner.cancellation import Cancellation
from gensandbox.store import SampleRecord

__all__ = ["ENDED", "STATUSES", "FinishedItem", "JobState", "Progress", "failure_message"]

STATUSES = ("queued", "running", "finished", "capped", "cancelled", "failed")
ENDED = frozenset({"finished", "capped", "cancelled", "failed"})
NOTES_KEPT = 20


@dataclass(frozen=True)
class FinishedItem:
    model: str
    suite: str
    item_id: str
    epoch: int
    score: float | None
    error: str | None
    latency_s: float | None
    cost_usd: float

    @classmethod
    def of(cls, sample: SampleRecord) -> FinishedItem:
        return cls(sample.model, sample.suite, sample.item_id, sample.epoch, sample.score, sample.error,
                   sample.latency_s, _spent(sample))


@dataclass(frozen=True)
class Progress:
    id: str  # the run id (an audit job's id for audits)
    status: str  # queued, running, finished, capped, cancelled, failed
    done: int  # items finished, those of earlier sessions of a resumed run included
    total: int  # 0 until the plan is made
    cost_usd: float  # money spent so far: calls made (not cached answers) and judge calls
    errors: int  # items whose call failed, or that could not be scored, in this session
    elapsed_s: float  # since the job left the queue (0 while queued); frozen when it ends
    recent: tuple[FinishedItem, ...]  # the last few finished items, newest last
    notes: tuple[str, ...]  # what the CLI would have printed (the estimate, licences, a stage), newest last
    message: str | None = None  # why it failed, or how to continue a cancelled run
    stage: str = ""  # an audit's current part (answering, judging, …)
    result_id: str | None = None  # an audit's saved result, once it has finished

    @property
    def ended(self) -> bool:
        return self.status in ENDED


def _spent(sample: SampleRecord) -> float:
    """What a sample cost this time: an answer from the cache costs nothing again, its judge call does."""
    return (0.0 if sample.cached else sample.cost_usd) + (sample.judge_cost_usd or 0.0)


def failure_message(error: BaseException) -> str:
    """A failure in the user's terms: our errors say what went wrong and how to fix it; anything else is named
    without its traceback (which goes to the server's log)."""
    if isinstance(error, GenSandboxError):
        return str(error)
    return f"unexpected error ({type(error).__name__}: {error}); the server's log has the details"


class JobState:
    def __init__(self, job_id: str):
        self.job_id = job_id
        self.cancellation = Cancellation()
        self._lock = threading.Lock()
        self._status, self._message, self._stage, self._result_id = "queued", None, "", None
        self._done = self._total = self._errors = 0
        self._cost = 0.0
        self._began: float | None = None
        self._ended_after: float | None = None
        self._recent: deque[FinishedItem] = deque(maxlen=5)
        self._notes: deque[str] = deque(maxlen=NOTES_KEPT)

    @property
    def ended(self) -> bool:
        return self._status in ENDED

    def begin(self) -> bool:
        """The job leaves the queue; False if it was cancelled while it waited (it is then over)."""
        with self._lock:
            if self._status != "queued":
                return False
            self._status, self._began = "running", time.monotonic()
            return True

    def cancel(self) -> None:
        with self._lock:
            if self._status in ENDED:
                return
            if self._status == "queued":  # never started: nothing to stop, nothing stored
                self._status, self._ended_after, self._message = "cancelled", 0.0, "cancelled before it started"
        self.cancellation.cancel()

    def end(self, status: str, message: str | None = None, result_id: str | None = None) -> None:
        with self._lock:
            self._status, self._message, self._result_id = status, message, result_id
            self._ended_after = time.monotonic() - self._began if self._began is not None else 0.0

    def set_total(self, total: int, done: int) -> None:
        with self._lock:
            self._total, self._done = total, done

    def set_stage(self, stage: str, total: int) -> None:
        """An audit's next part: its own count of calls."""
        with self._lock:
            self._stage, self._total, self._done = stage, total, 0

    def advance(self) -> None:
        with self._lock:
            self._done += 1

    def add_cost(self, usd: float) -> None:
        with self._lock:
            self._cost += usd

    def add_sample(self, item: FinishedItem, keep: int) -> None:
        with self._lock:
            if self._recent.maxlen != keep:
                self._recent = deque(self._recent, maxlen=keep)
            self._done += 1
            self._cost += item.cost_usd
            self._errors += item.error is not None
            self._recent.append(item)

    def add_note(self, message: str) -> None:
        with self._lock:
            self._notes.append(message)

    def snapshot(self) -> Progress:
        with self._lock:
            if self._ended_after is not None:
                elapsed = self._ended_after
            else:
                elapsed = 0.0 if self._began is None else time.monotonic() - self._began
            return Progress(self.job_id, self._status, self._done, self._total, self._cost, self._errors, elapsed,
                            tuple(self._recent), tuple(self._notes), self._message, self._stage, self._result_id)
