"""Reasoning kept apart from the answer, whichever way a provider sends it. Pure functions, plus one stream
wrapper that applies them piece by piece.

Providers put reasoning in three places: a field of its own (`reasoning_content`, Anthropic's thinking
blocks), which the adapters read; or inline in the text as `<think>…</think>` (R1-style distilled models),
which `split_think` takes out here. Scorers and gateway clients see only the answer either way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import AsyncGenerator, AsyncIterator

from gensandbox.types import ChatResponse, StreamDelta, Usage, join_tool_calls

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


def split_think(text: str) -> tuple[str | None, str]:
    """(reasoning, answer) of a text with `<think>…</think>` blocks. Every block goes to the reasoning; the
    answer is the text outside them, stripped. An unclosed block runs to the end (the model was cut off while
    thinking, so there is no answer). A `</think>` before any `<think>` closes a block the chat template
    opened in the prompt (DeepSeek-R1's does), so what precedes it is reasoning too."""
    reasoning: list[str] = []
    answer: list[str] = []
    rest = text
    close, open_ = rest.find(THINK_CLOSE), rest.find(THINK_OPEN)
    if close != -1 and (open_ == -1 or close < open_):
        reasoning.append(rest[:close])
        rest = rest[close + len(THINK_CLOSE):]
    while (start := rest.find(THINK_OPEN)) != -1:
        answer.append(rest[:start])
        end = rest.find(THINK_CLOSE, start)
        if end == -1:
            reasoning.append(rest[start + len(THINK_OPEN):])
            rest = ""
            break
        reasoning.append(rest[start + len(THINK_OPEN):end])
        rest = rest[end + len(THINK_CLOSE):]
    if not reasoning:
        return None, text
    answer.append(rest)
    joined = "\n\n".join(piece.strip() for piece in reasoning if piece.strip())
    return joined or None, "".join(answer).strip()


def estimate_reasoning_tokens(reasoning_chars: int, answer_chars: int, output_tokens: int) -> int:
    """The reasoning's share of the output tokens, by characters. Only an estimate, for providers that
    bill reasoning as output without saying how much of it there was (tags in text, Anthropic thinking)."""
    total = reasoning_chars + answer_chars
    return round(output_tokens * reasoning_chars / total) if total else 0


def _joined(*pieces: str | None) -> str | None:
    present = [piece for piece in pieces if piece]
    return "\n\n".join(present) if present else None


def with_reasoning(response: ChatResponse) -> ChatResponse:
    """The response with any `<think>` blocks moved out of its text into `reasoning`, and reasoning tokens
    estimated when there is reasoning but the provider gave no count."""
    tagged, answer = split_think(response.text)
    if tagged is None and response.reasoning is None:
        return response  # nothing to move (most answers): the response as it is, not a copy of it
    reasoning = _joined(response.reasoning, tagged)
    usage = response.usage
    if reasoning and not usage.reasoning_tokens:
        # No count from the provider: estimate it from the characters (see estimate_reasoning_tokens).
        usage = dataclasses.replace(usage, reasoning_tokens=estimate_reasoning_tokens(
            len(reasoning), len(answer), usage.output_tokens))
    return dataclasses.replace(response, text=answer, reasoning=reasoning, usage=usage)


def _partial_tag(text: str, tag: str) -> int:
    """How many characters at the end of `text` could be the start of `tag` (to hold back a split tag)."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ThinkSplitter:
    """`split_think` for text that arrives in pieces: tags may be split across pieces, so a possible tag
    start is held back until the next piece settles it. (A `</think>` with no `<think>` before it is not
    recognised here: in a stream that would mean holding back the whole answer.)"""

    def __init__(self) -> None:
        self.inside = False
        self.pending = ""
        self.answer_started = False

    def feed(self, piece: str) -> tuple[str, str]:
        """(reasoning, answer) that this piece settles."""
        self.pending += piece
        reasoning, answer = [], []
        while True:
            tag = THINK_CLOSE if self.inside else THINK_OPEN
            at = self.pending.find(tag)
            if at == -1:
                settled = len(self.pending) - _partial_tag(self.pending, tag)
                (reasoning if self.inside else answer).append(self.pending[:settled])
                self.pending = self.pending[settled:]
                break
            (reasoning if self.inside else answer).append(self.pending[:at])
            self.pending = self.pending[at + len(tag):]
            self.inside = not self.inside
        return "".join(reasoning), self._answer("".join(answer))

    def finish(self) -> tuple[str, str]:
        """What is still held back, once no more text will come."""
        rest, self.pending = self.pending, ""
        return (rest, "") if self.inside else ("", self._answer(rest))

    def _answer(self, text: str) -> str:
        # The answer is stripped, as in split_think: the blank lines after `</think>` are not part of it.
        if not self.answer_started:
            text = text.lstrip()
            self.answer_started = bool(text)
        return text


async def split_stream(deltas: AsyncGenerator[StreamDelta]) -> AsyncIterator[StreamDelta]:
    """`with_reasoning` for a stream: `<think>` text becomes reasoning pieces, and the usage (which comes
    last) gets a reasoning-token estimate when the provider gave none. Closing it closes `deltas` at once
    (a client that leaves must not keep the upstream connection open until garbage collection)."""
    async with contextlib.aclosing(deltas):
        async for delta in _split(deltas):
            yield delta


async def _split(deltas: AsyncIterator[StreamDelta]) -> AsyncIterator[StreamDelta]:
    splitter, reasoning_chars, answer_chars = ThinkSplitter(), 0, 0
    async for delta in deltas:
        tagged, answer = splitter.feed(delta.text)
        if delta.finish_reason is not None or delta.usage is not None:
            held_reasoning, held_answer = splitter.finish()
            tagged, answer = tagged + held_reasoning, answer + held_answer
        reasoning = (delta.reasoning or "") + tagged
        reasoning_chars, answer_chars = reasoning_chars + len(reasoning), answer_chars + len(answer)
        usage = delta.usage
        if usage is not None and reasoning_chars and not usage.reasoning_tokens:
            usage = dataclasses.replace(usage, reasoning_tokens=estimate_reasoning_tokens(
                reasoning_chars, answer_chars, usage.output_tokens))
        yield dataclasses.replace(delta, text=answer, reasoning=reasoning or None, usage=usage)
    held_reasoning, held_answer = splitter.finish()
    if held_reasoning or held_answer:
        yield StreamDelta(text=held_answer, reasoning=held_reasoning or None)


async def collect_stream(deltas: AsyncIterator[StreamDelta], started: float | None = None) -> ChatResponse:
    """A whole response from a stream, with the time to its first answer token (`first_answer_s`) measured
    from `started` (a `time.perf_counter()` reading; by default, now)."""
    started = time.perf_counter() if started is None else started
    texts, reasonings, first_answer_s, tool_pieces = [], [], None, []
    usage, finish_reason, model = Usage(), "stop", ""
    async for delta in deltas:
        tool_pieces.extend(delta.tool_calls)
        if delta.text and first_answer_s is None:
            first_answer_s = time.perf_counter() - started
        texts.append(delta.text)
        reasonings.append(delta.reasoning or "")
        usage = delta.usage or usage
        finish_reason = delta.finish_reason or finish_reason
        model = delta.model or model
    return ChatResponse(text="".join(texts).rstrip(), finish_reason=finish_reason, usage=usage,
                        latency_s=time.perf_counter() - started, model=model,
                        reasoning="".join(reasonings) or None, first_answer_s=first_answer_s,
                        tool_calls=join_tool_calls(tool_pieces))
