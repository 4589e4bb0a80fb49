"""Model variants: a base model plus a system prompt, few-shot examples, generation parameters, answer
post-processing and optionally retrieval over the user's documents, served as `variant:NAME`.

A variant resolves to a ModelConfig derived from its base (same provider, endpoint and price) that carries
the definition and its version, so runs, manifests, the response cache, costs, the gateway and the ledger
treat it as one more model. Its provider wraps the base's: it rewrites each request and post-processes
each answer. Everything but VariantProvider and the resolving functions is pure.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

from gensandbox.canonical import canonical_digest
from gensandbox.config import VariantConfig
from gensandbox.providers.base import Provider
from gensandbox.types import ChatRequest, ChatResponse, Message, StreamDelta
from gensandbox.variants.documents import Passage, documents_digest, read_documents

_HANGUL = re.compile("[\uac00-\ud7a3]")
CONTEXT_INTRO = {
    "ko": "아래 참고 자료를 바탕으로 질문에 답하세요. 자료에 답이 없으면 알고 있는 대로 답하세요.",
    "en": "Answer the question using the reference passages below. If they do not hold the answer, answer "
          "from what you know.",
}
QUESTION_LABEL = {"ko": "질문", "en": "Question"}


# ---- the version ----


def definition_record(variant: VariantConfig, documents: str | None) -> dict:
    """What a version covers: everything that can change an answer, with the documents' digest in place of
    their folder. Not the name (a label), and no path or time, so the version is the same on any machine."""
    record = variant.model_dump(mode="json", exclude={"name"})
    if record["retrieval"] is not None:
        record["retrieval"].pop("folder")
        record["retrieval"]["documents"] = documents
    return record


def variant_version(variant: VariantConfig, documents: str | None) -> str:
    """sha256 (first 12 hex digits) of the canonical JSON of the definition record."""
    return canonical_digest(definition_record(variant, documents))[:12]


def folder_digest(variant: VariantConfig) -> str | None:
    return documents_digest(read_documents(Path(variant.retrieval.folder))) if variant.retrieval else None


# ---- the request ----


def language_of(text: str) -> str:
    return "ko" if _HANGUL.search(text) else "en"


def context_prompt(question: str, passages: list[Passage]) -> str:
    """The question with the retrieved passages before it, introduced in the question's language."""
    language = language_of(question)
    blocks = "\n\n".join(f"[{number}] {p.source}\n{p.text}" for number, p in enumerate(passages, 1))
    return f"{CONTEXT_INTRO[language]}\n\n{blocks}\n\n{QUESTION_LABEL[language]}: {question}"


def last_user_text(messages: tuple[Message, ...]) -> str:
    return next((m.content for m in reversed(messages) if m.role == "user"), "")


def rewrite_request(request: ChatRequest, variant: VariantConfig, passages: list[Passage] | None = None,
                    few_shot_turns: bool = True) -> ChatRequest:
    """The variant's system prompt first (joined with the caller's own), its examples as earlier turns, the
    passages in the last user message, and its parameters over the caller's."""
    messages = list(request.messages)
    leading = 0
    while leading < len(messages) and messages[leading].role == "system":
        leading += 1
    system = [variant.system] if variant.system else []
    system += [m.content for m in messages[:leading]]
    conversation = messages[leading:]
    users = [i for i, m in enumerate(conversation) if m.role == "user"]
    if passages and users:
        conversation[users[-1]] = Message("user", context_prompt(conversation[users[-1]].content, passages))
    shots = [Message(role, text) for shot in variant.few_shot if few_shot_turns
             for role, text in (("user", shot.input), ("assistant", shot.output))]
    head = [Message("system", "\n\n".join(system))] if system else []
    parameters = variant.parameters
    return dataclasses.replace(
        request, messages=tuple(head + shots + conversation),
        temperature=request.temperature if parameters.temperature is None else parameters.temperature,
        max_tokens=parameters.max_tokens or request.max_tokens,
        stop=request.stop if parameters.stop is None else tuple(parameters.stop))


# ---- the answer ----

_REASONING = re.compile(r"<(think|thinking|reasoning)>.*?(?:</\1>|$)\s*", re.DOTALL | re.IGNORECASE)
_JSON_START = re.compile(r"[\[{]")


def strip_reasoning(text: str) -> str:
    """Without <think>…</think> blocks (and an unclosed one cut off at the end)."""
    return _REASONING.sub("", text)


def extract_json(text: str) -> str:
    """The first JSON object or array in the text (fences and prose around it dropped); arrays of numbers
    alone are skipped, since they are citation marks like [1]. The text unchanged if there is none."""
    decoder = json.JSONDecoder()
    for match in _JSON_START.finditer(text):
        try:
            value, end = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, list) and all(isinstance(x, int | float) for x in value):
            continue
        return text[match.start():end]
    return text


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


POST_PROCESSORS = {"strip-reasoning": strip_reasoning, "extract-json": extract_json, "first-line": first_line,
                   "strip": str.strip}


def post_process(text: str, steps: list[str]) -> str:
    for step in steps:
        text = POST_PROCESSORS[step](text)
    return text


# ---- the provider ----


class VariantProvider:
    """The base provider, with every request rewritten and every answer post-processed.

    A stream with post-processing is buffered: the answer goes out as one piece once the base has finished,
    since extracting JSON, taking the first line or removing a reasoning block needs the whole text."""

    def __init__(self, base: Provider, definition: VariantConfig, retriever=None, few_shot_turns: bool = True):
        self.base, self.definition, self.retriever = base, definition, retriever
        self.few_shot_turns = few_shot_turns
        self.endpoint = base.endpoint
        self.capabilities = base.capabilities

    async def rewrite(self, request: ChatRequest) -> ChatRequest:
        passages = await self.retriever.passages(last_user_text(request.messages)) if self.retriever else []
        return rewrite_request(request, self.definition, passages, self.few_shot_turns)

    async def complete(self, request: ChatRequest) -> ChatResponse:
        response = await self.base.complete(await self.rewrite(request))
        return dataclasses.replace(response, text=post_process(response.text, self.definition.post_process))

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamDelta]:
        rewritten = await self.rewrite(request)
        async with contextlib.aclosing(self.base.stream(rewritten)) as pieces:
            if not self.definition.post_process:
                async for piece in pieces:
                    yield piece
                return
            texts, tool_calls, last = [], [], StreamDelta()
            async for piece in pieces:
                texts.append(piece.text)
                tool_calls.extend(piece.tool_calls)
                last = StreamDelta(finish_reason=piece.finish_reason or last.finish_reason,
                                   usage=piece.usage or last.usage, model=piece.model or last.model)
        yield StreamDelta(text=post_process("".join(texts), self.definition.post_process), model=last.model,
                          tool_calls=tuple(tool_calls))
        yield last  # its finish reason as the base model gave it: none means the answer may have been cut short

    async def aclose(self) -> None:
        await self.base.aclose()
        if self.retriever is not None:
            await self.retriever.aclose()
