"""Reasoning settings for a sweep (`MODEL@reasoning=SETTING`): the provider's own knob, or a prompting regime.

Knobs change one field of every request: `effort:LEVEL` (reasoning_effort), `budget:N` (thinking_budget_tokens),
`max_tokens:N`. Regimes work on any model, by prompting:
  direct   answer with the final answer only (a system instruction)
  step     think step by step, then a last line "Answer: X"; X is what gets scored, the rest is the reasoning
  vote-K   K step-by-step samples at temperature 0.7 with distinct seeds; the majority answer wins (a tie goes to
           the answer reached first); cost, tokens and latency are the sum of the K calls
Wire formats stay untouched: the wrapper rewrites requests and answers around any Provider.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

from gensandbox.errors import UserError
from gensandbox.providers.capabilities import TEXT_ONLY
from gensandbox.types import ChatRequest, ChatResponse, Message, StreamDelta, Usage

SWEEP_MARK = "@reasoning="
DIRECT_INSTRUCTION = "Reply with the final answer only."
STEP_INSTRUCTION = ("Before answering, think step by step and show your working. Then give the final answer "
                    'alone on the last line, written as "Answer: <final answer>".')
STEP_MIN_TOKENS = 384  # working needs room: a cap that cuts the reasoning short would measure the cap, not the regime
VOTE_TEMPERATURE = 0.7
KNOBS = {"effort": "reasoning_effort", "budget": "thinking_budget_tokens", "max_tokens": "max_tokens"}
EFFORT_LEVELS = ("minimal", "low", "medium", "high")
_ANSWER_LINE = re.compile(r"answer\s*[:：]", re.IGNORECASE)
_VOTE = re.compile(r"^vote-(\d+)$")


@dataclass(frozen=True)
class Setting:
    """One parsed setting: a regime (direct, step, vote) with its k, or a knob with its value."""

    text: str
    regime: str | None = None  # direct | step | vote
    k: int = 1
    knob: str | None = None  # a ChatRequest field
    value: str | int | None = None


def parse_setting(text: str) -> Setting:
    """`direct`, `step`, `vote-K`, `effort:LEVEL`, `budget:N` or `max_tokens:N`; a UserError says what is allowed."""
    text = text.strip()
    if text in ("direct", "step"):
        return Setting(text, regime=text)
    if vote := _VOTE.match(text):
        k = int(vote.group(1))
        if not 2 <= k <= 32:
            raise UserError(f"reasoning setting `{text}`: vote-K needs K between 2 and 32")
        return Setting(text, regime="vote", k=k)
    name, _, value = text.partition(":")
    if name == "effort" and value in EFFORT_LEVELS:
        return Setting(text, knob=KNOBS[name], value=value)
    if name in ("budget", "max_tokens") and value.isdigit() and int(value) > 0:
        return Setting(text, knob=KNOBS[name], value=int(value))
    raise UserError(f"unknown reasoning setting `{text}`; use direct, step, vote-K (e.g. vote-3), "
                    f"effort:{'|'.join(EFFORT_LEVELS)}, budget:TOKENS or max_tokens:TOKENS")


def split_sweep_name(name: str) -> tuple[str, str | None]:
    """`MODEL@reasoning=SETTING` -> (MODEL, SETTING); any other name -> (name, None)."""
    base, mark, setting = name.rpartition(SWEEP_MARK)
    return (base, setting) if mark else (name, None)


# ---- pure pieces: prompts and answers ----


def with_instruction(request: ChatRequest, instruction: str) -> ChatRequest:
    """The instruction added at the end of the last user message (or as one, if there is none)."""
    messages = list(request.messages)
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == "user":
            messages[index] = Message("user", f"{messages[index].content}\n\n{instruction}")
            break
    else:
        messages.append(Message("user", instruction))
    return dataclasses.replace(request, messages=tuple(messages))


def with_system(request: ChatRequest, instruction: str) -> ChatRequest:
    """The instruction as the system prompt (after an existing one). Measured on the embedded Qwen 0.5B: the
    same words appended to the question were often echoed back instead of obeyed."""
    messages = list(request.messages)
    if messages and messages[0].role == "system":
        messages[0] = Message("system", f"{messages[0].content}\n\n{instruction}")
    else:
        messages.insert(0, Message("system", instruction))
    return dataclasses.replace(request, messages=tuple(messages))


def split_answer(text: str) -> tuple[str, str]:
    """(reasoning, answer): the answer is what follows the last "Answer:"; without one, the last non-empty line."""
    marks = list(_ANSWER_LINE.finditer(text))
    if marks:
        last = marks[-1]
        return text[:last.start()].strip(), text[last.end():].strip()
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "", ""
    return "\n".join(lines[:-1]).strip(), lines[-1].strip()


def normalise_answer(answer: str) -> str:
    """What two answers must share to count as the same vote: case, spaces, a final full stop and ** aside."""
    return " ".join(answer.replace("**", "").strip().rstrip(".").split()).casefold()


def majority(answers: list[str]) -> int:
    """Index of the winning answer: the most frequent (normalised); a tie goes to the one reached first."""
    if not answers:
        raise ValueError("no answers to vote on")
    counts = Counter(normalise_answer(answer) for answer in answers)
    best = max(counts.values())
    return next(i for i, answer in enumerate(answers) if counts[normalise_answer(answer)] == best)


def sum_usage(usages: list[Usage]) -> Usage:
    total = {f.name: sum(getattr(u, f.name) or 0 for u in usages) for f in dataclasses.fields(Usage)}
    return Usage(**total)


def with_reasoning(response: ChatResponse, reasoning: str, reasoning_share: float) -> ChatResponse:
    """Reasoning text and tokens, where this version's types have the fields. Token counts come from the
    provider as a whole, so the reasoning's part is estimated by its share of the characters."""
    changes: dict = {}
    if "reasoning" in _field_names(ChatResponse):  # thinking the provider already split off comes first
        changes["reasoning"] = "\n\n".join(part for part in (getattr(response, "reasoning", None), reasoning) if part)
    if "first_answer_s" in _field_names(ChatResponse):  # the answer line comes last: known only at the end
        changes["first_answer_s"] = response.latency_s
    if "reasoning_tokens" in _field_names(Usage) and not getattr(response.usage, "reasoning_tokens", 0):
        estimate = round(response.usage.output_tokens * reasoning_share)
        changes["usage"] = dataclasses.replace(response.usage, reasoning_tokens=estimate)
    return dataclasses.replace(response, **changes) if changes else response


def _field_names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def setting_identity(text: str) -> dict:
    """What a setting adds to the model's identity (so to the response-cache key, which hashes the request
    *before* the wrapper rewrites it): the setting, and for a regime a digest of its prompts and parameters,
    so rewording an instruction never reuses answers to the old wording."""
    setting = parse_setting(text)
    if setting.regime is None:
        return {"sweep": text}
    recipe = json.dumps([DIRECT_INSTRUCTION, STEP_INSTRUCTION, STEP_MIN_TOKENS, VOTE_TEMPERATURE, "system-direct"])
    return {"sweep": text, "regime_version": hashlib.sha256(recipe.encode("utf-8")).hexdigest()[:12]}


def check_knob(setting: Setting) -> None:
    """A knob this version's ChatRequest lacks would be silently dropped: refuse it before the run."""
    if setting.knob and setting.knob not in _field_names(ChatRequest):
        raise UserError(f"reasoning setting `{setting.text}` needs ChatRequest.{setting.knob}, which this "
                        "GenSandbox does not have yet; use a prompting regime (direct, step, vote-K)")


# ---- the provider ----


class RegimeProvider:
    """A provider answering under one reasoning setting. Streams are buffered: the answer is known at the end."""

    def __init__(self, base, setting: Setting):
        check_knob(setting)
        self.base, self.setting = base, setting
        self.endpoint = base.endpoint
        # A prompting regime rewrites and re-reads the answer's text: what is not text would not survive it.
        self.capabilities = base.capabilities if setting.knob or setting.regime in (None, "direct") \
            else base.capabilities & TEXT_ONLY

    def rewrite(self, request: ChatRequest) -> ChatRequest:
        setting = self.setting
        if setting.knob:
            return dataclasses.replace(request, **{setting.knob: setting.value})
        if setting.regime == "direct":
            return with_system(request, DIRECT_INSTRUCTION)
        stepped = with_instruction(request, STEP_INSTRUCTION)
        if request.max_tokens is None:  # no limit asked for: none to raise
            return stepped
        return dataclasses.replace(stepped, max_tokens=max(request.max_tokens, STEP_MIN_TOKENS))

    async def complete(self, request: ChatRequest) -> ChatResponse:
        rewritten = self.rewrite(request)
        if self.setting.regime == "step":
            return _stepped(await self.base.complete(rewritten))
        if self.setting.regime == "vote":
            return await self._vote(rewritten)
        return await self.base.complete(rewritten)

    async def _vote(self, request: ChatRequest) -> ChatResponse:
        k, seed = self.setting.k, request.seed or 0
        samples = []
        for i in range(k):  # one after another: latency is the sum, as the brief of vote-K promises
            sampled = dataclasses.replace(request, temperature=VOTE_TEMPERATURE, seed=seed * k + i)
            samples.append(await self.base.complete(sampled))
        splits = [split_answer(sample.text) for sample in samples]
        winner = majority([answer for _, answer in splits])
        reasoning = "\n\n".join(f"[sample {i + 1}] {sample.text.strip()}" for i, sample in enumerate(samples))
        answer = splits[winner][1]
        combined = dataclasses.replace(samples[winner], text=answer, usage=sum_usage([s.usage for s in samples]),
                                       latency_s=sum(s.latency_s for s in samples))
        return with_reasoning(combined, reasoning, _share(answer, "".join(s.text for s in samples)))

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamDelta]:
        if self.setting.regime in (None, "direct"):
            async with contextlib.aclosing(self.base.stream(self.rewrite(request))) as pieces:
                async for piece in pieces:
                    yield piece
            return
        response = await self.complete(request)
        yield StreamDelta(text=response.text, model=response.model)
        yield StreamDelta(finish_reason=response.finish_reason, usage=response.usage, model=response.model)

    async def aclose(self) -> None:
        await self.base.aclose()


def _stepped(response: ChatResponse) -> ChatResponse:
    reasoning, answer = split_answer(response.text)
    return with_reasoning(dataclasses.replace(response, text=answer), reasoning, _share(answer, response.text))


def _share(answer: str, whole: str) -> float:
    """The part of the output that is not the final answer (by characters)."""
    return max(0.0, 1.0 - len(answer) / len(whole)) if whole else 0.0
