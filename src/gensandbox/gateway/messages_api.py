"""Anthropic's Messages API at the gateway's edge (POST /v1/messages), so an app written with the official anthropic
SDK can use the gateway: request validation, the request in the gateway's one request model, and the message bodies
and stream events it answers with. Pure functions and pydantic models; no I/O.

Every parameter taken here is honoured or refused (by the model's capabilities, as for chat completions); any
other, and any content block of another type, is a 400 naming it, so nothing an app sends is dropped."""

from __future__ import annotations

import json
import time
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from gensandbox.gateway.service import Asked
from gensandbox.gateway.wire import MAX_TOKENS_LIMIT, STRICT, whole_number
from gensandbox.types import (
    ChatRequest,
    ChatResponse,
    ContentPart,
    Message,
    StreamDelta,
    Tool,
    ToolCall,
    ToolChoice,
    Usage,
)


class TextBlock(BaseModel):
    model_config = STRICT
    type: Literal["text"]
    text: str


class Base64Source(BaseModel):
    model_config = STRICT
    type: Literal["base64"]
    media_type: Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
    data: str


class URLSource(BaseModel):
    model_config = STRICT
    type: Literal["url"]
    url: str = Field(pattern=r"^https?://")


class ImageBlock(BaseModel):
    model_config = STRICT
    type: Literal["image"]
    source: Annotated[Base64Source | URLSource, Field(discriminator="type")]


class ToolUseBlock(BaseModel):
    model_config = STRICT
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict


class ToolResultBlock(BaseModel):
    model_config = STRICT
    type: Literal["tool_result"]
    tool_use_id: str
    content: str | list[TextBlock] = ""


UserBlock = Annotated[TextBlock | ImageBlock | ToolResultBlock, Field(discriminator="type")]
AssistantBlock = Annotated[TextBlock | ToolUseBlock, Field(discriminator="type")]


class UserTurn(BaseModel):
    model_config = STRICT
    role: Literal["user"]
    content: str | list[UserBlock]


class AssistantTurn(BaseModel):
    model_config = STRICT
    role: Literal["assistant"]
    content: str | list[AssistantBlock]


class ToolDefinition(BaseModel):
    model_config = STRICT
    type: Literal["custom"] | None = None
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: str | None = None
    input_schema: dict
    strict: bool | None = None


class AutoChoice(BaseModel):
    model_config = STRICT
    type: Literal["auto"]
    disable_parallel_tool_use: bool | None = None


class AnyChoice(BaseModel):
    model_config = STRICT
    type: Literal["any"]
    disable_parallel_tool_use: bool | None = None


class NamedChoice(BaseModel):
    model_config = STRICT
    type: Literal["tool"]
    name: str
    disable_parallel_tool_use: bool | None = None


class NoneChoice(BaseModel):
    model_config = STRICT
    type: Literal["none"]


ToolChoiceSpec = Annotated[AutoChoice | AnyChoice | NamedChoice | NoneChoice, Field(discriminator="type")]


class Metadata(BaseModel):
    model_config = STRICT
    user_id: str | None = None


class MessagesRequest(BaseModel):
    """The parameters of Anthropic's Messages API the gateway honours; any other is refused by name."""

    model_config = STRICT
    model: str = Field(min_length=1)
    max_tokens: int = Field(ge=1, le=MAX_TOKENS_LIMIT)  # required by this API
    messages: list[Annotated[UserTurn | AssistantTurn, Field(discriminator="role")]] = Field(min_length=1)
    system: str | list[TextBlock] | None = None
    stop_sequences: list[str] | None = None
    temperature: float | None = Field(default=None, ge=0, le=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    tools: list[ToolDefinition] | None = None
    tool_choice: ToolChoiceSpec | None = None
    metadata: Metadata | None = None
    stream: bool = False

    _whole_numbers = field_validator("max_tokens", mode="before")(whole_number)


def to_asked(body: MessagesRequest) -> Asked:
    """What the app asked, in the gateway's request model, and nothing it did not: no seed, no temperature unless
    it sent one."""
    choice = body.tool_choice
    disable_parallel = getattr(choice, "disable_parallel_tool_use", None)
    request = ChatRequest(
        model="",
        messages=_system(body.system) + tuple(m for turn in body.messages for m in _turn(turn)),
        max_tokens=body.max_tokens,
        temperature=body.temperature,
        stop=tuple(body.stop_sequences or ()),
        seed=None,
        tools=tuple(Tool(t.name, t.description, t.input_schema, t.strict) for t in body.tools or ()),
        tool_choice=_tool_choice(choice),
        parallel_tool_calls=None if disable_parallel is None else not disable_parallel,
        top_p=body.top_p,
        user=body.metadata.user_id if body.metadata else None,
    )
    return Asked(body.model, request, body.stream, None)


def _system(system: str | list[TextBlock] | None) -> tuple[Message, ...]:
    if system is None or system == "":
        return ()
    if isinstance(system, str):
        return (Message("system", system),)
    return tuple(Message("system", block.text) for block in system)


def _turn(turn: UserTurn | AssistantTurn) -> list[Message]:
    """One turn as the gateway's messages. A user turn's tool_result blocks are tool messages, each in its place
    among the turn's other blocks; an assistant turn's tool_use blocks are its tool calls."""
    if isinstance(turn.content, str):
        return [Message(turn.role, turn.content)]
    if turn.role == "assistant":
        parts = tuple(ContentPart("text", text=b.text) for b in turn.content if isinstance(b, TextBlock))
        calls = tuple(ToolCall(b.id, b.name, json.dumps(b.input, ensure_ascii=False))
                      for b in turn.content if isinstance(b, ToolUseBlock))
        return [Message("assistant", "".join(p.text for p in parts), parts, calls)]
    messages: list[Message] = []
    pending: list[ContentPart] = []
    for block in turn.content:
        if isinstance(block, ToolResultBlock):
            messages += _user_message(pending)
            pending = []
            messages.append(_tool_result(block))
        else:
            pending.append(_part(block))
    return messages + _user_message(pending)


def _user_message(parts: list[ContentPart]) -> list[Message]:
    return [Message("user", "".join(p.text for p in parts), tuple(parts))] if parts else []


def _tool_result(block: ToolResultBlock) -> Message:
    if isinstance(block.content, str):
        return Message("tool", block.content, tool_call_id=block.tool_use_id)
    parts = tuple(ContentPart("text", text=b.text) for b in block.content)
    return Message("tool", "".join(p.text for p in parts), parts, tool_call_id=block.tool_use_id)


def _part(block: TextBlock | ImageBlock) -> ContentPart:
    if isinstance(block, TextBlock):
        return ContentPart("text", text=block.text)
    source = block.source
    url = source.url if isinstance(source, URLSource) else f"data:{source.media_type};base64,{source.data}"
    return ContentPart("image", url=url)


def _tool_choice(choice) -> ToolChoice | None:
    if choice is None:
        return None
    if isinstance(choice, NamedChoice):
        return ToolChoice("function", choice.name)
    return ToolChoice({"auto": "auto", "any": "required", "none": "none"}[choice.type])


# The gateway's finish reasons (OpenAI's vocabulary) in Anthropic's.
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}


def message_id() -> str:
    return f"msg_{time.time_ns():x}"


def message_body(response: ChatResponse, model: str) -> dict:
    """An answer as Anthropic's message object. A stop at one of the app's stop sequences is told apart from the end
    of the turn where the model's API says which it was (Anthropic's does; OpenAI's says "stop" for both)."""
    raw_stop = response.raw.get("stop_reason") if isinstance(response.raw, dict) else None
    stopped_at = response.raw.get("stop_sequence") if raw_stop == "stop_sequence" else None
    content = ([{"type": "text", "text": response.text}] if response.text else []) + [
        tool_use_block(call) for call in response.tool_calls]
    return {"id": message_id(), "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": "stop_sequence" if stopped_at is not None else stop_reason(response.finish_reason),
            "stop_sequence": stopped_at, "usage": usage_body(response.usage)}


def stop_reason(finish_reason: str | None) -> str:
    return STOP_REASONS.get(finish_reason or "stop", "end_turn")


def tool_use_block(call: ToolCall) -> dict:
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": tool_input(call.arguments)}


def tool_input(arguments: str) -> dict | str:
    """Anthropic gives a call's arguments as a JSON object. Arguments a model wrote that are not one are passed on as
    the text they are (the anthropic SDK takes them so), rather than changed or dropped."""
    try:
        value = json.loads(arguments) if arguments else {}
    except ValueError:
        return arguments
    return value if isinstance(value, dict) else arguments


def usage_body(usage: Usage) -> dict:
    """Anthropic's input_tokens leave out the prompt tokens read from its cache, which it counts apart."""
    body = {"input_tokens": usage.input_tokens - usage.cached_input_tokens, "output_tokens": usage.output_tokens}
    if usage.cached_input_tokens:
        body["cache_read_input_tokens"] = usage.cached_input_tokens
    return body


def error_body(status: int, message: str, code: str | None = None, param: str | None = None) -> dict:
    """An error as Anthropic's API shapes it, its type named by status; the gateway's code and parameter kept too."""
    kind = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
            404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error"}.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message, "code": code, "param": param}}


def sse(payload: dict) -> bytes:
    """One server-sent event as Anthropic sends them: its type as the event name (the SDK reads events by it)."""
    return f"event: {payload['type']}\ndata: ".encode() + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"


class MessageStream:
    """The events of one streamed answer: each piece of text or tool call goes into a content block of its own kind,
    opened when its first piece comes and stopped when another block starts or the answer ends."""

    def __init__(self, model: str):
        self.model, self.id = model, message_id()
        self.open: tuple[str, int] | None = None  # the open block: ("text", 0) or ("tool", the call's index)
        self.blocks = 0  # content blocks started so far
        self.tool_blocks: dict[int, int] = {}  # a tool call's index -> its content block's index
        self.texts: list[str] = []  # the answer's text, for the record

    def start(self) -> bytes:
        return sse({"type": "message_start", "message": {
            "id": self.id, "type": "message", "role": "assistant", "model": self.model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 0, "output_tokens": 0}}})

    def piece(self, delta: StreamDelta) -> list[bytes]:
        events = []
        if delta.text:
            self.texts.append(delta.text)
            events += self._enter(("text", 0), {"type": "text", "text": ""})
            events.append(sse({"type": "content_block_delta", "index": self.blocks - 1,
                               "delta": {"type": "text_delta", "text": delta.text}}))
        for call in delta.tool_calls:
            if call.index not in self.tool_blocks:
                events += self._enter(("tool", call.index), {"type": "tool_use", "id": call.id or "",
                                                              "name": call.name or "", "input": {}})
                self.tool_blocks[call.index] = self.blocks - 1
            if call.arguments:
                events.append(sse({"type": "content_block_delta", "index": self.tool_blocks[call.index],
                                   "delta": {"type": "input_json_delta", "partial_json": call.arguments}}))
        return events

    def _enter(self, block: tuple[str, int], content_block: dict) -> list[bytes]:
        """Start a block unless it is the open one (text continues the open text block)."""
        if self.open == block:
            return []
        events = self._stop()
        self.open = block
        self.blocks += 1
        return events + [sse({"type": "content_block_start", "index": self.blocks - 1,
                              "content_block": content_block})]

    def _stop(self) -> list[bytes]:
        if self.open is None:
            return []
        self.open = None
        return [sse({"type": "content_block_stop", "index": self.blocks - 1})]

    def finish(self, finish_reason: str | None, usage: Usage | None, receipt: str | None) -> list[bytes]:
        """The answer's end; the receipt rides on message_stop, sent once the answer is on the record."""
        delta = {"type": "message_delta", "delta": {"stop_reason": stop_reason(finish_reason), "stop_sequence": None},
                 "usage": usage_body(usage) if usage else {"output_tokens": 0}}
        stop = {"type": "message_stop"} | ({"gensandbox_receipt": receipt} if receipt else {})
        return self._stop() + [sse(delta), sse(stop)]


def error_event(message: str) -> bytes:
    return sse({"type": "error", "error": {"type": "api_error", "message": message}})
