"""Running one agent item: an episode (runner/episode.py) whose every model call goes through the run's cache,
retry policy, rate limiter and cost cap, then the sample that records it, scored on the episode or its final
answer, with the ledger facts of each step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from aiolimiter import AsyncLimiter

from gensandbox.calls.budget import Budget, estimate_prompt_tokens, worst_case_cost
from gensandbox.calls.call import RetryPolicy, cached_call
from gensandbox.calls.records import episode_facts
from gensandbox.calls.targets import ModelFacts, Target
from gensandbox.errors import EnvironmentBroken, RunError
from gensandbox.ledger.events import otel_provider_name
from gensandbox.runner.agent_scorers import AGENT_SCORERS, score_episode
from gensandbox.runner.agent_spec import DEFAULT_MAX_STEPS
from gensandbox.runner.env_process import EnvironmentPool
from gensandbox.runner.environments import open_environment
from gensandbox.runner.episode import Answer, Caller, Episode, Task, run_episode
from gensandbox.runner.scoring import Outcome, ScoringContext, score_answer
from gensandbox.store import ResponseCache, SampleRecord
from gensandbox.types import ChatRequest


@dataclass
class CallSettings:
    """How the run calls models, and where its Python environments run: shared by every step of every episode."""

    cache: ResponseCache | None
    budget: Budget
    retry: RetryPolicy
    limiter: AsyncLimiter | None
    environments: EnvironmentPool | None = None  # None: a pool of this item's own, closed when it ends


async def run_agent_item(job, request: ChatRequest, settings: CallSettings, scoring: ScoringContext,
                         user_targets: dict[str, Target], common: dict):
    """The finished job (sample, cache entries, ledger facts) of an agent item; see runner/execute.py."""
    item, target = job.item, job.target
    entries: list[tuple] = []
    caller = _caller(target, settings, entries)
    user_target = user_targets.get(item.user.model) if item.user and item.user.model else target
    user_caller = _caller(user_target, settings, entries) if item.user else None
    episode, wall_time_s = await _episode(job, request, settings, caller, user_caller,
                                          _player(user_target) if item.user else None)
    record = episode.record()
    score = await _score(item, episode, record, target, scoring)
    sample = _sample(common, episode, record, score, wall_time_s)
    return sample, entries, episode_facts(sample, ModelFacts.of(target))


async def _episode(job, request: ChatRequest, settings: CallSettings, caller: Caller, user_caller: Caller | None,
                   user_model: dict | None) -> tuple[Episode, float]:
    """The item's episode in its environment, and the seconds it took (model calls, tools and the simulated user;
    not starting the environment). It ends before the first step when the environment cannot start."""
    item = job.item
    task = Task(tools=request.tools, environment=None, max_steps=item.max_steps or DEFAULT_MAX_STEPS,
                user=item.user, attack=item.attack, user_model=user_model)
    pool = settings.environments or EnvironmentPool()
    try:
        if item.environment is None:
            return await _timed(run_episode(request, task, caller, user_caller))
        async with open_environment(item.environment, job.suite.folder, [tool.name for tool in item.tools],
                                    pool) as environment:
            return await _timed(run_episode(request, replace(task, environment=environment), caller, user_caller))
    except EnvironmentBroken as error:
        return Episode(end="error", error=str(error)), 0.0
    finally:
        if settings.environments is None:
            await pool.close()


async def _timed(episode_run) -> tuple[Episode, float]:
    clock = time.perf_counter()
    episode = await episode_run
    return episode, time.perf_counter() - clock


def most_calls(item) -> int:
    """The most model calls an item can make: one, or an episode's steps and its simulated user's turns."""
    if not item.is_agent_task:
        return 1
    return (item.max_steps or DEFAULT_MAX_STEPS) + (item.user.max_turns if item.user else 0)


def _caller(target: Target, settings: CallSettings, entries: list[tuple]) -> Caller:
    """One model call of an episode: within the cost cap, through the cache; its cache entry kept for the store."""
    async def call(request: ChatRequest) -> Answer:
        reserved = 0.0
        if settings.budget.cap_usd is not None:
            reserved = worst_case_cost(target.price, estimate_prompt_tokens(request), request.max_tokens,
                                       target.model.timeout_s)
        if not settings.budget.reserve(reserved):
            raise RunError("not run: the cost cap was reached")
        try:
            result = await cached_call(target.provider, request, identity=target.identity, cache=settings.cache,
                                       timeout_s=target.model.timeout_s, policy=settings.retry,
                                       limiter=settings.limiter)
        except RunError:
            settings.budget.settle(reserved, 0.0)
            raise
        response = result.response
        cost = target.price.cost_usd(response.usage, response.latency_s)
        settings.budget.settle(reserved, 0.0 if result.cached else cost)
        if result.cache_entry is not None:
            entries.append(result.cache_entry)
        return Answer(response, cost, result.cached, result.attempts)

    return call


def _player(target: Target) -> dict:
    return {"requested_model": target.model.name, "provider": otel_provider_name(target.model.provider),
            "price_table": target.price.source}


async def _score(item, episode: Episode, record: dict, target: Target, scoring: ScoringContext) -> Outcome:
    if episode.end == "error" and not any(step.get("error") is None for step in record["steps"]):
        return Outcome(None, "", error=episode.error)
    if item.scorer.name in AGENT_SCORERS:
        score = score_episode(item.scorer.name, item.scorer.args, record)
        return Outcome(score.value, score.reason, error=episode.error)
    outcome = await score_answer(item, episode.final_text, target.model, scoring)
    return outcome if episode.error is None else Outcome(outcome.value, outcome.reason, episode.error,
                                                        outcome.flags, outcome.call)


def _sample(common: dict, episode: Episode, record: dict, score: Outcome, wall_time_s: float) -> SampleRecord:
    model_steps = [step for step in record["steps"] if step["kind"] == "model"]
    answered = [step for step in model_steps if step.get("error") is None]
    last = answered[-1] if answered else None
    return SampleRecord(
        **common, response_text=episode.final_text if last else None,
        finish_reason=last["finish_reason"] if last else None,
        input_tokens=sum(step["input_tokens"] for step in model_steps),
        output_tokens=sum(step["output_tokens"] for step in model_steps),
        latency_s=wall_time_s if last else None,
        cost_usd=sum(step["cost_usd"] for step in model_steps), score=score.value, reason=score.reason,
        error=score.error, attempts=sum(step.get("attempts", 1) for step in model_steps),
        cached=bool(answered) and all(step.get("cached") for step in answered),
        served_model=last.get("model") if last else None, flags=list(score.flags),
        reasoning_tokens=sum(step["reasoning_tokens"] for step in model_steps),
        judge_call=score.call, judge_cost_usd=score.call["cost_usd"] if score.call else 0.0, episode=record)

