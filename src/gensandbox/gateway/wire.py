"""The OpenAI chat-completions wire format at the gateway's edge: request validation and the bodies and
stream chunks it answers with. Pure functions and pydantic models; no I/O."""

from __future__ import annotations

import json
import time
from typing import Annotated, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator

from gensandbox.errors import GatewayError
from gensandbox.providers.openai_compat import tool_call_to_openai
from gensandbox.types import (
    ChatRequest,
    ChatResponse,
    ContentPart,
    Message,
    ResponseFormat,
    Tool,
    ToolCall,
    ToolCallDelta,
    ToolChoice,
    Usage,
)

# Every model is strict: a value is taken only as the JSON type the OpenAPI document declares (as OpenAI's API
# does), never coerced: `"include_usage": 0` or `"stream": "yes"` is a 400, not a silent true or false, and
# `"max_tokens": "64"` is refused rather than read as 64. The one allowance is JSON Schema's own: a number with
# no fractional part (64.0) is an integer.
STRICT = ConfigDict(extra="forbid", strict=True)
# The request itself takes parameters it does not know, for an OpenAI-compatible model to receive unchanged.
OPEN = ConfigDict(extra="allow", strict=True)
# The largest max_tokens (and max_completion_tokens) taken, declared in the schema too. OpenAI's API itself
# answers 400 to a max_tokens above what the model can produce, so a client expects a refusal, not an answer;
# no model produces 2^31 tokens, and it is the largest value every upstream takes (llama.cpp, vLLM and most
# servers hold it in a 32-bit int). Below it, the gateway (which does not know each model's output limit) passes
# the value on: the model stops where its context ends, or the upstream refuses it as OpenAI would.
MAX_TOKENS_LIMIT = 2**31 - 1
_INT64 = {"ge": -(2**63), "le": 2**63 - 1}  # seed: OpenAI's own bounds


RequestModel = TypeVar("RequestModel", bound=BaseModel)


def whole_number(value):
    """64.0 is an integer to JSON Schema. A JSON integer beyond 64 bits reaches here as a float (orjson reads those
    so), rounded: -(2^63) - 1 arrives as -(2^63), which is in range; so every float as large as 2^63 is refused as
    such, rather than let through rounded or called "not an integer"."""
    if isinstance(value, float) and value.is_integer():
        if abs(value) >= 2**63:
            raise ValueError("Input should be an integer within 64 bits")
        return int(value)
    return value


class TextPart(BaseModel):
    model_config = STRICT
    type: Literal["text"]
    text: str


class ImageURL(BaseModel):
    model_config = STRICT
    url: str = Field(pattern=r"^(https?://|data:image/)")  # an image on the web, or its bytes in a data: URL
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(BaseModel):
    model_config = STRICT
    type: Literal["image_url"]
    image_url: ImageURL


# Parts of other types (audio, files) are refused by name: no model behind the gateway is known to take them.
ContentPartSpec = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class FunctionCallSpec(BaseModel):
    model_config = STRICT
    name: str
    arguments: str


class ToolCallSpec(BaseModel):
    model_config = STRICT
    id: str
    type: Literal["function"] = "function"
    function: FunctionCallSpec


class _Message(BaseModel):
    """A message's fields other than its role. A field the gateway does not know is refused by name, so no part of
    a conversation is lost on its way to the model."""

    model_config = STRICT
    name: str | None = None


class SystemMessage(_Message):
    role: Literal["system", "developer"]
    content: str | list[TextPart]


class UserMessage(_Message):
    role: Literal["user"]
    content: str | list[ContentPartSpec]


class AssistantMessage(_Message):
    role: Literal["assistant"]
    content: str | list[TextPart] | None = None
    tool_calls: list[ToolCallSpec] | None = None
    refusal: None = None  # SDKs send a former answer's `refusal: null` back; a refusal text is not taken


class ToolMessage(_Message):
    role: Literal["tool"]
    content: str | list[TextPart]
    tool_call_id: str


ChatMessage = Annotated[SystemMessage | UserMessage | AssistantMessage | ToolMessage, Field(discriminator="role")]


class FunctionSpec(BaseModel):
    model_config = STRICT
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: str | None = None
    parameters: dict | None = None
    strict: bool | None = None

    def tool(self) -> Tool:
        return Tool(self.name, self.description, self.parameters, self.strict)


class ToolSpec(BaseModel):
    model_config = STRICT
    type: Literal["function"]
    function: FunctionSpec


class NamedFunction(BaseModel):
    model_config = STRICT
    name: str


class NamedToolChoice(BaseModel):
    model_config = STRICT
    type: Literal["function"]
    function: NamedFunction


class JSONSchemaSpec(BaseModel):
    model_config = STRICT
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    schema_: dict | None = Field(default=None, alias="schema")
    strict: bool | None = None
    description: str | None = None


class TextFormat(BaseModel):
    model_config = STRICT
    type: Literal["text"]


class JSONObjectFormat(BaseModel):
    model_config = STRICT
    type: Literal["json_object"]


class JSONSchemaFormat(BaseModel):
    model_config = STRICT
    type: Literal["json_schema"]
    json_schema: JSONSchemaSpec


ResponseFormatSpec = Annotated[TextFormat | JSONObjectFormat | JSONSchemaFormat, Field(discriminator="type")]


class StreamOptions(BaseModel):
    model_config = STRICT
    include_usage: bool = False


# At most 4 stop sequences: declared here for the schema, checked by _at_most_four_stops for a plain message.
StopList = Annotated[list[str], WithJsonSchema({"type": "array", "items": {"type": "string"}, "maxItems": 4})]


class ChatCompletionRequest(BaseModel):
    """Every parameter of OpenAI's chat completions that GenSandbox interprets. Any other is passed unchanged to an
    OpenAI-compatible model, and refused by name for a model of another API (see providers.capabilities)."""

    model_config = OPEN
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS_LIMIT)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS_LIMIT)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    stop: str | StopList | None = None
    seed: int | None = Field(default=None, **_INT64)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    tools: list[ToolSpec] | None = None
    tool_choice: Literal["auto", "none", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormatSpec | None = None
    reasoning_effort: str | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(default=1, ge=1, le=1)
    metadata: dict[str, str] | None = None
    user: str | None = None

    _whole_numbers = field_validator("max_tokens", "max_completion_tokens", "seed", "n", "top_logprobs",
                                     mode="before")(whole_number)

    @field_validator("stop")
    @classmethod
    def _at_most_four_stops(cls, value):
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("at most 4 stop sequences")
        return value

    def passthrough(self) -> dict:
        """The parameters GenSandbox does not interpret (a null one is the same as one not sent)."""
        return {name: value for name, value in (self.model_extra or {}).items() if value is not None}


def to_chat_request(body: ChatCompletionRequest, provider_model_id: str) -> ChatRequest:
    """What the app asked for, and nothing it did not: no max_tokens or temperature unless it sent one."""
    stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    return ChatRequest(
        model=provider_model_id,
        messages=tuple(_message(m) for m in body.messages),
        max_tokens=body.max_completion_tokens or body.max_tokens,
        temperature=body.temperature,
        stop=tuple(stop),
        seed=body.seed,
        reasoning_effort=body.reasoning_effort,
        tools=tuple(t.function.tool() for t in body.tools) if body.tools else (),
        tool_choice=_tool_choice(body.tool_choice),
        parallel_tool_calls=body.parallel_tool_calls,
        response_format=_response_format(body.response_format),
        top_p=body.top_p,
        presence_penalty=body.presence_penalty,
        frequency_penalty=body.frequency_penalty,
        logprobs=body.logprobs,
        top_logprobs=body.top_logprobs,
        user=body.user,
        metadata=body.metadata,
        passthrough=body.passthrough(),
    )


def _message(message: ChatMessage) -> Message:
    # "developer" is OpenAI's newer name for system instructions.
    role = "system" if message.role == "developer" else message.role
    content, parts = message.content, ()
    if isinstance(content, list):
        parts = tuple(ContentPart("text", text=p.text) if isinstance(p, TextPart)
                      else ContentPart("image", url=p.image_url.url, detail=p.image_url.detail) for p in content)
        content = "".join(part.text for part in parts)
    # isinstance, not getattr(message, "tool_calls", None): pydantic's miss path costs ~2 µs per message.
    calls = tuple(ToolCall(c.id, c.function.name, c.function.arguments) for c in message.tool_calls) \
        if isinstance(message, AssistantMessage) and message.tool_calls else ()
    call_id = message.tool_call_id if isinstance(message, ToolMessage) else None
    return Message(role, content or "", parts, calls, call_id, message.name)


def _tool_choice(choice) -> ToolChoice | None:
    if choice is None:
        return None
    if isinstance(choice, NamedToolChoice):
        return ToolChoice("function", choice.function.name)
    return ToolChoice(choice)


def _response_format(spec) -> ResponseFormat | None:
    if spec is None:
        return None
    if isinstance(spec, JSONSchemaFormat):
        schema = spec.json_schema
        return ResponseFormat("json_schema", schema.name, schema.schema_, schema.strict, schema.description)
    return ResponseFormat(spec.type)


def parse_request(raw: bytes, model: type[RequestModel]) -> RequestModel:
    """The request body as `model`, or a 400 naming the parameter that is wrong."""
    try:
        decoded = orjson.loads(raw)  # also refuses unpaired surrogate escapes (\\ud800), which no model can take
    except orjson.JSONDecodeError as error:
        raise GatewayError(400, f"the request body is not valid JSON: {error}", "invalid_request_error",
                           "invalid_json") from None
    if not isinstance(decoded, dict):
        raise GatewayError(400, "the request body must be a JSON object", "invalid_request_error", "invalid_json")
    try:
        return model.model_validate(decoded)
    except ValidationError as error:
        # Of a value that may take several forms (a string, or a list of parts), the error that went deepest
        # names what is wrong; pydantic lists the plain form's first.
        first = max(error.errors(), key=lambda found: len(found["loc"]))
        loc = [part for part in first["loc"] if not _union_branch(part)]
        if first["type"] in ("union_tag_invalid", "union_tag_not_found"):  # a message's role, a part's type
            loc.append(str(first["ctx"].get("discriminator", "type")).strip("'"))
        param = ".".join(str(part) for part in loc) or None
        message = first["msg"].removeprefix("Value error, ")
        raise GatewayError(400, f"invalid parameter `{param}`: {message}", "invalid_request_error",
                           "invalid_parameter", param) from None


def _union_branch(part) -> bool:
    """A step of pydantic's error location that names a form a value may take, not a parameter."""
    return isinstance(part, str) and (part in ("str", "int", "float", "bool") or "[" in part or "(" in part)


def completion_id() -> str:
    return f"chatcmpl-{time.time_ns():x}"


def chat_completion(response: ChatResponse, model: str) -> dict:
    return completion_body(response, model, completion_id())


def completion_body(response: ChatResponse, model: str, request_id: str) -> dict:
    message = {"role": "assistant", "content": response.text if response.text or not response.tool_calls else None}
    if response.tool_calls:
        message["tool_calls"] = [tool_call_to_openai(call) for call in response.tool_calls]
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": response.finish_reason,
                     "logprobs": response.logprobs}],
        "usage": usage_body(response.usage),
    }


def tool_call_delta_body(delta: ToolCallDelta) -> dict:
    """A streamed tool call's piece as OpenAI sends it: id, type and name only in a call's first piece."""
    function = {"arguments": delta.arguments}
    body = {"index": delta.index}
    if delta.id is not None:
        body |= {"id": delta.id, "type": "function"}
    if delta.name is not None:
        function["name"] = delta.name
    return body | {"function": function}


def usage_body(usage: Usage) -> dict:
    body = {"prompt_tokens": usage.input_tokens, "completion_tokens": usage.output_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens}
    if usage.cached_input_tokens:
        body["prompt_tokens_details"] = {"cached_tokens": usage.cached_input_tokens}
    if usage.reasoning_tokens:
        body["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return body


def chunk_event(request_id: str, model: str, created: int, delta: dict, finish_reason: str | None = None,
                usage: Usage | None = None, with_choice: bool = True, receipt: str | None = None,
                logprobs: dict | None = None) -> bytes:
    """One server-sent event of a streamed completion; the last carries the usage receipt as an extra field."""
    body = {"id": request_id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": logprobs}]
            if with_choice else []}
    if usage is not None:
        body["usage"] = usage_body(usage)
    if receipt is not None:
        body["gensandbox_receipt"] = receipt
    return b"data: " + json.dumps(body, ensure_ascii=False).encode("utf-8") + b"\n\n"


DONE_EVENT = b"data: [DONE]\n\n"


def error_body(message: str, error_type: str, code: str | None = None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def error_event(message: str, error_type: str = "upstream_error") -> bytes:
    return b"data: " + json.dumps(error_body(message, error_type), ensure_ascii=False).encode("utf-8") + b"\n\n"
