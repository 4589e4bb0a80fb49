"""Small frozen value types shared by every layer. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ContentPart:
    """One part of a message's content, in the order the app sent them: text, or an image by URL (http(s) or a
    data: URL carrying the bytes)."""

    type: Literal["text", "image"]
    text: str = ""
    url: str = ""
    detail: str | None = None  # OpenAI's image detail: "low" | "high" | "auto"

    def to_record(self) -> dict:
        if self.type == "text":
            return {"type": "text", "text": self.text}
        return {"type": "image", "url": self.url} | ({"detail": self.detail} if self.detail else {})

    @classmethod
    def from_record(cls, record: dict) -> ContentPart:
        return cls(record["type"], record.get("text", ""), record.get("url", ""), record.get("detail"))


@dataclass(frozen=True)
class ToolCall:
    """A function the model asked to call; `arguments` is the JSON text exactly as the model wrote it."""

    id: str
    name: str
    arguments: str

    def to_record(self) -> dict:
        return {"id": self.id, "name": self.name, "arguments": self.arguments}


@dataclass(frozen=True)
class Message:
    """`content` is the message's text (its text parts joined), what scorers and the ledger read. `parts` keeps the
    content as sent when it came as a list of parts (images among them); `tool_calls` are an assistant's calls,
    `tool_call_id` names the call a tool message answers."""

    role: Role
    content: str
    parts: tuple[ContentPart, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    def to_record(self) -> dict:
        """Plain form; a text-only message keeps the {role, content} it always had (and so its cache keys)."""
        record = {"role": self.role, "content": self.content}
        if self.parts:
            record["parts"] = [part.to_record() for part in self.parts]
        if self.tool_calls:
            record["tool_calls"] = [call.to_record() for call in self.tool_calls]
        if self.tool_call_id is not None:
            record["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            record["name"] = self.name
        return record

    @classmethod
    def from_record(cls, record: dict) -> Message:
        return cls(record["role"], record["content"],
                   tuple(ContentPart.from_record(part) for part in record.get("parts") or ()),
                   tuple(ToolCall(**call) for call in record.get("tool_calls") or ()),
                   record.get("tool_call_id"), record.get("name"))

    @property
    def images(self) -> tuple[ContentPart, ...]:
        return tuple(part for part in self.parts if part.type == "image")


@dataclass(frozen=True)
class Tool:
    """A function the model may call, described by a JSON Schema of its arguments."""

    name: str
    description: str | None = None
    parameters: dict | None = None
    strict: bool | None = None

    def to_record(self) -> dict:
        return {"name": self.name, "description": self.description, "parameters": self.parameters,
                "strict": self.strict}


@dataclass(frozen=True)
class ToolChoice:
    """Whether the model may, must or must not call a tool, or must call the one named."""

    mode: Literal["auto", "none", "required", "function"]
    name: str | None = None  # with mode "function"


@dataclass(frozen=True)
class ResponseFormat:
    """The answer's form: free text, any JSON object, or JSON valid against `schema`."""

    type: Literal["text", "json_object", "json_schema"]
    name: str | None = None
    schema: dict | None = None
    strict: bool | None = None
    description: str | None = None


@dataclass(slots=True)  # built per gateway request: frozen fields cost ~0.2 µs each to set, and it has 25
class ChatRequest:
    """What we ask of a model. `model` is the provider's own model id.

    Every field an app can send has its place here; a provider that cannot honour one refuses the request
    (providers.capabilities), so nothing is dropped on the way. `passthrough` holds the parameters GenSandbox does
    not interpret, which only an OpenAI-compatible endpoint receives, unchanged."""

    model: str
    messages: tuple[Message, ...]
    # None: not sent, so the model's own default applies (the gateway passes on only what an app sent; a run
    # always sets both, from [run]).
    max_tokens: int | None = 128
    temperature: float | None = 0.0
    stop: tuple[str, ...] = ()
    seed: int | None = 0
    reasoning_effort: str | None = None  # OpenAI-style "low" | "medium" | "high"
    thinking_budget_tokens: int | None = None  # Anthropic extended thinking
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    top_p: float | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    user: str | None = None  # the app's end user, for the provider's abuse monitoring
    metadata: dict | None = None  # the app's tags for the request (an OpenAI-compatible endpoint receives them)
    passthrough: dict = field(default_factory=dict)

    def to_record(self) -> dict:
        """Plain JSON-ready form (what is stored, and what the cache key hashes)."""
        record = {"model": self.model, "messages": [m.to_record() for m in self.messages],
                  "max_tokens": self.max_tokens, "temperature": self.temperature, "stop": list(self.stop),
                  "seed": self.seed}
        # Only when set: requests without them keep the records, and so the cache keys, they always had.
        for name in _OPTIONAL_FIELDS:
            value = getattr(self, name)
            if value is not None and value != () and value != {}:
                record[name] = _plain(value)
        return record

    @classmethod
    def from_record(cls, record: dict) -> ChatRequest:
        """The request `to_record` described."""
        optional = {name: record[name] for name in _OPTIONAL_FIELDS if name in record}
        if "tools" in optional:
            optional["tools"] = tuple(Tool(**tool) for tool in optional["tools"])
        if "tool_choice" in optional:
            optional["tool_choice"] = ToolChoice(**optional["tool_choice"])
        if "response_format" in optional:
            optional["response_format"] = ResponseFormat(**optional["response_format"])
        return cls(model=record["model"], messages=tuple(Message.from_record(m) for m in record["messages"]),
                   max_tokens=record["max_tokens"], temperature=record["temperature"], stop=tuple(record["stop"]),
                   seed=record["seed"], **optional)


_OPTIONAL_FIELDS = ("reasoning_effort", "thinking_budget_tokens", "tools", "tool_choice", "parallel_tool_calls",
                    "response_format", "top_p", "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs",
                    "user", "metadata", "passthrough")


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "to_record"):
        return value.to_record()
    if hasattr(value, "__dataclass_fields__"):
        return {name: getattr(value, name) for name in value.__dataclass_fields__}
    return value


@dataclass(frozen=True)
class Usage:
    """`output_tokens` is every completion token billed, reasoning included; `reasoning_tokens` is the part
    of it spent on reasoning (as the provider reports it, or estimated where it reports none)."""

    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cached_input_tokens: int = 0  # the part of input_tokens read from the provider's prompt cache


@dataclass(frozen=True)
class ChatResponse:
    """`text` is the answer only (what scorers see); `reasoning` is the model's thinking, kept apart."""

    text: str
    finish_reason: str
    usage: Usage
    latency_s: float
    model: str = ""
    reasoning: str | None = None
    first_answer_s: float | None = None  # seconds to the first answer (not reasoning) token; streams only
    tool_calls: tuple[ToolCall, ...] = ()
    logprobs: dict | None = None  # as the provider gave them, in OpenAI's form, when the request asked
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class StreamDelta:
    """A piece of a streamed answer. The last one has `finish_reason`; `usage` comes when known."""

    text: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str = ""
    reasoning: str | None = None  # a piece of the model's thinking, never part of `text`
    tool_calls: tuple[ToolCallDelta, ...] = ()
    logprobs: dict | None = None


@dataclass(frozen=True)
class ToolCallDelta:
    """A piece of a streamed tool call: the first of a call (by `index`) has its id and name, later ones more of
    the arguments' JSON text."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


def join_tool_calls(pieces) -> tuple[ToolCall, ...]:
    """The whole tool calls a stream's ToolCallDelta pieces make, in index order."""
    calls: dict[int, list] = {}
    for piece in pieces:
        call = calls.setdefault(piece.index, [None, None, []])
        call[0] = call[0] or piece.id
        call[1] = call[1] or piece.name
        call[2].append(piece.arguments)
    return tuple(ToolCall(call_id or "", name or "", "".join(arguments))
                 for _, (call_id, name, arguments) in sorted(calls.items()))


@dataclass(frozen=True)
class Price:
    """Money per model. Remote models pay per token; local ones per second of compute."""

    per_million_input_tokens_usd: float = 0.0
    per_million_output_tokens_usd: float = 0.0
    per_compute_hour_usd: float = 0.0
    source: str = ""

    def cost_usd(self, usage: Usage, latency_s: float) -> float:
        return (
            usage.input_tokens * self.per_million_input_tokens_usd / 1e6
            + usage.output_tokens * self.per_million_output_tokens_usd / 1e6
            + latency_s * self.per_compute_hour_usd / 3600.0
        )
