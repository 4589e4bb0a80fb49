"""What the gateway does with one chat-completions request, apart from HTTP framing: authenticate,
route, reserve budget, call the model (falling back on failure), settle, record."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace

import orjson

from gensandbox.access import DEFAULT_PROJECT
from gensandbox.calls.budget import estimate_prompt_tokens, estimate_tokens, worst_case_cost
from gensandbox.calls.call import RetryPolicy, call_model, is_retryable
from gensandbox.calls.models import resolve_model
from gensandbox.calls.records import call_facts
from gensandbox.calls.targets import ModelFacts, Target, output_bound, target_for
from gensandbox.canonical import now_utc, sha256_hex
from gensandbox.config import Config, ModelConfig
from gensandbox.config.untrusted import check_request_urls
from gensandbox.errors import GatewayError, GenSandboxError, ProviderHTTPError, RunError, UserError
from gensandbox.gateway.keys import KeyGate, KeyState
from gensandbox.gateway.metrics import Metrics
from gensandbox.gateway.recorder import Recorder
from gensandbox.gateway.routing import Decision, Router
from gensandbox.gateway.sessions import TraceContext, request_features, tool_steps
from gensandbox.gateway.wire import chat_completion
from gensandbox.ledger.events import ANONYMOUS, refusal_event
from gensandbox.ledger.writer import Ledger
from gensandbox.providers import PriceTable
from gensandbox.providers.capabilities import needs, unsupported
from gensandbox.types import ChatRequest, ChatResponse, StreamDelta, ToolCall, Usage

NO_RETRY = RetryPolicy(retries=0)  # the gateway falls back to another model instead of retrying the same one
# Held against a key's budget for an answer whose length neither the app (max_tokens) nor the model's declaration
# (max_output_tokens, context_window) bounds. Nothing is sent upstream on its account.
ASSUMED_OUTPUT_TOKENS = 4096


@dataclass(slots=True)  # built per request: frozen fields would cost ~0.1 µs each
class Asked:
    """What an app asked, whichever API it called, in the one request model."""

    model: str  # the model or route name the app asked for
    request: ChatRequest  # with no model id yet: each attempt sets its own
    stream: bool
    metadata: dict | None = None  # the app's request metadata (session_id, parent_span_id name its trace)


@dataclass(slots=True)  # built per request: frozen fields would cost ~0.1 µs each
class Admitted:
    """A request let in: the key it came with, the models that may answer it, and what it asks."""

    key: KeyState | None
    decision: Decision
    asked: Asked


@dataclass(slots=True)  # built per request: frozen fields would cost ~0.1 µs each
class Attempt:
    """One try of one model for one request: what its ledger event needs to say."""

    key: KeyState | None
    decision: Decision
    asked: Asked
    trace: TraceContext
    target: Target
    request: ChatRequest
    reserved: float
    started_at: str
    started: float  # perf_counter

    @property
    def name(self) -> str:
        return self.target.model.name


@dataclass(slots=True)  # built per request: frozen fields would cost ~0.1 µs each
class Answer:
    response: ChatResponse
    attempt: Attempt
    cost_usd: float
    payload: bytes  # the exact response body, which the receipt covers
    receipt: str


@dataclass(slots=True)  # built per request: frozen fields would cost ~0.1 µs each
class Streamed:
    first: StreamDelta
    rest: AsyncIterator[StreamDelta]
    attempt: Attempt


class Gateway:
    def __init__(self, config: Config, prices: PriceTable, keys: KeyGate, router: Router, recorder: Recorder,
                 metrics: Metrics, ledger: Ledger):
        self.config, self.prices, self.keys, self.router = config, prices, keys, router
        self.recorder, self.metrics, self.ledger = recorder, metrics, ledger
        self._targets: dict[str, Target] = {}
        self._model_facts: dict[str, ModelFacts] = {}  # what each target's events say of it, made once

    def target(self, name: str) -> Target:
        """Providers are built on first use, so one broken model cannot stop the gateway starting."""
        if name not in self._targets:
            try:
                self._targets[name] = target_for(resolve_model(name, self.config), self.config, self.prices)
                self._model_facts[name] = ModelFacts.of(self._targets[name])
            except GenSandboxError as error:  # e.g. a missing GGUF file or an unset API key variable
                raise GatewayError(503, f"model `{name}` is not available: {error}", "server_error",
                                   "model_unavailable") from None
        return self._targets[name]

    async def aclose(self) -> None:
        for target in self._targets.values():
            await target.provider.aclose()

    # -- admission

    def admit(self, authorization: str | None, asked: Asked) -> Admitted:
        """Who asks, and which models can answer what they ask."""
        key = self.keys.authenticate(authorization)
        self.keys.check_model(key, asked.model)
        try:
            decision = self.router.decide(asked.model)
        except GenSandboxError as error:
            raise GatewayError(404, str(error), "invalid_request_error", "model_not_found", "model") from None
        decision = self._capable(decision, asked.request)
        self.keys.admit(key)
        return Admitted(key, decision, asked)

    async def screen(self, admitted: Admitted) -> None:
        """Image URLs from a key that is not an admin's must be inline or public: the upstream that receives one may
        fetch it from inside this network. Off the event loop, since a host name is resolved. An open gateway (no
        keys yet) answers this machine's operator only, who is trusted like an admin."""
        key = admitted.key
        if key is None or key.record.role == "admin":
            return
        if any(part.type == "image" and part.url.startswith(("http:", "https:"))
               for message in admitted.asked.request.messages for part in message.parts):
            try:
                await asyncio.to_thread(check_request_urls, admitted.asked.request, trusted=False)
            except UserError as error:
                raise GatewayError(400, str(error), "invalid_request_error", "internal_url", "messages") from None

    def _capable(self, decision: Decision, request: ChatRequest) -> Decision:
        """The decision's models that can honour everything the request needs; a route skips the others and says
        so. When none can, the request is refused naming the parameter, rather than anything being dropped."""
        skipped, needed = [], needs(request)
        for name in decision.models:
            missing = unsupported(needed, self.target(name).provider.capabilities)
            if missing is not None:
                skipped.append((name, *missing))
        if not skipped:
            return decision
        if len(skipped) == len(decision.models):
            name, capability, parameter = skipped[0]
            what = parameter if capability == parameter else f"{parameter} ({capability})"
            raise GatewayError(400, f"model `{name}` cannot honour `{what}`: send the request without it, or to a "
                               "model that supports it (see the README's support table)" + (
                                   f"; no model of route `{decision.route}` can" if len(skipped) > 1 else ""),
                               "invalid_request_error", "unsupported_parameter", parameter)
        names = {name for name, _, _ in skipped}
        note = ", ".join(f"{name} (cannot honour {capability})" for name, capability, _ in skipped)
        return Decision(decision.route, f"{decision.reason}; skipped {note}",
                        [name for name in decision.models if name not in names])

    # -- plain

    async def complete(self, admitted: Admitted, trace: TraceContext,
                       render: Callable[[ChatResponse, str], dict] = chat_completion) -> Answer:
        """The answer of the first model that gives one; `render` makes the response body (of the API the app
        called) from it and the serving model's name."""
        failures = []
        for name in admitted.decision.models:
            attempt = self._attempt(admitted, trace, name)
            try:
                response, _ = await call_model(attempt.target.provider, attempt.request,
                                               timeout_s=self._timeout(attempt.target), policy=NO_RETRY)
            except RunError as error:
                await self._failed(attempt, error, failures)
                if isinstance(error, ProviderHTTPError) and not is_retryable(error):
                    break  # the endpoint rejected the request itself: another model would too
                continue
            cost = attempt.target.price.cost_usd(response.usage, response.latency_s)
            payload = orjson.dumps(render(response, name))
            receipt = await self._succeeded(attempt, response.usage, cost, response.text, response.finish_reason,
                                            payload, response.tool_calls)
            return Answer(response, attempt, cost, payload, receipt)
        raise self._all_failed(failures)

    # -- streaming

    async def open_stream(self, admitted: Admitted, trace: TraceContext) -> Streamed:
        """Start a stream on the first model that produces a first piece; falling back is still possible
        until then, since no byte has gone to the client."""
        failures = []
        for name in admitted.decision.models:
            attempt = self._attempt(admitted, trace, name)
            pieces = attempt.target.provider.stream(attempt.request).__aiter__()
            try:
                first = await pieces.__anext__()
            except (RunError, StopAsyncIteration) as error:
                error = error if isinstance(error, RunError) else RunError("the stream ended before any answer")
                await self._failed(attempt, error, failures)
                continue
            return Streamed(first, pieces, attempt)
        raise self._all_failed(failures)

    async def finish_stream(self, streamed: Streamed, usage: Usage | None, text: str, finish_reason: str | None,
                            error: RunError | None, *, client_left: bool = False,
                            tool_calls: tuple[ToolCall, ...] = ()) -> str | None:
        """Settle and record; when the stream ended well, return (once the record is durable) the receipt for the
        answer text. A client that left is recorded without waiting: nobody is there to answer."""
        attempt = streamed.attempt
        usage = usage or Usage(sum(estimate_tokens(m.content) for m in attempt.request.messages),
                               estimate_tokens(text))
        cost = attempt.target.price.cost_usd(usage, time.perf_counter() - attempt.started)
        if error is None:
            return await self._succeeded(attempt, usage, cost, text, finish_reason, None, tool_calls)
        self.keys.settle(attempt.key, attempt.reserved, cost)
        self.router.breaker.failed(attempt.name)  # a stream that breaks is a failure too, as its 502 record says
        recorded = self._records(attempt, 502, usage, cost, text, finish_reason, None, str(error), tool_calls)
        if client_left:
            self.recorder.submit(*recorded)
        else:
            await self.recorder.commit(*recorded)
        return None

    # -- refused

    async def refused(self, status: int, code: str | None, message: str, authorization: str | None,
                      requested_model: str | None, stream: bool) -> None:
        """A request refused before any model answered (400, 401, 404, 429, 503) is on the record too."""
        key_id = self.keys.identify(authorization) or ANONYMOUS
        self.metrics.rejected.labels(str(status)).inc()
        event = refusal_event(now_utc(), status, code, message, key_id if key_id != ANONYMOUS else None,
                              requested_model, stream)
        await self.recorder.commit(key_id, None, event)

    # -- shared

    def _attempt(self, admitted: Admitted, trace: TraceContext, name: str) -> Attempt:
        key, decision, asked = admitted.key, admitted.decision, admitted.asked
        target = self.target(name)
        request = self._completed(replace(asked.request, model=target.model.provider_model_id), target.model)
        reserved = 0.0
        if key is not None and key.record.budget_usd is not None:  # else nothing to hold the request against
            reserved = worst_case_cost(target.price, estimate_prompt_tokens(request),
                                       self._worst_case_tokens(request, target.model), self._timeout(target))
            self.keys.reserve(key, reserved)
        return Attempt(key, decision, asked, trace, target, request, reserved, now_utc(), time.perf_counter())

    @staticmethod
    def _completed(request: ChatRequest, model: ModelConfig) -> ChatRequest:
        """The request as the app sent it, plus only what the model's API requires: Anthropic's max_tokens, the
        model's documented maximum when the app sent none."""
        if request.max_tokens is not None or model.provider != "anthropic":
            return request
        if model.max_output_tokens is None:
            raise GatewayError(400, f"model `{model.name}` is served through Anthropic's API, which requires "
                               "max_tokens: send max_tokens, or set max_output_tokens for this model in "
                               "gensandbox.toml", "invalid_request_error", "missing_required_parameter",
                               "max_tokens")
        return replace(request, max_tokens=model.max_output_tokens)

    @staticmethod
    def _worst_case_tokens(request: ChatRequest, model: ModelConfig) -> int:
        """What a key's budget holds for the answer while it is made: max_tokens, else the most the model can
        write, else ASSUMED_OUTPUT_TOKENS (the answer's real cost is charged when it ends, whatever it is)."""
        return request.max_tokens or output_bound(model) or ASSUMED_OUTPUT_TOKENS

    def _timeout(self, target: Target) -> float:
        return min(target.model.timeout_s, self.config.file.serve.request_timeout_s)

    async def _failed(self, attempt: Attempt, error: RunError, failures: list[str]) -> None:
        self.keys.settle(attempt.key, attempt.reserved, 0.0)
        self.router.breaker.failed(attempt.name)
        failures.append(f"{attempt.name}: {error}")
        await self.recorder.commit(*self._records(attempt, 502, Usage(), 0.0, None, None, None, str(error)))

    async def _succeeded(self, attempt: Attempt, usage: Usage, cost: float, text: str, finish_reason: str | None,
                         payload: bytes | None, tool_calls: tuple[ToolCall, ...]) -> str:
        """Settle, record, and once the event is durable return the receipt that names it."""
        self.keys.settle(attempt.key, attempt.reserved, cost)
        self.router.breaker.succeeded(attempt.name)
        body_sha256 = sha256_hex(payload) if payload is not None else None
        key_id, spent, event = self._records(attempt, 200, usage, cost, text, finish_reason, body_sha256, None,
                                             tool_calls)
        await self.recorder.commit(key_id, spent, event)
        return self.ledger.event_receipt(event, attempt.name, text, body_sha256)

    def _records(self, attempt: Attempt, status: int, usage: Usage, cost: float, text: str | None,
                 finish_reason: str | None, body_sha256: str | None, error: str | None,
                 tool_calls: tuple[ToolCall, ...] = ()) -> tuple[str, float | None, dict]:
        """The key, what the attempt cost it, and the attempt's ledger event: its one record (`gensandbox traffic`
        reads it too)."""
        key, decision, asked = attempt.key, attempt.decision, attempt.asked
        key_id = key.record.key_id if key else ANONYMOUS
        latency = time.perf_counter() - attempt.started
        self.metrics.observe(attempt.name, status, usage, cost, latency)
        trace, request = attempt.trace, attempt.request
        event = self.ledger.call_event(call_facts(
            "gateway", self._model_facts[attempt.name], requested_model=asked.model, served_model=attempt.name,
            started_at=attempt.started_at, prompt=[m.to_record() for m in request.messages],
            max_tokens=request.max_tokens, temperature=request.temperature, latency_s=latency,
            input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
            reasoning_tokens=usage.reasoning_tokens, cost_usd=cost, response_text=text, finish_reason=finish_reason,
            ok=error is None, error=error, key_id=key_id, route=decision.route, route_reason=decision.reason,
            body_sha256=body_sha256, session=trace.session,
            trace_id=trace.trace_id, span_id=trace.span_id, parent_span_id=trace.parent_span_id,
            tool_steps=tool_steps(request.messages), features=request_features(request, asked.stream),
            http_status=None if status == 200 else status, tool_calls=tuple(c.to_record() for c in tool_calls),
            end_user=request.user, project=key.record.project_id if key else DEFAULT_PROJECT))
        return key_id, cost if key else None, event

    def _all_failed(self, failures: list[str]) -> GatewayError:
        return GatewayError(502, "no model could answer: " + "; ".join(failures), "upstream_error",
                            "upstream_failed")
