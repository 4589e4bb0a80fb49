"""What a store keeps: runs and one sample per model call. Backends implement `Store`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    created_at: str
    status: str  # running | finished | interrupted | failed
    models: list[dict]  # name, provider, vendor, origin, weights, license, prompt_style, price
    suites: list[dict]  # name, items, license, path
    settings: dict = field(default_factory=dict)  # max_tokens, price table version, versions
    finished_at: str | None = None


@dataclass(frozen=True)
class SampleRecord:
    run_id: str
    model: str
    suite: str
    item_id: str
    category: str
    language: str
    request: dict
    response_text: str | None
    finish_reason: str | None
    input_tokens: int
    output_tokens: int
    latency_s: float | None
    cost_usd: float
    score: float | None
    scorer: dict
    reason: str
    error: str | None = None
    epoch: int = 0
    attempts: int = 1
    cached: bool = False  # answered from the response cache: costs nothing this time
    served_model: str | None = None  # the model name the endpoint says answered
    flags: list[str] = field(default_factory=list)  # e.g. "judge-same-family"
    reasoning_text: str | None = None  # the model's thinking, kept apart from response_text (the answer)
    reasoning_tokens: int = 0  # the part of output_tokens spent reasoning (reported, or estimated)
    first_answer_s: float | None = None  # seconds to the first answer token, for streamed calls
    # The judge call that graded this answer (calls/records.py), kept with it so that its spending survives
    # a crash (a resumed run's cost cap counts it) and its ledger event can be rebuilt. None: no judge was called.
    judge_call: dict | None = None
    judge_cost_usd: float = 0.0  # judge_call's cost, as a column: spending is summed without reading JSON
    # An agent task's episode (runner/episode.py): every model call, tool call and simulated-user turn, the final
    # state, and counts. None for a single model call.
    episode: dict | None = None


@dataclass(frozen=True)
class ScoreRow:
    """The narrow view of a sample that statistics need; cheap to stream for very large runs."""

    model: str
    suite: str
    item_id: str
    category: str
    language: str
    epoch: int
    score: float | None
    latency_s: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    cached: bool
    error: str | None
    reasoning_tokens: int = 0
    judge_cost_usd: float = 0.0  # spent grading the answer (also when the answer came from the cache)


class Store(Protocol):
    """Runs and their samples. Each sample is durable once add_sample returns."""

    def create_run(self, run: RunRecord) -> None: ...

    def add_sample(self, sample: SampleRecord) -> None: ...

    def set_run_status(self, run_id: str, status: str) -> None: ...

    def get_run(self, run_id: str) -> RunRecord: ...

    def list_runs(self) -> list[RunRecord]: ...

    def samples(self, run_id: str) -> Iterator[SampleRecord]: ...

    def score_rows(self, run_id: str) -> Iterator[ScoreRow]: ...

    def done_keys(self, run_id: str) -> set[tuple[str, str, str, int]]: ...

    def transaction(self) -> AbstractContextManager[None]: ...


class ResponseCache(Protocol):
    """Answers already paid for, keyed by a hash of the canonical request."""

    def get(self, key: str) -> dict | None: ...

    def put(self, key: str, value: dict) -> None: ...
