"""OpenAI's Responses API wire format (POST /v1/responses) onto the one request model, and answers back: request
validation, the response object and its stream events. Pure functions and pydantic models; no I/O.

Everything a Responses request can carry that GenSandbox can honour through any chat model is taken; what it cannot
(built-in tools such as web search, background mode, reasoning items) is refused by name, never dropped."""

from __future__ import annotations

import json
import time
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Discriminator, Field, Tag, field_validator

from gensandbox.gateway.wire import MAX_TOKENS_LIMIT, STRICT, FunctionSpec, whole_number
from gensandbox.types import (
    ChatRequest,
    ChatResponse,
    ContentPart,
    Message,
    ResponseFormat,
    ToolCall,
    ToolChoice,
    Usage,
)


class InputText(BaseModel):
    model_config = STRICT
    type: Literal["input_text", "output_text"]
    text: str
    annotations: list | None = None  # an earlier answer's (always empty here), sent back by SDKs
    logprobs: list | None = None


class InputImage(BaseModel):
    model_config = STRICT
    type: Literal["input_image"]
    image_url: str = Field(pattern=r"^(https?://|data:image/)")
    detail: Literal["auto", "low", "high"] | None = None


InputPart = Annotated[InputText | InputImage, Field(discriminator="type")]


class MessageItem(BaseModel):
    model_config = STRICT
    type: Literal["message"] = "message"
    role: Literal["user", "system", "developer", "assistant"]
    content: str | list[InputPart]
    id: str | None = None
    status: str | None = None


class FunctionCallItem(BaseModel):
    model_config = STRICT
    type: Literal["function_call"]
    call_id: str
    name: str
    arguments: str
    id: str | None = None
    status: str | None = None


class FunctionCallOutputItem(BaseModel):
    model_config = STRICT
    type: Literal["function_call_output"]
    call_id: str
    output: str | list[InputText]
    id: str | None = None
    status: str | None = None


def _item_type(item) -> str | None:
    # A message item may leave out its type, as OpenAI's API allows.
    return item.get("type", "message") if isinstance(item, dict) else getattr(item, "type", None)


InputItem = Annotated[Annotated[MessageItem, Tag("message")] | Annotated[FunctionCallItem, Tag("function_call")]
                      | Annotated[FunctionCallOutputItem, Tag("function_call_output")], Discriminator(_item_type)]


class FunctionTool(FunctionSpec):
    """The Responses API's function tool: chat completions' function, flattened beside its type."""

    type: Literal["function"]


class NamedFunctionChoice(BaseModel):
    model_config = STRICT
    type: Literal["function"]
    name: str


class ResponseTextFormat(BaseModel):
    model_config = STRICT
    type: Literal["text", "json_object", "json_schema"]
    name: str | None = None
    schema_: dict | None = Field(default=None, alias="schema")
    strict: bool | None = None
    description: str | None = None


class ResponseTextOptions(BaseModel):
    model_config = STRICT
    format: ResponseTextFormat | None = None


class Reasoning(BaseModel):
    model_config = STRICT
    effort: Literal["minimal", "low", "medium", "high"] | None = None


class ResponsesRequest(BaseModel):
    """The Responses parameters GenSandbox honours. Any other is refused by name: a Responses request reaches models
    of every API through the one request model, so there is no upstream to pass an unknown one on to."""

    model_config = STRICT
    model: str = Field(min_length=1)
    input: str | list[InputItem]
    instructions: str | None = None
    tools: list[FunctionTool] | None = None
    tool_choice: Literal["auto", "none", "required"] | NamedFunctionChoice | None = None
    parallel_tool_calls: bool | None = None
    max_output_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS_LIMIT)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    text: ResponseTextOptions | None = None
    reasoning: Reasoning | None = None
    previous_response_id: str | None = None
    store: bool | None = None
    stream: bool = False
    metadata: dict[str, str] | None = None
    user: str | None = None
    include: list[str] | None = Field(default=None, max_length=0)  # no extra output is offered to include
    truncation: Literal["disabled"] | None = None  # the default; "auto" would drop input, which is never done

    _whole_numbers = field_validator("max_output_tokens", mode="before")(whole_number)


def _message_items(body: ResponsesRequest) -> list:
    # A bare string is one user message; a message item may omit its type.
    return [MessageItem(role="user", content=body.input)] if isinstance(body.input, str) else list(body.input)


def to_messages(body: ResponsesRequest) -> list[Message]:
    """The input items as messages of the request model: function calls join the assistant message before them,
    each function output is a tool message."""
    messages: list[Message] = []
    for item in _message_items(body):
        if isinstance(item, FunctionCallItem):
            call = ToolCall(item.call_id, item.name, item.arguments)
            last = messages[-1] if messages else None
            if last is not None and last.role == "assistant" and last.tool_call_id is None:
                messages[-1] = Message("assistant", last.content, last.parts, last.tool_calls + (call,))
            else:
                messages.append(Message("assistant", "", tool_calls=(call,)))
        elif isinstance(item, FunctionCallOutputItem):
            output = item.output if isinstance(item.output, str) else "".join(p.text for p in item.output)
            messages.append(Message("tool", output, tool_call_id=item.call_id))
        else:
            messages.append(_message(item))
    return messages


def _message(item: MessageItem) -> Message:
    role = "system" if item.role == "developer" else item.role
    if isinstance(item.content, str):
        return Message(role, item.content)
    parts = tuple(ContentPart("text", text=p.text) if isinstance(p, InputText)
                  else ContentPart("image", url=p.image_url, detail=p.detail) for p in item.content)
    return Message(role, "".join(part.text for part in parts), parts)


def to_chat_request(body: ResponsesRequest, earlier: list[Message]) -> ChatRequest:
    """The request model for a Responses request; `earlier` is the stored conversation previous_response_id names
    (its instructions are not carried over, as in OpenAI's API)."""
    system = (Message("system", body.instructions),) if body.instructions else ()
    choice = body.tool_choice
    return ChatRequest(
        model="", messages=system + tuple(earlier) + tuple(to_messages(body)),
        max_tokens=body.max_output_tokens, temperature=body.temperature, seed=None, top_p=body.top_p,
        tools=tuple(t.tool() for t in body.tools or ()),
        tool_choice=None if choice is None else ToolChoice("function", choice.name)
        if isinstance(choice, NamedFunctionChoice) else ToolChoice(choice),
        parallel_tool_calls=body.parallel_tool_calls, response_format=_format(body.text), user=body.user,
        metadata=body.metadata,
        reasoning_effort=body.reasoning.effort if body.reasoning else None)


def _format(text: ResponseTextOptions | None) -> ResponseFormat | None:
    if text is None or text.format is None:
        return None
    spec = text.format
    return ResponseFormat(spec.type, spec.name, spec.schema_, spec.strict, spec.description)


def response_id() -> str:
    return f"resp_{uuid.uuid4().hex}"


def output_items(response: ChatResponse, message_id: str) -> list[dict]:
    """The answer as output items: its text as one assistant message, then each function call."""
    items = []
    if response.text or not response.tool_calls:
        items.append(message_item(message_id, response.text, "completed"))
    items += [function_call_item(call, "completed") for call in response.tool_calls]
    return items


def message_item(item_id: str, text: str | None, status: str) -> dict:
    content = [] if text is None else [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]
    return {"type": "message", "id": item_id, "status": status, "role": "assistant", "content": content}


def function_call_item(call: ToolCall, status: str) -> dict:
    return {"type": "function_call", "id": f"fc_{call.id}", "call_id": call.id, "name": call.name,
            "arguments": call.arguments, "status": status}


def response_body(body: ResponsesRequest, rid: str, model: str, created: int, output: list[dict],
                  usage: Usage | None, finish_reason: str | None, status: str = "completed") -> dict:
    """The response object; an answer cut at max_output_tokens is "incomplete", as OpenAI reports it."""
    incomplete = status == "completed" and finish_reason == "length"
    return {
        "id": rid, "object": "response", "created_at": created, "model": model,
        "status": "incomplete" if incomplete else status,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None, "error": None,
        "instructions": body.instructions, "output": output, "parallel_tool_calls": body.parallel_tool_calls
        if body.parallel_tool_calls is not None else True,
        "tool_choice": body.tool_choice if isinstance(body.tool_choice, str) else
        body.tool_choice.model_dump() if body.tool_choice else "auto",
        "tools": [tool.model_dump(exclude_none=True) for tool in body.tools or ()],
        "temperature": body.temperature, "top_p": body.top_p, "max_output_tokens": body.max_output_tokens,
        "previous_response_id": body.previous_response_id, "metadata": body.metadata or {},
        "text": {"format": body.text.format.model_dump(by_alias=True, exclude_none=True)}
        if body.text and body.text.format else {"format": {"type": "text"}},
        "store": body.store is not False, "user": body.user,
        "usage": None if usage is None else usage_body(usage),
    }


def usage_body(usage: Usage) -> dict:
    return {"input_tokens": usage.input_tokens, "input_tokens_details": {"cached_tokens": usage.cached_input_tokens},
            "output_tokens": usage.output_tokens,
            "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
            "total_tokens": usage.input_tokens + usage.output_tokens}


def answered_messages(response: ChatResponse) -> list[Message]:
    """The answer as messages of the request model, to store with the conversation it continues."""
    return [Message("assistant", response.text, tool_calls=response.tool_calls)]


def conversation_json(messages: list[Message]) -> str:
    return json.dumps([m.to_record() for m in messages], ensure_ascii=False)


def conversation_of(stored: str) -> list[Message]:
    return [Message.from_record(record) for record in json.loads(stored)]


class EventStream:
    """The server-sent events of a streamed response, numbered in order as OpenAI numbers them."""

    def __init__(self):
        self.sequence = 0

    def event(self, kind: str, **fields) -> bytes:
        body = {"type": kind, "sequence_number": self.sequence} | fields
        self.sequence += 1
        return f"event: {kind}\ndata: {json.dumps(body, ensure_ascii=False)}\n\n".encode()


def now() -> int:
    return int(time.time())
