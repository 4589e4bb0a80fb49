"""Small frozen value types shared by every layer. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class ChatRequest:
    """What we ask of a model. `model` is the provider's own model id."""

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

    def to_record(self) -> dict:
        """Plain JSON-ready form (what is stored, and what the cache key hashes)."""
        record = {"model": self.model, "messages": [{"role": m.role, "content": m.content} for m in self.messages],
                  "max_tokens": self.max_tokens, "temperature": self.temperature, "stop": list(self.stop),
                  "seed": self.seed}
        # Only when set: requests without them keep the records, and so the cache keys, they always had.
        if self.reasoning_effort is not None:
            record["reasoning_effort"] = self.reasoning_effort
        if self.thinking_budget_tokens is not None:
            record["thinking_budget_tokens"] = self.thinking_budget_tokens
        return record


@dataclass(frozen=True)
class Usage:
    """`output_tokens` is every completion token billed, reasoning included; `reasoning_tokens` is the part
    of it spent on reasoning (as the provider reports it, or estimated where it reports none)."""

    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0


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
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class StreamDelta:
    """A piece of a streamed answer. The last one has `finish_reason`; `usage` comes when known."""

    text: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str = ""
    reasoning: str | None = None  # a piece of the model's thinking, never part of `text`


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
