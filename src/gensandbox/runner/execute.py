"""Running a plan: every model × suite × item, concurrency limited per endpoint, results streamed
to the store one committed row at a time (an interrupted run keeps what it finished)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

from gensandbox.config import ModelConfig
from gensandbox.errors import RunError, UserError
from gensandbox.providers import Provider
from gensandbox.runner.scorers import build_scorer
from gensandbox.runner.suite import Item, Suite
from gensandbox.store import SampleRecord, Store
from gensandbox.types import ChatRequest, Price


@dataclass(frozen=True)
class Job:
    model: ModelConfig
    suite: Suite
    item: Item


@dataclass(frozen=True)
class Target:
    """A model ready to call: its definition, a connected provider, its price, its concurrency."""

    model: ModelConfig
    provider: Provider
    price: Price
    concurrency: int


@dataclass(frozen=True)
class RunPlan:
    run_id: str
    targets: list[Target]
    suites: list[Suite]
    max_tokens: int

    def jobs(self) -> Iterator[Job]:
        for target in self.targets:
            for suite in self.suites:
                for item in suite.items:
                    yield Job(target.model, suite, item)

    @property
    def total(self) -> int:
        return len(self.targets) * sum(len(s.items) for s in self.suites)


async def execute(
    plan: RunPlan, store: Store, on_sample: Callable[[SampleRecord], None] = lambda sample: None
) -> None:
    """Run every job. A failed call is recorded and the run goes on; a UserError stops the run."""
    targets = {t.model.name: t for t in plan.targets}
    queues = _queues_by_endpoint(plan, targets)

    async def worker(queue: asyncio.Queue[Job]) -> None:
        while not queue.empty():
            job = queue.get_nowait()
            sample = await run_job(plan, targets[job.model.name], job)
            store.add_sample(sample)
            on_sample(sample)

    try:
        async with asyncio.TaskGroup() as group:
            for queue, concurrency in queues:
                for _ in range(concurrency):
                    group.create_task(worker(queue))
    except* UserError as errors:
        raise errors.exceptions[0] from None


def _queues_by_endpoint(plan: RunPlan, targets: dict[str, Target]) -> list[tuple[asyncio.Queue, int]]:
    """One queue per endpoint, drained by as many workers as its strictest model allows."""
    queues: dict[str, asyncio.Queue[Job]] = {}
    limits: dict[str, int] = {}
    for job in plan.jobs():
        target = targets[job.model.name]
        endpoint = target.provider.endpoint
        queues.setdefault(endpoint, asyncio.Queue()).put_nowait(job)
        limits[endpoint] = min(limits.get(endpoint, target.concurrency), target.concurrency)
    return [(queue, limits[endpoint]) for endpoint, queue in queues.items()]


async def run_job(plan: RunPlan, target: Target, job: Job) -> SampleRecord:
    request = ChatRequest(
        model=target.model.provider_model_id,
        messages=job.item.chat_messages(),
        max_tokens=job.item.max_tokens or plan.max_tokens,
    )
    scorer_record = job.item.scorer.model_dump()
    common = dict(
        run_id=plan.run_id, model=target.model.name, suite=job.suite.name, item_id=job.item.id,
        category=job.item.category, language=job.item.language, request=_request_record(request),
        scorer=scorer_record,
    )
    try:
        response = await target.provider.complete(request)
    except RunError as error:
        return SampleRecord(**common, response_text=None, finish_reason=None, input_tokens=0,
                            output_tokens=0, latency_s=None, cost_usd=0.0, score=None, reason="",
                            error=str(error))
    score = await build_scorer(job.item.scorer.name, job.item.scorer.args)(response.text, job.item.target)
    return SampleRecord(
        **common, response_text=response.text, finish_reason=response.finish_reason,
        input_tokens=response.usage.input_tokens, output_tokens=response.usage.output_tokens,
        latency_s=response.latency_s, cost_usd=target.price.cost_usd(response.usage, response.latency_s),
        score=score.value, reason=score.reason,
    )


def _request_record(request: ChatRequest) -> dict:
    record = asdict(request)
    record["messages"] = [asdict(m) for m in request.messages]
    record["stop"] = list(request.stop)
    return record
