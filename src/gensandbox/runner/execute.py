"""Running a plan: every model × suite × item × epoch, streamed.

One producer per endpoint reads the suites lazily into a small bounded queue; as many workers as the
endpoint allows drain it. Memory therefore stays flat however large the suite. Each finished call is
committed to the store at once; items already in the store (a resumed run) are skipped; the budget
refuses a call that could break the cost cap, and the run then stops cleanly as `capped`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from aiolimiter import AsyncLimiter

from gensandbox.calls.budget import Budget, estimate_prompt_tokens, worst_case_cost
from gensandbox.calls.call import RetryPolicy, cached_call
from gensandbox.calls.records import judge_facts, sample_facts
from gensandbox.calls.targets import ModelFacts, Target
from gensandbox.canonical import now_utc
from gensandbox.errors import RunError, UserError
from gensandbox.ledger.events import CallFacts, ToolFacts
from gensandbox.ledger.writer import Ledger
from gensandbox.providers.capabilities import TOOLS
from gensandbox.runner.agent_jobs import CallSettings, run_agent_item
from gensandbox.runner.env_process import EnvironmentPool
from gensandbox.runner.scoring import ScoringContext, score_answer
from gensandbox.runner.suite import Item, Suite
from gensandbox.store import ResponseCache, SampleRecord, Store
from gensandbox.types import ChatRequest

# A finished job: its sample, the cache entries to store with it, and the facts of its model calls (and an agent's
# tool calls) for the ledger (none when the answer came from the cache: no model was called). A judge's call
# travels in the sample itself.
Finished = tuple[SampleRecord, list[tuple], list[CallFacts | ToolFacts]]


@dataclass(frozen=True)
class RunOptions:
    max_tokens: int = 96
    temperature: float = 0.0
    epochs: int = 1
    seed: int = 0
    use_cache: bool = True
    max_cost_usd: float | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True)
class Job:
    target: Target
    suite: Suite
    item: Item
    epoch: int


@dataclass(frozen=True)
class RunPlan:
    run_id: str
    targets: list[Target]
    suites: list[Suite]
    options: RunOptions = RunOptions()
    users: dict[str, Target] = field(default_factory=dict)  # models items name to play a simulated user

    @property
    def total(self) -> int:
        return sum(s.count for t in self.targets for s in self.suites if runs_on(s, t)) * self.options.epochs

    def jobs_for(self, targets: list[Target], done: set) -> Iterator[Job]:
        for target in targets:
            for suite in self.suites:
                if not runs_on(suite, target):
                    continue
                for item in suite.iter_items():
                    for epoch in range(self.options.epochs):
                        if (target.model.name, suite.name, item.id, epoch) not in done:
                            yield Job(target, suite, item, epoch)

    def request_for(self, job: Job) -> ChatRequest:
        return ChatRequest(
            model=job.target.model.provider_model_id,
            messages=job.item.chat_messages(),
            max_tokens=job.item.max_tokens or self.options.max_tokens,
            temperature=self.options.temperature,
            seed=self.options.seed + job.epoch,
            tools=tuple(tool.tool() for tool in job.item.tools),
        )


def runs_on(suite: Suite, target: Target) -> bool:
    """Whether `target` takes `suite`: a suite of agent tasks needs a model that can call tools."""
    return not suite.agent_items or TOOLS in target.provider.capabilities


@dataclass(frozen=True)
class RunOutcome:
    status: str  # finished | capped
    spent_usd: float


async def execute(
    plan: RunPlan,
    store: Store,
    *,
    cache: ResponseCache | None = None,
    on_sample: Callable[[SampleRecord], None] = lambda sample: None,
    scoring: ScoringContext | None = None,
    already_spent: float = 0.0,
    ledger: Ledger | None = None,
) -> RunOutcome:
    """Run every job not already in the store. Failed calls are recorded and the run goes on; a
    UserError stops it. `already_spent` counts toward the cap (a resumed run). Every model call (not an
    answer from the cache) also goes to `ledger`, appended right after the samples it belongs to are committed."""
    done = store.done_keys(plan.run_id)
    budget = Budget(plan.options.max_cost_usd, spent_usd=already_spent)
    scoring = scoring or ScoringContext()
    scoring.budget = budget  # judge calls spend from the same cap
    finished: asyncio.Queue[tuple[SampleRecord, tuple | None] | None] = asyncio.Queue()
    runner = _Runner(plan, cache if plan.options.use_cache else None, budget, scoring, finished, EnvironmentPool())
    try:
        async with asyncio.TaskGroup() as outer:
            outer.create_task(_record(finished, store, runner.cache, on_sample, ledger))
            try:
                async with asyncio.TaskGroup() as group:
                    for targets in _by_endpoint(plan.targets).values():
                        runner.start_endpoint(group, targets, done)
            finally:
                finished.put_nowait(None)
                await runner.environments.close()
    except* UserError as errors:
        raise errors.exceptions[0] from None
    return RunOutcome("capped" if budget.refused else "finished", budget.spent_usd - already_spent)


async def _record(finished: asyncio.Queue, store: Store, cache: ResponseCache | None,
                  on_sample: Callable[[SampleRecord], None], ledger: Ledger | None) -> None:
    """The one writer to the store. Workers hand finished samples over and go straight on to their next
    call; whatever has finished by the time the writer runs is committed together (answers tend to
    arrive in bursts), each sample with its cache entry. On cancellation what is queued is still saved."""
    done = False
    try:
        while not done:
            batch = [await finished.get()]
            while not finished.empty():
                batch.append(finished.get_nowait())
            done = batch[-1] is None
            saved = [item for item in batch if item is not None]
            _save(saved, store, cache, ledger)
            if ledger is not None and saved:
                # The ledger's commit waits for its fsync (full durability, ~4 ms): in a thread, as the gateway's
                # recorder does, so the workers' calls go on meanwhile instead of every one of them waiting.
                await asyncio.to_thread(ledger.flush)
            for sample, _, _ in saved:
                on_sample(sample)
    except asyncio.CancelledError:
        leftover = []
        while not finished.empty():
            leftover.append(finished.get_nowait())
        _save([item for item in leftover if item is not None], store, cache, ledger)
        if ledger is not None:
            ledger.flush()  # waits for a flush a cancelled to_thread left running, then writes the rest
        raise


def _save(batch: list[Finished], store: Store, cache: ResponseCache | None, ledger: Ledger | None) -> None:
    """Commit the batch's samples with their cache entries, then queue their ledger events (flushed by the caller)."""
    if not batch:
        return
    # Store first, then ledger: two databases, no transaction spans both. A crash in between leaves samples
    # without events, which `run --resume` repairs (runner/run_events.py); the other order would leave events of
    # calls whose samples are lost, and the resume would call them again: two events for one item.
    with store.transaction():
        for sample, cache_entries, _ in batch:
            store.add_sample(sample)
            for entry in cache_entries if cache is not None else ():
                cache.put(*entry)
    if ledger is not None:
        for sample, _, facts in batch:
            for fact in facts:
                if isinstance(fact, ToolFacts):
                    ledger.record_tool(fact)
                else:
                    ledger.record_call(fact)
            if (judged := judge_facts(sample)) is not None:  # the judge's call, also for an answer from the cache
                ledger.record_call(judged)


def _by_endpoint(targets: list[Target]) -> dict[str, list[Target]]:
    grouped: dict[str, list[Target]] = {}
    for target in targets:
        grouped.setdefault(target.provider.endpoint, []).append(target)
    return grouped


@dataclass
class _Runner:
    plan: RunPlan
    cache: ResponseCache | None
    budget: Budget
    scoring: ScoringContext
    finished: asyncio.Queue
    environments: EnvironmentPool  # the Python environments' processes, reused episode after episode

    def start_endpoint(self, group: asyncio.TaskGroup, targets: list[Target], done: set) -> None:
        """One producer and `concurrency` workers, sharing a rate limiter, for one endpoint."""
        concurrency = min(t.concurrency for t in targets)
        rpm = min((t.model.rpm for t in targets if t.model.rpm), default=None)
        # One request every 60/rpm seconds, no bursts: the steady pace a provider's per-minute limit expects.
        limiter = AsyncLimiter(1, 60 / rpm) if rpm else None
        queue: asyncio.Queue[Job | None] = asyncio.Queue(maxsize=concurrency * 2)
        group.create_task(self._produce(queue, targets, done, concurrency))
        for _ in range(concurrency):
            group.create_task(self._work(queue, limiter))

    async def _produce(self, queue: asyncio.Queue, targets: list[Target], done: set, workers: int) -> None:
        for job in self.plan.jobs_for(targets, done):
            if self.budget.refused:
                break
            await queue.put(job)
        for _ in range(workers):
            await queue.put(None)

    async def _work(self, queue: asyncio.Queue, limiter: AsyncLimiter | None) -> None:
        while (job := await queue.get()) is not None:
            if self.budget.refused:
                continue  # drain: the cap was reached, nothing more starts
            outcome = await self._run_job(job, limiter)
            if outcome is not None:
                self.finished.put_nowait(outcome)

    async def _run_job(self, job: Job, limiter: AsyncLimiter | None) -> Finished | None:
        """The sample (with the cache entry to store with it and the facts of the call for the ledger), or
        None when the cost cap stops the call."""
        target, request = job.target, self.plan.request_for(job)
        if job.item.is_agent_task:
            settings = CallSettings(self.cache, self.budget, self.plan.options.retry, limiter, self.environments)
            return await run_agent_item(job, request, settings, self.scoring, self.plan.users,
                                        self._common(job, request))
        started_at = now_utc()
        reserved = 0.0
        if self.budget.cap_usd is not None:  # counting prompt tokens costs CPU: only when there is a cap
            reserved = worst_case_cost(target.price, estimate_prompt_tokens(request), request.max_tokens,
                                       target.model.timeout_s)
        if not self.budget.reserve(reserved):
            return None
        try:
            result = await cached_call(target.provider, request, identity=target.identity, cache=self.cache,
                                       timeout_s=target.model.timeout_s, policy=self.plan.options.retry,
                                       limiter=limiter)
        except RunError as error:
            self.budget.settle(reserved, 0.0)
            sample = self._failed(job, request, error)
            return sample, [], [sample_facts(sample, ModelFacts.of(target), started_at)]
        response = result.response
        cost = target.price.cost_usd(response.usage, response.latency_s)
        self.budget.settle(reserved, 0.0 if result.cached else cost)  # a cached answer costs nothing again
        score = await score_answer(job.item, response.text, target.model, self.scoring)
        sample = SampleRecord(
            **self._common(job, request), response_text=response.text, finish_reason=response.finish_reason,
            input_tokens=response.usage.input_tokens, output_tokens=response.usage.output_tokens,
            latency_s=response.latency_s, cost_usd=cost, score=score.value, reason=score.reason,
            error=score.error, attempts=result.attempts, cached=result.cached,
            served_model=response.model or None, flags=list(score.flags), reasoning_text=response.reasoning,
            reasoning_tokens=response.usage.reasoning_tokens, first_answer_s=response.first_answer_s,
            judge_call=score.call, judge_cost_usd=score.call["cost_usd"] if score.call else 0.0,
        )
        facts = [] if result.cached else [sample_facts(sample, ModelFacts.of(target), started_at)]
        return sample, [result.cache_entry] if result.cache_entry else [], facts

    def _failed(self, job: Job, request: ChatRequest, error: RunError) -> SampleRecord:
        return SampleRecord(**self._common(job, request), response_text=None, finish_reason=None, input_tokens=0,
                            output_tokens=0, latency_s=None, cost_usd=0.0, score=None, reason="", error=str(error),
                            attempts=error.attempts)

    def _common(self, job: Job, request: ChatRequest) -> dict:
        return dict(run_id=self.plan.run_id, model=job.target.model.name, suite=job.suite.name, item_id=job.item.id,
                    category=job.item.category, language=job.item.language, request=request.to_record(),
                    scorer=job.item.scorer.model_dump(), epoch=job.epoch)

