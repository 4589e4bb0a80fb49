"""Any endpoint that speaks OpenAI's chat-completions format: OpenAI, DeepSeek, vLLM, Ollama,
llama.cpp server, Upstage, and many more. Wire conversion is pure functions; the class only connects."""

from __future__ import annotations

from collections.abc import AsyncIterator

from gensandbox.errors import ProviderResponseError
from gensandbox.providers._http import HTTPEndpoint
from gensandbox.types import ChatRequest, ChatResponse, StreamDelta, Usage

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def request_to_openai(request: ChatRequest) -> dict:
    payload: dict = {
        "model": request.model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
    }
    if request.stop:
        payload["stop"] = list(request.stop)
    if request.seed is not None:
        payload["seed"] = request.seed
    return payload


def response_from_openai(body: dict, latency_s: float) -> ChatResponse:
    try:
        choice = body["choices"][0]
        message = choice.get("message") or {}
        text = message.get("content") or ""
        usage = body.get("usage") or {}
        return ChatResponse(
            text=text,
            finish_reason=choice.get("finish_reason") or "stop",
            usage=Usage(
                input_tokens=int(usage.get("prompt_tokens") or 0),
                output_tokens=int(usage.get("completion_tokens") or 0),
            ),
            latency_s=latency_s,
            model=str(body.get("model") or ""),
            raw=body,
        )
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
        async for event in self.post_stream("/chat/completions", payload, headers):
            yield delta_from_openai_chunk(event)


def delta_from_openai_chunk(event: dict) -> StreamDelta:
    """One chunk of an OpenAI stream; the usage-only chunk (empty choices) carries the token counts."""
    choices = event.get("choices") or []
    choice = choices[0] if choices else {}
    usage = event.get("usage")
    return StreamDelta(
        text=(choice.get("delta") or {}).get("content") or "",
        finish_reason=choice.get("finish_reason"),
        usage=Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
        if usage else None,
        model=str(event.get("model") or ""),
    )
