"""What a store keeps: runs and one sample per model call. Backends implement `Store`."""

from __future__ import annotations

from collections.abc import Iterator
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


class Store(Protocol):
    def create_run(self, run: RunRecord) -> None: ...

    def add_sample(self, sample: SampleRecord) -> None: ...

    def finish_run(self, run_id: str, status: str) -> None: ...

    def get_run(self, run_id: str) -> RunRecord: ...

    def list_runs(self) -> list[RunRecord]: ...

    def samples(self, run_id: str) -> Iterator[SampleRecord]: ...
