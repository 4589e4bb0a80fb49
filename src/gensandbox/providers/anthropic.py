"""Anthropic's Messages API. Pure wire functions plus a thin connecting class."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from gensandbox.errors import ProviderResponseError, UserError
from gensandbox.providers._http import HTTPEndpoint
from gensandbox.providers.anthropic_tools import (
    answer_tool_name,
    messages_to_anthropic,
    tool_calls_from_content,
    tools_payload,
    usage_from_anthropic,
)
from gensandbox.providers.capabilities import (
    IMAGES,
    JSON_OBJECT,
    JSON_SCHEMA,
    NAMED_TOOL,
    PARALLEL_TOOL_CALLS,
    REQUIRED_TOOL,
    STOP,
    TOOLS,
    TOP_P,
)
from gensandbox.providers.reasoning import estimate_reasoning_tokens, split_stream, with_reasoning
from gensandbox.types import ChatRequest, ChatResponse, StreamDelta, ToolCallDelta

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
        "messages": messages_to_anthropic(request.messages),
    }
    if request.temperature is not None:
        payload["temperature"] = request.temperature
    if request.top_p is not None:
        payload["top_p"] = request.top_p
    if system:
        payload["system"] = system
    if request.stop:
        payload["stop_sequences"] = list(request.stop)
    if request.user is not None:
        payload["metadata"] = {"user_id": request.user}
    payload |= tools_payload(request)
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


def response_from_anthropic(body: dict, latency_s: float, answer_tool: str | None = None) -> ChatResponse:
    """`answer_tool`: the forced tool a JSON answer was asked through (anthropic_tools.answer_tool), whose input
    is the answer's text, not a call for the app to make."""
    try:
        content = body["content"]
        text = "".join(block["text"] for block in content if block.get("type") == "text")
        thinking = "\n\n".join(block["thinking"] for block in content if block.get("type") == "thinking")
        calls = tool_calls_from_content(content)
        stop_reason = body.get("stop_reason") or "end_turn"
        finish_reason = _FINISH_REASONS.get(stop_reason, stop_reason)
        if answer_tool is not None:
            text += "".join(call.arguments for call in calls if call.name == answer_tool)
            calls = tuple(call for call in calls if call.name != answer_tool)
            finish_reason = "stop" if finish_reason == "tool_calls" else finish_reason
        usage = body.get("usage") or {}
        output_tokens = int(usage.get("output_tokens") or 0)
        return with_reasoning(ChatResponse(
            text=text,
            finish_reason=finish_reason,
            usage=usage_from_anthropic(usage, output_tokens, _thinking_tokens(content, len(text), output_tokens)),
            latency_s=latency_s,
            model=str(body.get("model") or ""),
            raw=body,
            reasoning=thinking or None,
            tool_calls=calls,
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
    # No seed, penalties, logprobs, reasoning_effort or unknown parameters: Anthropic's API has none of them.
    capabilities = frozenset({TOOLS, REQUIRED_TOOL, NAMED_TOOL, PARALLEL_TOOL_CALLS, IMAGES, JSON_OBJECT, JSON_SCHEMA,
                              TOP_P, STOP})

    def _headers(self) -> dict:
        headers = {"anthropic-version": API_VERSION}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        return headers

    async def complete(self, request: ChatRequest) -> ChatResponse:
        body, latency_s = await self.post("/v1/messages", request_to_anthropic(request), self._headers())
        return response_from_anthropic(body, latency_s, answer_tool_name(request.response_format))

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamDelta]:
        payload = request_to_anthropic(request) | {"stream": True}
        state = StreamState(answer_tool=answer_tool_name(request.response_format))
        async with contextlib.aclosing(split_stream(self._deltas(payload, state))) as deltas:
            async for delta in deltas:
                yield delta

    async def _deltas(self, payload: dict, state: StreamState) -> AsyncIterator[StreamDelta]:
        async for event in self.post_stream("/v1/messages", payload, self._headers()):
            delta = delta_from_anthropic_event(event, state)
            if delta is not None:
                yield delta


@dataclass
class StreamState:
    """What a stream's later events need from its earlier ones."""

    answer_tool: str | None = None  # the forced tool of a JSON answer, whose input streams as the answer's text
    usage: dict = field(default_factory=dict)  # message_start's token counts (the prompt's, cached or not)
    tool_calls: dict[int, int] = field(default_factory=dict)  # content block index -> tool call index
    answer_blocks: set[int] = field(default_factory=set)  # content block indexes of the answer tool


def delta_from_anthropic_event(event: dict, state: StreamState) -> StreamDelta | None:
    """Anthropic streams typed events; text, thinking and tool input come in content_block_delta, a tool call's id
    and name in its content_block_start, the stop reason and output tokens in message_delta, the prompt's tokens in
    message_start. (The thinking-token estimate is made over the whole stream, by split_stream; redacted thinking is
    not counted in streams.)"""
    kind = event.get("type")
    if kind == "message_start":
        state.usage = dict(((event.get("message") or {}).get("usage")) or {})
        return None
    if kind == "content_block_start":
        return _block_start(event, state)
    if kind == "content_block_delta":
        return _block_delta(event, state)
    if kind == "message_delta":
        stop_reason = (event.get("delta") or {}).get("stop_reason") or "end_turn"
        finish_reason = _FINISH_REASONS.get(stop_reason, stop_reason)
        if state.answer_blocks and finish_reason == "tool_calls":
            finish_reason = "stop"  # the forced answer tool was called: the JSON answer is complete
        usage = event.get("usage") or {}
        counts = state.usage | {name: value for name, value in usage.items() if value is not None}  # totals so far
        return StreamDelta(finish_reason=finish_reason,
                           usage=usage_from_anthropic(counts, int(usage.get("output_tokens") or 0)))
    if kind == "error":
        raise ProviderResponseError(f"stream error: {(event.get('error') or {}).get('message', event)}")
    return None


def _block_start(event: dict, state: StreamState) -> StreamDelta | None:
    block = event.get("content_block") or {}
    if block.get("type") != "tool_use":
        return None
    if block.get("name") == state.answer_tool:
        state.answer_blocks.add(event.get("index"))
        return None
    index = state.tool_calls[event.get("index")] = len(state.tool_calls)
    return StreamDelta(tool_calls=(ToolCallDelta(index, str(block.get("id") or ""), block.get("name"), ""),))


def _block_delta(event: dict, state: StreamState) -> StreamDelta | None:
    delta = event.get("delta") or {}
    kind = delta.get("type")
    if kind == "text_delta":
        return StreamDelta(text=delta.get("text") or "")
    if kind == "thinking_delta":
        return StreamDelta(reasoning=delta.get("thinking") or None)
    if kind != "input_json_delta" or not delta.get("partial_json"):
        return None
    if event.get("index") in state.answer_blocks:
        return StreamDelta(text=delta["partial_json"])
    index = state.tool_calls.get(event.get("index"))
    if index is None:
        raise ProviderResponseError("stream error: tool input for a content block that is not a tool_use")
    return StreamDelta(tool_calls=(ToolCallDelta(index, arguments=delta["partial_json"]),))
