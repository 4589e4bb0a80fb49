"""Any endpoint that speaks OpenAI's chat-completions format: OpenAI, DeepSeek, vLLM, Ollama,
llama.cpp server, Upstage, and many more. Wire conversion is pure functions; the class only connects."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from gensandbox.errors import ProviderResponseError
from gensandbox.providers._http import HTTPEndpoint
from gensandbox.providers.capabilities import EVERYTHING
from gensandbox.providers.reasoning import split_stream, with_reasoning
from gensandbox.types import (
    ChatRequest,
    ChatResponse,
    Message,
    ResponseFormat,
    StreamDelta,
    Tool,
    ToolCall,
    ToolCallDelta,
    Usage,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def request_to_openai(request: ChatRequest) -> dict:
    """Every field of the request in OpenAI's form; a field not set is not sent (the endpoint's own default
    applies, as the app asked by sending none), and the parameters GenSandbox does not interpret go on unchanged."""
    payload: dict = {"model": request.model, "messages": [message_to_openai(m) for m in request.messages]}
    if request.max_tokens is not None:
        payload["max_tokens"] = request.max_tokens
    if request.stop:
        payload["stop"] = list(request.stop)
    for name in _AS_IS:
        value = getattr(request, name)
        if value is not None:
            payload[name] = value
    if request.tools:
        payload["tools"] = [tool_to_openai(tool) for tool in request.tools]
    if request.tool_choice is not None:
        choice = request.tool_choice
        payload["tool_choice"] = ({"type": "function", "function": {"name": choice.name}}
                                  if choice.mode == "function" else choice.mode)
    if request.response_format is not None:
        payload["response_format"] = response_format_to_openai(request.response_format)
    return payload | request.passthrough


_AS_IS = ("temperature", "seed", "reasoning_effort", "parallel_tool_calls", "top_p", "presence_penalty",
          "frequency_penalty", "logprobs", "top_logprobs", "user", "metadata")


def message_to_openai(message: Message) -> dict:
    body: dict = {"role": message.role, "content": message.content}
    if message.parts:
        body["content"] = [{"type": "text", "text": part.text} if part.type == "text" else
                           {"type": "image_url", "image_url": {"url": part.url} | (
                               {"detail": part.detail} if part.detail else {})} for part in message.parts]
    if message.tool_calls:
        body["tool_calls"] = [tool_call_to_openai(call) for call in message.tool_calls]
        body["content"] = body["content"] or None
    if message.tool_call_id is not None:
        body["tool_call_id"] = message.tool_call_id
    if message.name is not None:
        body["name"] = message.name
    return body


def tool_call_to_openai(call: ToolCall) -> dict:
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}


def tool_to_openai(tool: Tool) -> dict:
    return {"type": "function", "function": {"name": tool.name} | _set(tool, "description", "parameters", "strict")}


def response_format_to_openai(response_format: ResponseFormat) -> dict:
    if response_format.type != "json_schema":
        return {"type": response_format.type}
    schema = {"name": response_format.name} | _set(response_format, "schema", "strict", "description")
    return {"type": "json_schema", "json_schema": schema}


def _set(value, *names: str) -> dict:
    """The named fields of `value` that are set (None is "not sent")."""
    return {name: getattr(value, name) for name in names if getattr(value, name) is not None}


def usage_from_openai(usage: dict) -> Usage:
    """Token counts; OpenAI counts reasoning inside completion_tokens and tells how much of it there was."""
    details = usage.get("completion_tokens_details") or {}
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
    return Usage(input_tokens=int(usage.get("prompt_tokens") or 0),
                 output_tokens=int(usage.get("completion_tokens") or 0),
                 reasoning_tokens=int(details.get("reasoning_tokens") or 0),
                 cached_input_tokens=int(cached or 0))


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
            tool_calls=tuple(ToolCall(str(call.get("id") or ""), call["function"]["name"],
                                      call["function"].get("arguments") or "")
                             for call in message.get("tool_calls") or ()),
            logprobs=choice.get("logprobs"),
        ))
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
        raise ProviderResponseError(f"not an OpenAI chat completion: missing or bad {error}") from None


class OpenAICompatProvider(HTTPEndpoint):
    # The endpoint decides what it honours: what it cannot do, it refuses itself, and its 400 reaches the app.
    capabilities = EVERYTHING

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
        tool_calls=tuple(_tool_call_delta(call) for call in delta.get("tool_calls") or ()),
        logprobs=choice.get("logprobs"),
    )


def _tool_call_delta(call: dict) -> ToolCallDelta:
    function = call.get("function") or {}
    return ToolCallDelta(int(call.get("index") or 0), call.get("id"), function.get("name"),
                         function.get("arguments") or "")
