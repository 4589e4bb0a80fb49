"""One model call made robust: rate limit, per-item timeout, retries with backoff that honour
Retry-After, and a response cache keyed by the canonical request."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from aiolimiter import AsyncLimiter

from gensandbox.canonical import canonical_digest
from gensandbox.errors import ProviderConnectionError, ProviderHTTPError, ProviderTimeoutError, RunError
from gensandbox.providers import Provider
from gensandbox.store import ResponseCache
from gensandbox.types import ChatRequest, ChatResponse, ToolCall, Usage

RETRYABLE_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504, 529}
MAX_RETRY_AFTER_S = 300.0


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0

    def delay(self, attempt: int, error: RunError) -> float:
        """Exponential backoff with full jitter, but never sooner than the server asked."""
        backoff = random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt))
        asked = getattr(error, "retry_after", None)
        return max(backoff, min(asked, MAX_RETRY_AFTER_S)) if asked is not None else backoff


def is_retryable(error: RunError) -> bool:
    if isinstance(error, ProviderHTTPError):
        return error.status in RETRYABLE_STATUSES
    return isinstance(error, ProviderTimeoutError | ProviderConnectionError)


@dataclass(frozen=True)
class CallResult:
    response: ChatResponse
    attempts: int
    cached: bool
    cache_entry: tuple[str, dict] | None = None  # to store with the sample, in the same commit


async def call_model(
    provider: Provider,
    request: ChatRequest,
    *,
    timeout_s: float,
    policy: RetryPolicy,
    limiter: AsyncLimiter | None = None,
) -> tuple[ChatResponse, int]:
    """Return (response, attempts) or raise the last RunError once retries are spent."""
    attempt = 0
    while True:
        attempt += 1
        try:
            if limiter is not None:
                await limiter.acquire()
            if getattr(provider, "transport_timeout", False) and provider.timeout_s <= timeout_s:
                return await provider.complete(request), attempt  # a second timer would only cost CPU
            async with asyncio.timeout(timeout_s):
                return await provider.complete(request), attempt
        except TimeoutError:
            error: RunError = ProviderTimeoutError(f"no answer within the item timeout of {timeout_s:g} s")
        except RunError as caught:
            error = caught
        if attempt > policy.retries or not is_retryable(error):
            error.attempts = attempt
            raise error
        await asyncio.sleep(policy.delay(attempt - 1, error))


def cache_key(identity: dict, request: ChatRequest) -> str:
    """Hash of everything that can change the answer; timeouts, keys and concurrency are left out."""
    return canonical_digest({"model": identity, "request": request.to_record()})


def response_to_cache(response: ChatResponse) -> dict:
    value = {"text": response.text, "finish_reason": response.finish_reason, "model": response.model,
             "input_tokens": response.usage.input_tokens, "output_tokens": response.usage.output_tokens,
             "latency_s": response.latency_s}
    if response.reasoning is not None or response.usage.reasoning_tokens:  # else the entry stays as it was
        value |= {"reasoning": response.reasoning, "reasoning_tokens": response.usage.reasoning_tokens}
    if response.tool_calls:  # an agent's step: the calls are the answer
        value["tool_calls"] = [call.to_record() for call in response.tool_calls]
    return value


def response_from_cache(value: dict) -> ChatResponse:
    return ChatResponse(text=value["text"], finish_reason=value["finish_reason"], model=value.get("model", ""),
                        usage=Usage(value["input_tokens"], value["output_tokens"], value.get("reasoning_tokens", 0)),
                        latency_s=value["latency_s"], reasoning=value.get("reasoning"),
                        tool_calls=tuple(ToolCall(**call) for call in value.get("tool_calls", ())))


async def cached_call(
    provider: Provider, request: ChatRequest, *, identity: dict, cache: ResponseCache | None, timeout_s: float,
    policy: RetryPolicy, limiter: AsyncLimiter | None = None,
) -> CallResult:
    key = cache_key(identity, request) if cache is not None else None
    if key is not None and (hit := cache.get(key)) is not None:
        return CallResult(response_from_cache(hit), attempts=0, cached=True)
    response, attempts = await call_model(provider, request, timeout_s=timeout_s, policy=policy, limiter=limiter)
    entry = (key, response_to_cache(response)) if key is not None else None
    return CallResult(response, attempts, cached=False, cache_entry=entry)
