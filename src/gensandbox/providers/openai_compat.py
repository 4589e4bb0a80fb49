"""Any endpoint that speaks OpenAI's chat-completions format: OpenAI, DeepSeek, vLLM, Ollama,
llama.cpp server, Upstage, and many more. Wire conversion is pure functions; the class only connects."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from gensandbox.errors import ProviderResponseError
from gensandbox.providers._http import HTTPEndpoint
from gensandbox.providers.reasoning import split_stream, with_reasoning
from gensandbox.types import ChatRequest, ChatResponse, StreamDelta, Usage

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def request_to_openai(request: ChatRequest) -> dict:
    payload: dict = {"model": request.model,
                     "messages": [{"role": m.role, "content": m.content} for m in request.messages]}
    if request.max_tokens is not None:  # else the endpoint's own default, as the app asked by sending none
        payload["max_tokens"] = request.max_tokens
    if request.temperature is not None:
        payload["temperature"] = request.temperature
    if request.stop:
        payload["stop"] = list(request.stop)
    if request.seed is not None:
        payload["seed"] = request.seed
    if request.reasoning_effort is not None:
        payload["reasoning_effort"] = request.reasoning_effort
    return payload


def usage_from_openai(usage: dict) -> Usage:
    """Token counts; OpenAI counts reasoning inside completion_tokens and tells how much of it there was."""
    details = usage.get("completion_tokens_details") or {}
    return Usage(input_tokens=int(usage.get("prompt_tokens") or 0),
                 output_tokens=int(usage.get("completion_tokens") or 0),
                 reasoning_tokens=int(details.get("reasoning_tokens") or 0))


def _reasoning_of(part: dict) -> str | None:
    """DeepSeek (and vLLM, SGLang, llama.cpp server) send reasoning as `reasoning_content`; some routers
    call it `reasoning`."""
    reasoning = part.get("reasoning_content") or part.get("reasoning")
    return reasoning if isinstance(reasoning, str) and reasoning else None


def response_from_openai(body: dict, latency_s: float) -> ChatResponse:
    try:
        choice = body["choices"][0]
        message = choice.get("message") or {}
        text = message.get("content") or ""
        return with_reasoning(ChatResponse(
            text=text,
            finish_reason=choice.get("finish_reason") or "stop",
            usage=usage_from_openai(body.get("usage") or {}),
            latency_s=latency_s,
            model=str(body.get("model") or ""),
            raw=body,
            reasoning=_reasoning_of(message),
        ))
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
        raise ProviderResponseError(f"not an OpenAI chat completion: missing or bad {error}") from None


class OpenAICompatProvider(HTTPEndpoint):
    async def complete(self, request: ChatRequest) -> ChatResponse:
        headers = {"authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        body, latency_s = await self.post("/chat/completions", request_to_openai(request), headers)
        return response_from_openai(body, latency_s)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamDelta]:
        headers = {"authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        payload = request_to_openai(request) | {"stream": True, "stream_options": {"include_usage": True}}
        async with contextlib.aclosing(split_stream(self._deltas(payload, headers))) as deltas:
            async for delta in deltas:
                yield delta

    async def _deltas(self, payload: dict, headers: dict) -> AsyncIterator[StreamDelta]:
        async for event in self.post_stream("/chat/completions", payload, headers):
            yield delta_from_openai_chunk(event)


def delta_from_openai_chunk(event: dict) -> StreamDelta:
    """One chunk of an OpenAI stream; the usage-only chunk (empty choices) carries the token counts."""
    choices = event.get("choices") or []
    choice = choices[0] if choices else {}
    usage = event.get("usage")
    delta = choice.get("delta") or {}
    return StreamDelta(
        text=delta.get("content") or "",
        finish_reason=choice.get("finish_reason"),
        usage=usage_from_openai(usage) if usage else None,
        model=str(event.get("model") or ""),
        reasoning=_reasoning_of(delta),
    )
