"""In-process llama.cpp on a GGUF file: the embedded default, no server and no network.

One loaded `Llama` per file, shared by every provider that uses it; generation runs off the event
loop on one dedicated thread. One thread, not a pool: llama.cpp's OpenMP keeps a team of worker
threads per calling thread, and calls hopping between pool threads left idle teams spinning on the
same cores (measured: 16-20% fewer tokens/s than a plain loop; with one thread, parity).

llama-cpp-python keeps the previous prompt's tokens in its KV cache and re-evaluates only what
differs, so prompts that share a prefix (a system prompt, few-shot examples) are cheap when sent
one after another.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import dataclasses
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gensandbox.errors import MissingDependencyError, NotFoundError, ProviderResponseError, ProviderTimeoutError
from gensandbox.providers import local_tools
from gensandbox.providers.capabilities import (
    JSON_OBJECT,
    JSON_SCHEMA,
    LOGPROBS,
    NAMED_TOOL,
    PARALLEL_TOOL_CALLS,
    PENALTIES,
    REQUIRED_TOOL,
    SEED,
    STOP,
    TOOLS,
    TOP_P,
)
from gensandbox.providers.gguf import chat_template
from gensandbox.providers.local_logprobs import LogprobRecorder, chat_logprobs
from gensandbox.providers.reasoning import split_stream, with_reasoning
from gensandbox.types import ChatRequest, ChatResponse, Message, StreamDelta, ToolCall, Usage

LOCAL_ENDPOINT = "local-cpu"

inference_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gensandbox-llama")
_loaded: dict[tuple[Path, int], tuple[object, threading.Lock]] = {}
_loading = threading.Lock()


def load_llama(path: Path, n_ctx: int) -> tuple[object, threading.Lock]:
    """The shared Llama for this file, with the lock that serialises calls into it."""
    key = (path.resolve(), n_ctx)
    with _loading:
        if key not in _loaded:
            _loaded[key] = (_new_llama(key[0], n_ctx), threading.Lock())
        return _loaded[key]


def _new_llama(path: Path, n_ctx: int):
    try:
        import llama_cpp
    except ImportError:
        raise MissingDependencyError(
            "local models need llama-cpp-python; run: pip install 'gensandbox[local]'"
        ) from None
    route_llama_logs(llama_cpp)
    if not path.is_file():
        raise NotFoundError(f"model file {path} not found")
    try:
        threads = os.cpu_count() or 1
        return llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, verbose=False)
    except ValueError as error:  # llama-cpp-python's way of saying the file would not load
        raise NotFoundError(f"{path} is not a GGUF model llama.cpp can load: {error}") from None


_log_callback = None


def route_llama_logs(llama_cpp) -> None:
    """llama.cpp prints some notices to stderr even when quiet; send them to Python logging instead."""
    global _log_callback
    if _log_callback is None:
        log = logging.getLogger("gensandbox.llama_cpp")

        @llama_cpp.llama_log_callback
        def to_debug_log(level, text, user_data):
            log.debug(text.decode("utf-8", errors="replace").rstrip())

        _log_callback = to_debug_log  # ctypes callbacks must outlive every call into the library
        llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))


def completion_prompt(messages: tuple[Message, ...], few_shot: list[tuple[str, str]]) -> str:
    """Frame a chat as few-shot Q:/A: text for base models that have no chat template."""
    shots = "".join(f"Q: {question}\nA: {answer}\n\n" for question, answer in few_shot)
    question = "\n".join(m.content for m in messages if m.role in ("system", "user"))
    return f"{shots}Q: {question}\nA:"


# What llama.cpp honours for any model: its samplers take top_p, the penalties and the seed, and stop sequences;
# logprobs are recorded as tokens are sampled (local_logprobs).
SAMPLING = frozenset({SEED, STOP, TOP_P, PENALTIES, LOGPROBS})
# A chat model's answer can be held to JSON by a grammar (the few-shot Q:/A: frame of a base model cannot: its
# answers end at the line's end). Tools need a chat template that renders them (local_tools.template_takes_tools).
CHAT = SAMPLING | {JSON_OBJECT, JSON_SCHEMA}
CHAT_WITH_TOOLS = CHAT | {TOOLS, REQUIRED_TOOL, NAMED_TOOL, PARALLEL_TOOL_CALLS}


class LocalProvider:
    """A GGUF model in this process. `prompt_style="completion"` for base models."""

    endpoint = LOCAL_ENDPOINT

    def __init__(
        self,
        path: Path,
        *,
        prompt_style: str = "chat",
        few_shot: list[tuple[str, str]] | None = None,
        n_ctx: int = 4096,
        timeout_s: float | None = None,
    ):
        self.path = path
        self.timeout_s = timeout_s
        self.prompt_style = prompt_style
        self.few_shot = list(few_shot or [])
        self.n_ctx = n_ctx
        self.template = chat_template(path) if prompt_style == "chat" and path.is_file() else None
        if prompt_style == "completion":
            self.capabilities = SAMPLING
        else:
            self.capabilities = CHAT_WITH_TOOLS if local_tools.template_takes_tools(self.template) else CHAT
        self._formatter = None  # the chat template, for counting prompt tokens (built on first use)

    async def complete(self, request: ChatRequest) -> ChatResponse:
        # Set when the caller stops waiting (a run cancelled from the workbench): generation ends at the next token
        # instead of going on to max_tokens with nobody to read the answer, and holding the model meanwhile.
        abandoned = threading.Event()
        try:
            return await asyncio.get_running_loop().run_in_executor(inference_thread, self.complete_blocking,
                                                                    request, abandoned)
        finally:
            abandoned.set()

    def complete_blocking(self, request: ChatRequest, abandoned: threading.Event | None = None) -> ChatResponse:
        llama, lock = load_llama(self.path, self.n_ctx)
        with lock:
            started = time.perf_counter()
            recorder = LogprobRecorder(llama, request.top_logprobs or 0) if request.logprobs else None
            try:
                body = self._generate(llama, request, self._processors(llama, started, recorder, abandoned))
            except (ValueError, RuntimeError) as error:  # e.g. prompt longer than the context
                raise ProviderResponseError(f"llama.cpp could not answer: {error}") from None
            latency_s = time.perf_counter() - started
        if self.timeout_s is not None and latency_s >= self.timeout_s:
            raise ProviderTimeoutError(f"no answer within the item timeout of {self.timeout_s:g} s")
        choice = body["choices"][0]
        text = (choice["message"]["content"] if "message" in choice else choice["text"]) or ""
        logprobs = chat_logprobs(recorder.finish(text)) if recorder is not None else None
        calls: tuple[ToolCall, ...] = ()
        if self._offered(request):
            text, calls = local_tools.split_tool_calls(text, *_call_rules(request))
        usage = body.get("usage") or {}
        return with_reasoning(ChatResponse(  # R1-style distilled models think in <think> tags
            text=text.strip(),
            finish_reason="tool_calls" if calls else choice.get("finish_reason") or "stop",
            usage=Usage(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))),
            latency_s=latency_s,
            model=self.path.name,
            tool_calls=calls,
            logprobs=logprobs,
            raw=body,
        ))

    def count_prompt_tokens(self, request: ChatRequest) -> int:
        """Prompt tokens by the model's own tokenizer, of the prompt its chat template makes (tools included)."""
        llama, _ = load_llama(self.path, self.n_ctx)
        if self.prompt_style == "completion":
            return len(llama.tokenize(completion_prompt(request.messages, self.few_shot).encode("utf-8")))
        if self.template is None:  # llama.cpp's built-in format: about five tokens of framing per message
            return sum(len(llama.tokenize(m.content.encode("utf-8"), add_bos=False)) + 5 for m in request.messages)
        prompt = self._chat_formatter(llama)(**self._chat_inputs(request)).prompt
        return len(llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))

    def _chat_formatter(self, llama):
        """The GGUF's chat template, as llama.cpp renders it (llama_cpp.Llama builds the same one)."""
        if self._formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            def text_of(token: int) -> str:
                return llama._model.token_get_text(token) if token != -1 else ""

            self._formatter = Jinja2ChatFormatter(self.template, text_of(llama.token_eos()), text_of(llama.token_bos()))
        return self._formatter

    def _processors(self, llama, started: float, recorder: LogprobRecorder | None,
                    abandoned: threading.Event | None = None):
        """The logits processors a request needs: the logprob recorder first (it must see the model's own
        distribution), then the deadline."""
        from llama_cpp import LogitsProcessorList

        chosen = [step for step in (recorder, self._deadline(llama, started, abandoned)) if step is not None]
        return LogitsProcessorList(chosen) if chosen else None

    def _deadline(self, llama, started: float, abandoned: threading.Event | None = None):
        """End generation at the item timeout, or once the caller has gone (a thread cannot be cancelled): then
        every token but end-of-sequence is masked out, so llama.cpp stops at its next step."""
        if self.timeout_s is None and abandoned is None:
            return None
        deadline = started + self.timeout_s if self.timeout_s is not None else float("inf")
        end_of_sequence = llama.token_eos()

        def stop_when_late(input_ids, scores):
            if time.perf_counter() >= deadline or (abandoned is not None and abandoned.is_set()):
                scores[:] = -float("inf")
                scores[end_of_sequence] = 0.0
            return scores

        return stop_when_late

    def _generate(self, llama, request: ChatRequest, logits_processor, stream: bool = False):
        common = dict(logits_processor=logits_processor, stream=stream, **sampling(request))
        if self.prompt_style == "completion":
            prompt = completion_prompt(request.messages, self.few_shot)
            return llama.create_completion(prompt, stop=["\n", *request.stop], **common)
        stop = list(request.stop)
        if self._offered(request) and request.parallel_tool_calls is False:
            stop.append(local_tools.CLOSE)  # one call at most: the answer ends where the first block closes
        grammar = self._grammar(request)
        return llama.create_chat_completion(**self._chat_inputs(request), stop=stop or None, grammar=grammar,
                                            **common)

    def _offered(self, request: ChatRequest) -> bool:
        """Whether the model is shown the request's tools. With tool_choice "none" it is not: a template has no
        way to say "these exist but you may not call them", and a model shown tools may call them anyway."""
        return bool(request.tools) and (request.tool_choice is None or request.tool_choice.mode != "none")

    def _chat_inputs(self, request: ChatRequest) -> dict:
        """Messages and tools in OpenAI's form, what chat templates render. Not tool_choice: llama.cpp would
        answer a named one with bare arguments where the template asked for a <tool_call> block (see _grammar)."""
        inputs: dict = {"messages": local_tools.openai_messages(request.messages)}
        if self._offered(request):
            inputs["tools"] = local_tools.openai_tools(request.tools)
        return inputs

    def _grammar(self, request: ChatRequest):
        """A grammar when the answer's form is prescribed: tool calls that must come (required, or the one named),
        in the block format the template asked for; JSON for response_format (or a tool call instead, when tools
        are offered, as a remote model may answer either)."""
        forced = local_tools.forced_tools(request) if self._offered(request) else ()
        schema = answer_schema(request)
        if not forced and schema is None:
            return None
        from llama_cpp import LlamaGrammar

        calls_from = forced or (request.tools if self._offered(request) else ())
        several = request.parallel_tool_calls is not False
        text = local_tools.grammar_text(calls_from, None if forced else schema, several)
        return LlamaGrammar.from_string(text, verbose=False)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamDelta]:
        """Tokens as llama.cpp makes them, with <think> blocks moved into reasoning pieces."""
        async with contextlib.aclosing(split_stream(self._pieces(request))) as deltas:
            async for delta in deltas:
                yield delta

    async def _pieces(self, request: ChatRequest) -> AsyncIterator[StreamDelta]:
        """Tokens handed from the inference thread to the event loop. If the consumer goes away (a client
        disconnects), generation stops at the next token."""
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def produce() -> None:
            try:
                for delta in self.stream_blocking(request, stop):
                    loop.call_soon_threadsafe(pieces.put_nowait, delta)
            except BaseException as error:  # handed over and raised in the consumer
                loop.call_soon_threadsafe(pieces.put_nowait, error)
            finally:
                loop.call_soon_threadsafe(pieces.put_nowait, None)

        loop.run_in_executor(inference_thread, produce)
        try:
            while (piece := await pieces.get()) is not None:
                if isinstance(piece, BaseException):
                    raise piece
                yield piece
        finally:
            stop.set()

    def stream_blocking(self, request: ChatRequest, stop: threading.Event) -> Iterator[StreamDelta]:
        llama, lock = load_llama(self.path, self.n_ctx)
        # With tools offered, text that may be a <tool_call> block is held back and sent as tool call pieces.
        splitter = local_tools.ToolCallSplitter(*_call_rules(request)) if self._offered(request) else None
        with lock:
            started = time.perf_counter()
            recorder = LogprobRecorder(llama, request.top_logprobs or 0) if request.logprobs else None
            texts, finish_reason = [], "stop"
            try:
                prompt_tokens = self.count_prompt_tokens(request)  # renders the chat template, which may refuse
                for chunk in self._generate(llama, request, self._processors(llama, started, recorder), stream=True):
                    if stop.is_set():
                        return
                    choice = chunk["choices"][0]
                    text = (choice.get("delta") or {}).get("content") if "delta" in choice else choice.get("text")
                    if text:
                        texts.append(text)  # llama.cpp streams one token per chunk
                        yield from self._shown(text, splitter, recorder and recorder.settled())
                    finish_reason = choice.get("finish_reason") or finish_reason
            except (ValueError, RuntimeError) as error:
                raise ProviderResponseError(f"llama.cpp could not answer: {error}") from None
        if recorder is not None:
            recorder.finish("".join(texts))
        yield from self._shown("", splitter, recorder and recorder.settled(), final=True)
        finish_reason = "tool_calls" if splitter is not None and splitter.calls else finish_reason
        yield StreamDelta(finish_reason=finish_reason, usage=Usage(prompt_tokens, len(texts)), model=self.path.name)

    def _shown(self, text: str, splitter, logprobs: list[dict] | None, final: bool = False) -> list[StreamDelta]:
        """The deltas a piece of text makes: what the splitter lets through of it, the calls it completed, and the
        logprobs settled meanwhile (a token's come one token after its text: see local_logprobs)."""
        shown, calls = (text, []) if splitter is None else splitter.finish() if final else splitter.feed(text)
        deltas = [StreamDelta(text=shown, model=self.path.name)] if shown else []
        first = len(splitter.calls) - len(calls) if splitter is not None else 0  # the first new call's index
        deltas += [StreamDelta(tool_calls=local_tools.call_deltas(call, index), model=self.path.name)
                   for index, call in enumerate(calls, start=first)]
        if logprobs:
            carrier = deltas.pop(0) if deltas else StreamDelta(model=self.path.name)
            deltas.insert(0, dataclasses.replace(carrier, logprobs=chat_logprobs(logprobs)))
        return deltas

    async def aclose(self) -> None:
        """Loaded models stay cached for the process: loading costs more than keeping them."""


def _call_rules(request: ChatRequest) -> tuple[frozenset[str], bool]:
    """The names a call may have, and whether only one call may come (parallel_tool_calls false)."""
    return frozenset(tool.name for tool in request.tools), request.parallel_tool_calls is False


def sampling(request: ChatRequest) -> dict:
    """The sampling parameters the app sent; what it did not send keeps llama.cpp's default. max_tokens None: until
    the end of the answer or of the context."""
    chosen = dict(max_tokens=request.max_tokens, seed=request.seed)
    for name in ("temperature", "top_p", "presence_penalty", "frequency_penalty"):
        if getattr(request, name) is not None:
            chosen[name] = getattr(request, name)
    return chosen


def answer_schema(request: ChatRequest) -> dict | None:
    """The JSON Schema the answer must satisfy (any object, for json_object without one), or None for free text."""
    form = request.response_format
    if form is None or form.type == "text":
        return None
    return form.schema if form.schema is not None else {"type": "object"}
