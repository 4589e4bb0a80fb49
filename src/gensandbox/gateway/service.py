"""What the gateway does with one chat-completions request, apart from HTTP framing: authenticate,
route, reserve budget, call the model (falling back on failure), settle, record."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from gensandbox.config import Config
from gensandbox.errors import GenSandboxError, ProviderHTTPError, RunError
from gensandbox.gateway.keys import ANONYMOUS, KeyGate, KeyState
from gensandbox.gateway.metrics import Metrics
from gensandbox.gateway.recorder import Recorder
from gensandbox.gateway.routing import Decision, Router
from gensandbox.gateway.wire import ChatCompletionRequest, to_chat_request
from gensandbox.providers import PriceTable
from gensandbox.runner.budget import estimate_prompt_tokens, estimate_tokens, worst_case_cost
from gensandbox.runner.calls import RetryPolicy, call_model, is_retryable
from gensandbox.runner.execute import Target
from gensandbox.runner.plan import target_for
from gensandbox.store.gateway import RequestRecord
from gensandbox.store.sqlite import now_utc
from gensandbox.types import ChatRequest, ChatResponse, StreamDelta, Usage

NO_RETRY = RetryPolicy(retries=0)  # the gateway falls back to another model instead of retrying the same one


class GatewayError(Exception):
    """Answered as an OpenAI-shaped error with this status."""

    def __init__(self, status: int, message: str, error_type: str, code: str | None = None,
                 param: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.error_type, self.code, self.param = status, error_type, code, param
        self.headers = headers or {}


@dataclass(frozen=True)
class Answer:
    response: ChatResponse
    target: Target
    decision: Decision
    cost_usd: float


@dataclass(frozen=True)
class Streamed:
    first: StreamDelta
    rest: AsyncIterator[StreamDelta]
    target: Target
    decision: Decision
    request: ChatRequest
    reserved: float
    key: KeyState | None
    started: float


class Gateway:
    def __init__(self, config: Config, prices: PriceTable, keys: KeyGate, router: Router, recorder: Recorder,
                 metrics: Metrics):
        self.config, self.prices, self.keys, self.router = config, prices, keys, router
        self.recorder, self.metrics = recorder, metrics
        self._targets: dict[str, Target] = {}

    def target(self, name: str) -> Target:
        """Providers are built on first use, so one broken model cannot stop the gateway starting."""
        if name not in self._targets:
            try:
                self._targets[name] = target_for(self.config.models[name], self.config, self.prices)
            except GenSandboxError as error:  # e.g. a missing GGUF file or an unset API key variable
                raise GatewayError(503, f"model `{name}` is not available: {error}", "server_error",
                                   "model_unavailable") from None
        return self._targets[name]

    async def aclose(self) -> None:
        for target in self._targets.values():
            await target.provider.aclose()

    # -- admission

    def admit(self, authorization: str | None, body: ChatCompletionRequest) -> tuple[KeyState | None, Decision]:
        key = self.keys.authenticate(authorization)
        try:
            decision = self.router.decide(body.model)
        except GenSandboxError as error:
            raise GatewayError(404, str(error), "invalid_request_error", "model_not_found", "model") from None
        self.keys.admit(key)
        return key, decision

    # -- plain

    async def complete(self, key: KeyState | None, decision: Decision, body: ChatCompletionRequest) -> Answer:
        failures = []
        for name in decision.models:
            target, started = self.target(name), time.perf_counter()
            request, reserved = self._reserve(key, target, body)
            try:
                response, _ = await call_model(target.provider, request, timeout_s=self._timeout(target),
                                               policy=NO_RETRY)
            except RunError as error:
                self._failed(key, decision, body, name, error, reserved, started, failures)
                if isinstance(error, ProviderHTTPError) and not is_retryable(error):
                    break  # the endpoint rejected the request itself: another model would too
                continue
            cost = target.price.cost_usd(response.usage, response.latency_s)
            self._succeeded(key, decision, body, name, response.usage, cost, reserved, started, stream=False)
            return Answer(response, target, decision, cost)
        raise self._all_failed(failures)

    # -- streaming

    async def open_stream(self, key: KeyState | None, decision: Decision, body: ChatCompletionRequest) -> Streamed:
        """Start a stream on the first model that produces a first piece; falling back is still possible
        until then, since no byte has gone to the client."""
        failures = []
        for name in decision.models:
            target, started = self.target(name), time.perf_counter()
            request, reserved = self._reserve(key, target, body)
            pieces = target.provider.stream(request).__aiter__()
            try:
                first = await pieces.__anext__()
            except (RunError, StopAsyncIteration) as error:
                error = error if isinstance(error, RunError) else RunError("the stream ended before any answer")
                self._failed(key, decision, body, name, error, reserved, started, failures)
                continue
            return Streamed(first, pieces, target, decision, request, reserved, key, started)
        raise self._all_failed(failures)

    def finish_stream(self, streamed: Streamed, body: ChatCompletionRequest, usage: Usage | None,
                      error: RunError | None) -> None:
        latency = time.perf_counter() - streamed.started
        usage = usage or Usage(sum(estimate_tokens(m.content) for m in streamed.request.messages), 0)
        cost = streamed.target.price.cost_usd(usage, latency)
        name = streamed.target.model.name
        if error is None:
            self._succeeded(streamed.key, streamed.decision, body, name, usage, cost, streamed.reserved,
                            streamed.started, stream=True)
        else:
            self.keys.settle(streamed.key, streamed.reserved, cost)
            self._record(streamed.key, streamed.decision, body, name, 502, usage, cost, latency, True, str(error))

    # -- shared

    def _reserve(self, key: KeyState | None, target: Target, body: ChatCompletionRequest):
        request = to_chat_request(body, target.model.provider_model_id)
        if key is None or key.record.budget_usd is None:
            return request, 0.0  # nothing to hold the request against
        reserved = worst_case_cost(target.price, estimate_prompt_tokens(request), request.max_tokens,
                                   self._timeout(target))
        self.keys.reserve(key, reserved)
        return request, reserved

    def _timeout(self, target: Target) -> float:
        return min(target.model.timeout_s, self.config.file.serve.request_timeout_s)

    def _failed(self, key, decision, body, name, error: RunError, reserved, started, failures) -> None:
        self.keys.settle(key, reserved, 0.0)
        self.router.breaker.failed(name)
        failures.append(f"{name}: {error}")
        self._record(key, decision, body, name, 502, Usage(), 0.0, time.perf_counter() - started, body.stream,
                     str(error))

    def _succeeded(self, key, decision, body, name, usage: Usage, cost, reserved, started, stream: bool) -> None:
        self.keys.settle(key, reserved, cost)
        self.router.breaker.succeeded(name)
        self._record(key, decision, body, name, 200, usage, cost, time.perf_counter() - started, stream, None)

    def _record(self, key, decision, body, name, status, usage: Usage, cost, latency, stream, error) -> None:
        key_id = key.record.key_id if key else ANONYMOUS
        self.recorder.add(RequestRecord(now_utc(), key_id, body.model, decision.route, decision.reason, name,
                                        status, usage.input_tokens, usage.output_tokens, cost, latency, stream,
                                        error), key.spent_usd if key else None)
        self.metrics.observe(name, status, usage, cost, latency)

    def _all_failed(self, failures: list[str]) -> GatewayError:
        return GatewayError(502, "no model could answer: " + "; ".join(failures), "upstream_error",
                            "upstream_failed")
