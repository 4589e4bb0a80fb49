"""Model calls answered by a pool of Ray actors, behind the ordinary Provider boundary.

Each actor (`ModelWorker`, one per Ray worker) builds the real providers from the model definitions on
first use and keeps them, so a local GGUF is loaded once per worker and HTTP connections are reused. The
driver holds a `WorkerPool` and one `RayProvider` per model; the runner cannot tell them from local
providers. Ray is imported only inside functions: this module is loaded only when the Ray executor is chosen.

A worker that dies mid-call loses nothing: the call is sent again to another live worker (Ray restarts the
dead one). A call that fails for a model reason comes back as the same RunError it would raise locally.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson

from gensandbox.config import Config, ModelConfig
from gensandbox.errors import GenSandboxError, UserError
from gensandbox.providers.base import Provider
from gensandbox.providers.capabilities import EVERYTHING
from gensandbox.types import ChatRequest, ChatResponse, StreamDelta, ToolCall, ToolCallDelta, Usage

LOST_CALL_RETRIES = 8  # tries on other workers before the run stops (0.1 s, 0.2 s, … up to 2 s apart)
LOST_WORKER_COOLDOWN_S = 5.0  # a worker that lost a call gets none for this long: it is likely restarting
READY_TIMEOUT_S = 120.0  # starting a worker process and importing GenSandbox; longer means it cannot be placed


# Requests and answers cross as JSON bytes: Ray moves bytes for a fraction of the CPU it spends pickling
# dataclasses (measured on the reference machine: ~0.2 ms less driver CPU per call, a third of Ray's cost).


def request_to_wire(request: ChatRequest) -> bytes:
    return orjson.dumps(request.to_record())


def request_from_wire(data: bytes) -> ChatRequest:
    return ChatRequest.from_record(orjson.loads(data))


def response_to_wire(response: ChatResponse) -> bytes:
    """Everything but the raw body, which runs never read."""
    return orjson.dumps({"text": response.text, "finish_reason": response.finish_reason, "model": response.model,
                         "usage": [response.usage.input_tokens, response.usage.output_tokens,
                                   response.usage.reasoning_tokens],
                         "latency_s": response.latency_s, "reasoning": response.reasoning,
                         "first_answer_s": response.first_answer_s,
                         "tool_calls": [call.to_record() for call in response.tool_calls],
                         "logprobs": response.logprobs})


def response_from_wire(data: bytes) -> ChatResponse:
    record = orjson.loads(data)
    return ChatResponse(text=record["text"], finish_reason=record["finish_reason"], usage=Usage(*record["usage"]),
                        latency_s=record["latency_s"], model=record["model"], reasoning=record.get("reasoning"),
                        first_answer_s=record.get("first_answer_s"),
                        tool_calls=tuple(ToolCall(**call) for call in record.get("tool_calls") or ()),
                        logprobs=record.get("logprobs"))


@dataclass(frozen=True)
class CallFailure:
    """A GenSandboxError carried back as a value. Ray would re-raise it wrapped in its own exception type,
    and plain pickling loses the keyword-only fields of ProviderHTTPError (status, retry_after)."""

    kind: type[GenSandboxError]
    message: str
    fields: dict

    @classmethod
    def of(cls, error: GenSandboxError) -> CallFailure:
        return cls(type(error), str(error), dict(vars(error)))

    def error(self) -> GenSandboxError:
        error = self.kind.__new__(self.kind)
        Exception.__init__(error, self.message)
        vars(error).update(self.fields)
        return error


class ModelWorker:
    """The Ray actor: answers (model name, request) with the model's real provider, built on first use."""

    def __init__(self, config: Config, models: dict[str, ModelConfig]):
        self._config, self._models = config, models
        self._providers: dict[str, Provider] = {}

    async def pid(self) -> int:
        return os.getpid()

    async def complete(self, model_name: str, request: bytes) -> bytes | CallFailure:
        try:
            response = await self._provider(model_name).complete(request_from_wire(request))
        except GenSandboxError as error:
            return CallFailure.of(error)
        return response_to_wire(response)

    def _provider(self, model_name: str) -> Provider:
        if model_name not in self._providers:
            from gensandbox.calls.models import build_provider

            self._providers[model_name] = build_provider(self._models[model_name], self._config)
        return self._providers[model_name]


class WorkerPool:
    """The driver's side of the actors: least-loaded dispatch per lane, and calls lost with a worker resent.

    A lane is what limits concurrency (an endpoint); counting in-flight calls per lane spreads each
    endpoint's calls evenly, and gives each worker exactly one in-process model call at a time.
    """

    def __init__(self, actors: list):
        import ray

        # Ways Ray says a worker went away; anything else a worker raises is a bug and surfaces as one.
        self._lost = (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError, ray.exceptions.ObjectLostError)
        self._actors = actors
        self._in_flight: dict[str, list[int]] = {}
        self._unhealthy_until = [0.0] * len(actors)
        self.lost_calls = 0  # calls resent because their worker died

    @classmethod
    def start(cls, config: Config, models: dict[str, ModelConfig], workers: int,
              env_vars: dict[str, str] | None = None) -> WorkerPool:
        """`workers` actors, spread over the cluster's nodes, each holding one CPU; waits until all run."""
        import ray

        remote = ray.remote(ModelWorker).options(
            num_cpus=1, max_restarts=-1, max_task_retries=0,  # we resend lost calls ourselves, elsewhere
            scheduling_strategy="SPREAD", runtime_env={"env_vars": env_vars} if env_vars else None)
        pool = cls([remote.remote(config, models) for _ in range(workers)])
        try:
            pool.pids(timeout_s=READY_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError:
            pool.close()
            free = ray.available_resources().get("CPU", 0)
            raise UserError(f"the Ray cluster could not start {workers} workers within {READY_TIMEOUT_S:g} s "
                            f"(each needs 1 CPU; {free:g} free); pass a smaller --ray-workers") from None
        except ray.exceptions.RayActorError as error:  # e.g. gensandbox is not installed on the nodes
            pool.close()
            first_line = str(error).strip().splitlines()[0]
            raise UserError(f"the Ray workers could not start (is gensandbox installed on every node?): "
                            f"{first_line}") from None
        return pool

    @property
    def size(self) -> int:
        return len(self._actors)

    def pids(self, timeout_s: float = 30.0) -> list[int]:
        """Each worker's process id, waiting for workers Ray is restarting (a busy machine restarts slowly)."""
        import ray

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return ray.get([actor.pid.remote() for actor in self._actors],
                               timeout=max(0.0, deadline - time.monotonic()))
            except ray.exceptions.ActorUnavailableError:
                if time.monotonic() >= deadline:
                    raise ray.exceptions.GetTimeoutError(
                        f"a Ray worker was still restarting after {timeout_s:g} s") from None
                time.sleep(0.1)

    async def complete(self, lane: str, model_name: str, request: ChatRequest) -> ChatResponse:
        wire = request_to_wire(request)
        for attempt in range(LOST_CALL_RETRIES + 1):
            if attempt:
                await asyncio.sleep(min(2.0, 0.1 * 2 ** (attempt - 1)))  # give Ray time to restart workers
            index = self._pick(lane)
            try:
                outcome = await self._call(index, lane, model_name, wire)
            except self._lost:
                self._unhealthy_until[index] = time.monotonic() + LOST_WORKER_COOLDOWN_S
                self.lost_calls += 1
                continue
            if isinstance(outcome, CallFailure):
                raise outcome.error()
            return response_from_wire(outcome)
        # Recording the item as failed would let a resume skip it: stop the run instead, keeping what is done.
        raise UserError(f"the Ray cluster lost the worker of every try ({LOST_CALL_RETRIES + 1}) of a call to "
                        f"{model_name}; check the cluster, then continue with --resume")

    def _pick(self, lane: str) -> int:
        counts = self._in_flight.setdefault(lane, [0] * len(self._actors))
        now = time.monotonic()
        healthy = [i for i, until in enumerate(self._unhealthy_until) if until <= now]
        return min(healthy or range(len(self._actors)), key=counts.__getitem__)

    async def _call(self, index: int, lane: str, model_name: str, request: bytes) -> bytes | CallFailure:
        import ray

        counts = self._in_flight[lane]
        counts[index] += 1
        ref = self._actors[index].complete.remote(model_name, request)
        try:
            return await ref
        except asyncio.CancelledError:
            ray.cancel(ref)  # an item timeout or an interrupt here also ends the call on the worker
            raise
        finally:
            counts[index] -= 1

    def close(self) -> None:
        import ray

        for actor in self._actors:
            ray.kill(actor)  # the pool is the actors' only user; their connections go with their processes


class RayProvider:
    """One model, answered by the pool. `endpoint` is the lane: the wrapped model's own endpoint for remote
    APIs (so the runner's per-endpoint limit holds cluster-wide), one shared lane for in-process models."""

    def __init__(self, pool: WorkerPool, model_name: str, endpoint: str, capabilities: frozenset[str] = EVERYTHING):
        self._pool, self._model_name = pool, model_name
        self.endpoint = endpoint
        # The wrapped model's own: the request reaches its provider in the worker, whole, and a suite of agent tasks
        # is only planned for a model that can call tools.
        self.capabilities = capabilities

    async def complete(self, request: ChatRequest) -> ChatResponse:
        return await self._pool.complete(self.endpoint, self._model_name, request)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamDelta]:
        """The whole answer as one piece: runs never stream, and this keeps the Provider contract."""
        response = await self.complete(request)
        yield StreamDelta(text=response.text, model=response.model,
                          tool_calls=tuple(ToolCallDelta(i, c.id, c.name, c.arguments)
                                           for i, c in enumerate(response.tool_calls)))
        yield StreamDelta(finish_reason=response.finish_reason, usage=response.usage, model=response.model)

    async def aclose(self) -> None:
        """The pool owns the workers and closes them."""
