"""The parts of Anthropic's Messages API beyond plain text: content blocks (images, tool use, tool results), tools,
tool_choice, and structured output made with a forced tool. Pure functions; no I/O."""

from __future__ import annotations

import base64
import json
import urllib.parse

from gensandbox.errors import RunError
from gensandbox.types import ChatRequest, ContentPart, Message, ResponseFormat, Tool, ToolCall, Usage

# The tool an answer in JSON is written into when the response format names none (json_object).
ANSWER_TOOL = "json_answer"
# What OpenAI means by a function with no `parameters`: one that takes no arguments.
NO_ARGUMENTS = {"type": "object", "properties": {}}


def messages_to_anthropic(messages: tuple[Message, ...]) -> list[dict]:
    """The conversation without its system messages. Anthropic has no tool role: consecutive tool results go back
    together, as tool_result blocks of one user message (the turn that follows the assistant's tool_use)."""
    converted: list[dict] = []
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "tool":
            result = {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": _result_content(message)}
            if converted and converted[-1].get("_tool_results"):
                converted[-1]["content"].append(result)
            else:
                converted.append({"role": "user", "content": [result], "_tool_results": True})
            continue
        converted.append({"role": message.role, "content": _content(message)})
    for message in converted:
        message.pop("_tool_results", None)
    return converted


def _content(message: Message) -> str | list[dict]:
    """A plain string while the message is only text (what Anthropic and the ledger's records always had);
    otherwise blocks: its parts in order, then its tool calls."""
    if not message.parts and not message.tool_calls:
        return message.content
    blocks = [part_to_anthropic(part) for part in message.parts]
    if not message.parts and message.content:
        blocks.append({"type": "text", "text": message.content})
    blocks += [{"type": "tool_use", "id": call.id, "name": call.name, "input": tool_input(call)}
               for call in message.tool_calls]
    return blocks


def _result_content(message: Message) -> str | list[dict]:
    return [part_to_anthropic(part) for part in message.parts] if message.parts else message.content


def part_to_anthropic(part: ContentPart) -> dict:
    if part.type == "text":
        return {"type": "text", "text": part.text}
    if not part.url.startswith("data:"):
        return {"type": "image", "source": {"type": "url", "url": part.url}}
    media_type, data = data_url_bytes(part.url)
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}


def data_url_bytes(url: str) -> tuple[str, str]:
    """(media type, base64 data) of a data: URL. Anthropic takes images only base64-encoded, so a percent-encoded
    data: URL is re-encoded: the same bytes, in the form Anthropic reads."""
    header, _, body = url.removeprefix("data:").partition(",")
    media_type, *options = header.split(";")
    if "base64" in options:
        return media_type, body
    return media_type, base64.b64encode(urllib.parse.unquote_to_bytes(body)).decode("ascii")


def tool_input(call: ToolCall) -> dict:
    """Anthropic takes a call's arguments as a JSON object, where OpenAI's form carries them as JSON text. Text that
    is not a JSON object cannot be sent as it is: this model fails (a RunError, so it is recorded and a route falls
    back to another model), rather than the arguments being changed."""
    try:
        arguments = json.loads(call.arguments) if call.arguments else {}
    except ValueError:
        arguments = None
    if not isinstance(arguments, dict):
        raise RunError(f"the arguments of tool call {call.id} are not a JSON object, and Anthropic's API takes them "
                       "only as one")
    return arguments


def tool_to_anthropic(tool: Tool) -> dict:
    body: dict = {"name": tool.name, "input_schema": tool.parameters if tool.parameters is not None else NO_ARGUMENTS}
    if tool.description is not None:
        body["description"] = tool.description
    if tool.strict is not None:
        body["strict"] = tool.strict
    return body


def tool_choice_to_anthropic(request: ChatRequest) -> dict | None:
    """OpenAI's tool_choice and parallel_tool_calls in Anthropic's one tool_choice object. The parallel setting
    rides on a choice, so an app that set only it gets Anthropic's default choice, auto, to carry it."""
    choice = request.tool_choice
    if choice is None and request.parallel_tool_calls is None:
        return None
    mode = choice.mode if choice is not None else "auto"
    if mode == "none":  # no calls at all, so whether they may come several at once does not arise
        return {"type": "none"}
    body = {"auto": {"type": "auto"}, "required": {"type": "any"}}.get(mode) or {"type": "tool", "name": choice.name}
    if request.parallel_tool_calls is not None:
        body["disable_parallel_tool_use"] = not request.parallel_tool_calls
    return body


def answer_tool_name(response_format: ResponseFormat | None) -> str | None:
    """The forced tool whose input is the answer, when the app asked for JSON; None for a free-text answer."""
    if response_format is None or response_format.type == "text":
        return None
    return response_format.name or ANSWER_TOOL


def answer_tool(response_format: ResponseFormat) -> dict:
    """Anthropic has no response_format: a JSON answer is a call the model is made to make of a tool whose input
    schema is the answer's schema (Anthropic's documented way to get JSON)."""
    schema = response_format.schema if response_format.type == "json_schema" else None
    body: dict = {"name": answer_tool_name(response_format), "input_schema": schema or {"type": "object"}}
    if response_format.description is not None:
        body["description"] = response_format.description
    if response_format.strict is not None:
        body["strict"] = response_format.strict
    return body


def tools_payload(request: ChatRequest) -> dict:
    """The request's tools and tool_choice, or the forced answer tool of a JSON response format (the gateway
    refuses both together for an Anthropic model: providers.capabilities.TOOLS_WITH_FORMAT)."""
    name = answer_tool_name(request.response_format)
    if name is not None:
        return {"tools": [answer_tool(request.response_format)], "tool_choice": {"type": "tool", "name": name}}
    payload: dict = {}
    if request.tools:
        payload["tools"] = [tool_to_anthropic(tool) for tool in request.tools]
    choice = tool_choice_to_anthropic(request)
    if choice is not None:
        payload["tool_choice"] = choice
    return payload


def tool_calls_from_content(content: list[dict]) -> tuple[ToolCall, ...]:
    return tuple(ToolCall(str(block["id"]), block["name"], json.dumps(block.get("input") or {}, ensure_ascii=False))
                 for block in content if block.get("type") == "tool_use")


def usage_from_anthropic(usage: dict, output_tokens: int, reasoning_tokens: int = 0) -> Usage:
    """Anthropic counts the prompt in three parts (uncached, written to its cache, read from it); every one of them
    is input the model read, and the part read from the cache is what OpenAI calls cached tokens."""
    cache_read = int(usage.get("cache_read_input_tokens") or 0)
    return Usage(input_tokens=int(usage.get("input_tokens") or 0) + int(usage.get("cache_creation_input_tokens") or 0)
                 + cache_read, output_tokens=output_tokens, reasoning_tokens=reasoning_tokens,
                 cached_input_tokens=cache_read)
