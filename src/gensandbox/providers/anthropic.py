"""Anthropic's Messages API. Pure wire functions plus a thin connecting class."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from gensandbox.errors import ProviderResponseError, UserError
from gensandbox.providers._http import HTTPEndpoint
from gensandbox.providers.capabilities import STOP
from gensandbox.providers.reasoning import estimate_reasoning_tokens, split_stream, with_reasoning
from gensandbox.types import ChatRequest, ChatResponse, StreamDelta, Usage

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"

# Anthropic's stop reasons, in OpenAI's vocabulary so results compare across providers.
_FINISH_REASONS = {
    "end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls",
}


def request_to_anthropic(request: ChatRequest) -> dict:
    if request.max_tokens is None:  # the gateway fills it in from the model's max_output_tokens, or refuses
        raise UserError(f"Anthropic's API requires max_tokens, and the request to {request.model} has none")
    system = "\n\n".join(m.content for m in request.messages if m.role == "system")
    payload: dict = {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages if m.role != "system"],
    }
    if request.temperature is not None:
        payload["temperature"] = request.temperature
    if system:
        payload["system"] = system
    if request.stop:
        payload["stop_sequences"] = list(request.stop)
    if request.thinking_budget_tokens is not None:
        payload |= _thinking(request)
    return payload


def _thinking(request: ChatRequest) -> dict:
    """Extended thinking. Anthropic refuses it with any temperature but the default 1, so none is sent, and
    the thinking budget counts toward max_tokens, so the budget must leave room for an answer."""
    if request.thinking_budget_tokens >= request.max_tokens:
        raise UserError(f"thinking_budget_tokens ({request.thinking_budget_tokens}) must be below max_tokens "
                        f"({request.max_tokens}): Anthropic counts the thinking within max_tokens")
    return {"thinking": {"type": "enabled", "budget_tokens": request.thinking_budget_tokens}, "temperature": 1.0}


def response_from_anthropic(body: dict, latency_s: float) -> ChatResponse:
    try:
        text = "".join(block["text"] for block in body["content"] if block.get("type") == "text")
        thinking = "\n\n".join(block["thinking"] for block in body["content"] if block.get("type") == "thinking")
        usage = body.get("usage") or {}
        stop_reason = body.get("stop_reason") or "end_turn"
        output_tokens = int(usage.get("output_tokens") or 0)
        return with_reasoning(ChatResponse(
            text=text,
            finish_reason=_FINISH_REASONS.get(stop_reason, stop_reason),
            usage=Usage(
                input_tokens=int(usage.get("input_tokens") or 0),
                output_tokens=output_tokens,
                reasoning_tokens=_thinking_tokens(body["content"], len(text), output_tokens),
            ),
            latency_s=latency_s,
            model=str(body.get("model") or ""),
            raw=body,
            reasoning=thinking or None,
        ))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ProviderResponseError(f"not an Anthropic message: missing or bad {error}") from None


def _thinking_tokens(content: list[dict], answer_chars: int, output_tokens: int) -> int:
    """Anthropic bills thinking as output tokens without saying how many: estimated by characters. A
    redacted_thinking block has no readable text; its encrypted `data` stands in for the length it hides."""
    thinking_chars = sum(len(block.get("thinking") or "") for block in content if block.get("type") == "thinking")
    redacted_chars = sum(len(block.get("data") or "") for block in content if block.get("type") == "redacted_thinking")
    return estimate_reasoning_tokens(thinking_chars + redacted_chars, answer_chars, output_tokens)


class AnthropicProvider(HTTPEndpoint):
    capabilities = frozenset({STOP})  # Anthropic's API has no seed

    async def complete(self, request: ChatRequest) -> ChatResponse:
        headers = {"anthropic-version": API_VERSION}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        body, latency_s = await self.post("/v1/messages", request_to_anthropic(request), headers)
        return response_from_anthropic(body, latency_s)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamDelta]:
        headers = {"anthropic-version": API_VERSION}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        payload = request_to_anthropic(request) | {"stream": True}
        async with contextlib.aclosing(split_stream(self._deltas(payload, headers))) as deltas:
            async for delta in deltas:
                yield delta

    async def _deltas(self, payload: dict, headers: dict) -> AsyncIterator[StreamDelta]:
        input_tokens = 0
        async for event in self.post_stream("/v1/messages", payload, headers):
            delta, input_tokens = delta_from_anthropic_event(event, input_tokens)
            if delta is not None:
                yield delta


def delta_from_anthropic_event(event: dict, input_tokens: int) -> tuple[StreamDelta | None, int]:
    """Anthropic streams typed events; text and thinking come in content_block_delta, the stop reason and
    output tokens in message_delta, the input tokens in message_start. (The thinking-token estimate is made
    over the whole stream, by split_stream; redacted thinking is not counted in streams.)"""
    kind = event.get("type")
    if kind == "message_start":
        return None, int(((event.get("message") or {}).get("usage") or {}).get("input_tokens") or 0)
    if kind == "content_block_delta" and (event.get("delta") or {}).get("type") == "text_delta":
        return StreamDelta(text=event["delta"].get("text") or ""), input_tokens
    if kind == "content_block_delta" and (event.get("delta") or {}).get("type") == "thinking_delta":
        return StreamDelta(reasoning=event["delta"].get("thinking") or None), input_tokens
    if kind == "message_delta":
        stop_reason = (event.get("delta") or {}).get("stop_reason") or "end_turn"
        output_tokens = int((event.get("usage") or {}).get("output_tokens") or 0)
        return StreamDelta(finish_reason=_FINISH_REASONS.get(stop_reason, stop_reason),
                           usage=Usage(input_tokens, output_tokens)), input_tokens
    if kind == "error":
        raise ProviderResponseError(f"stream error: {(event.get('error') or {}).get('message', event)}")
    return None, input_tokens
