"""The OpenAI chat-completions wire format at the gateway's edge: request validation and the bodies and
stream chunks it answers with. Pure functions and pydantic models; no I/O."""

from __future__ import annotations

import json
import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from gensandbox.types import ChatRequest, ChatResponse, Message, Usage

# Every model is strict: a value is taken only as the JSON type the OpenAPI document declares (as OpenAI's API
# does), never coerced: `"include_usage": 0` or `"stream": "yes"` is a 400, not a silent true or false, and
# `"max_tokens": "64"` is refused rather than read as 64. The one allowance is JSON Schema's own: a number with
# no fractional part (64.0) is an integer.
STRICT = ConfigDict(extra="allow", strict=True)
# The largest max_tokens (and max_completion_tokens) taken, declared in the schema too. OpenAI's API itself
# answers 400 to a max_tokens above what the model can produce, so a client expects a refusal, not an answer;
# no model produces 2^31 tokens, and it is the largest value every upstream takes (llama.cpp, vLLM and most
# servers hold it in a 32-bit int). Below it, the gateway (which does not know each model's output limit) passes
# the value on: the model stops where its context ends, or the upstream refuses it as OpenAI would.
MAX_TOKENS_LIMIT = 2**31 - 1
_INT64 = {"ge": -(2**63), "le": 2**63 - 1}  # seed: OpenAI's own bounds


class ContentPart(BaseModel):
    model_config = STRICT
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = STRICT
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None


class StreamOptions(BaseModel):
    model_config = STRICT
    include_usage: bool = False


# At most 4 stop sequences: declared here for the schema, checked by _at_most_four_stops for a plain message.
StopList = Annotated[list[str], WithJsonSchema({"type": "array", "items": {"type": "string"}, "maxItems": 4})]


class ChatCompletionRequest(BaseModel):
    """The parameters GenSandbox acts on; others an SDK may send are accepted and ignored."""

    model_config = STRICT
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS_LIMIT)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS_LIMIT)
    temperature: float | None = Field(default=None, ge=0, le=2)
    stop: str | StopList | None = None
    seed: int | None = Field(default=None, **_INT64)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(default=1, ge=1, le=1)
    metadata: dict[str, str] | None = None
    user: str | None = None

    @field_validator("max_tokens", "max_completion_tokens", "seed", "n", mode="before")
    @classmethod
    def _whole_number_is_an_integer(cls, value):
        # 64.0 is an integer to JSON Schema. A JSON integer beyond 64 bits reaches here as a float (orjson reads
        # those so), rounded: -(2^63) - 1 arrives as -(2^63), which is in range; so every float as large as 2^63
        # is refused as such, rather than let through rounded or called "not an integer".
        if isinstance(value, float) and value.is_integer():
            if abs(value) >= 2**63:
                raise ValueError("Input should be an integer within 64 bits")
            return int(value)
        return value

    @field_validator("stop")
    @classmethod
    def _at_most_four_stops(cls, value):
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("at most 4 stop sequences")
        return value


def to_chat_request(body: ChatCompletionRequest, provider_model_id: str) -> ChatRequest:
    """What the app asked for, and nothing it did not: no max_tokens or temperature unless it sent one."""
    stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    return ChatRequest(
        model=provider_model_id,
        messages=tuple(Message(_role(m.role), _text(m.content)) for m in body.messages),
        max_tokens=body.max_completion_tokens or body.max_tokens,
        temperature=body.temperature,
        stop=tuple(stop),
        seed=body.seed,
    )


def _role(role: str) -> str:
    # "developer" is OpenAI's newer name for system instructions; tool results are passed on as user text.
    return {"developer": "system", "tool": "user"}.get(role, role)


def _text(content: str | list[ContentPart] | None) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    return "".join(part.text or "" for part in content if part.type == "text")


def completion_id() -> str:
    return f"chatcmpl-{time.time_ns():x}"


def completion_body(response: ChatResponse, model: str, request_id: str) -> dict:
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": response.text},
                     "finish_reason": response.finish_reason, "logprobs": None}],
        "usage": usage_body(response.usage),
    }


def usage_body(usage: Usage) -> dict:
    return {"prompt_tokens": usage.input_tokens, "completion_tokens": usage.output_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens}


def chunk_event(request_id: str, model: str, created: int, delta: dict, finish_reason: str | None = None,
                usage: Usage | None = None, with_choice: bool = True, receipt: str | None = None) -> bytes:
    """One server-sent event of a streamed completion; the last carries the usage receipt as an extra field."""
    body = {"id": request_id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]
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
