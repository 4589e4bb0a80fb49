"""Money guards: a pre-run estimate, and a cap that holds with many calls in flight.

Before each call the worst case is reserved (prompt tokens, the full max_tokens of output, and for
local models the whole item timeout of compute); after it, the reservation is settled to the real
cost. A call starts only if everything spent plus everything reserved stays under the cap, so
concurrency can never push spending past it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gensandbox.types import ChatRequest, Price, Usage


def estimate_tokens(text: str) -> int:
    """A deliberately generous count for when no tokenizer is at hand: ~4 ASCII characters per token
    (English BPE), one token per other character (Hangul syllables are often one to three)."""
    if text.isascii():
        return math.ceil(len(text) / 4)
    # Counted from the UTF-8 length, in C rather than a Python loop: Hangul takes 3 bytes, so each
    # non-ASCII character adds 2 bytes over its 1 (2-byte scripts count as half a character here).
    non_ascii = (len(text.encode("utf-8")) - len(text)) // 2
    return math.ceil((len(text) - non_ascii) / 4) + non_ascii


def estimate_prompt_tokens(request: ChatRequest) -> int:
    """A request's prompt, estimated: its messages' text plus the few tokens chat templates add to each."""
    return sum(estimate_tokens(m.content) + 8 for m in request.messages)


def worst_case_cost(price: Price, input_tokens: int, max_tokens: int, timeout_s: float) -> float:
    return price.cost_usd(Usage(input_tokens, max_tokens), latency_s=timeout_s)


@dataclass
class Budget:
    cap_usd: float | None
    spent_usd: float = 0.0
    reserved_usd: float = 0.0
    refused: bool = field(default=False)

    def reserve(self, amount: float) -> bool:
        """Claim `amount` for a call about to start; False (and no claim) if it could break the cap."""
        if self.cap_usd is not None and self.spent_usd + self.reserved_usd + amount > self.cap_usd:
            self.refused = True
            return False
        self.reserved_usd += amount
        return True

    def settle(self, reserved: float, actual: float) -> None:
        self.reserved_usd -= reserved
        self.spent_usd += actual


@dataclass(frozen=True)
class Estimate:
    calls: int
    prompt_tokens: int
    max_output_tokens: int
    usd: float


def estimate_cost(jobs, request_for, assumed_speeds: tuple[float, float], calls_for=lambda job: 1) -> Estimate:
    """The most the remaining jobs can cost: prompt tokens counted (the model's own tokenizer where the
    provider has one), output bounded by max_tokens, local compute timed at the assumed speeds. A job of
    `calls_for(job)` calls (an agent's episode, at most that many steps) is counted as that many, each prompt
    longer than the one before by the answer it follows (tool results are not known before they come)."""
    prompt_speed, output_speed = assumed_speeds
    calls = prompt_total = output_total = 0
    usd = 0.0
    for job in jobs:
        request = request_for(job)
        counter = getattr(job.target.provider, "count_prompt_tokens", None)
        first_prompt = counter(request) if counter else estimate_prompt_tokens(request)
        for step in range(calls_for(job)):
            prompt = first_prompt + step * request.max_tokens
            seconds = prompt / prompt_speed + request.max_tokens / output_speed
            usd += job.target.price.cost_usd(Usage(prompt, request.max_tokens), latency_s=seconds)
            calls, prompt_total, output_total = calls + 1, prompt_total + prompt, output_total + request.max_tokens
    return Estimate(calls, prompt_total, output_total, usd)
