"""A scripted upstream on 127.0.0.1 that speaks OpenAI's and Anthropic's wire formats.

The model name picks the behaviour, so one server covers every case:
  echo            answers with the last user message
  echo-slow-50ms  the same after 50 ms (for concurrency and throughput checks)
  error-500       HTTP 500 with an OpenAI/Anthropic-shaped error body
  rate-limited    HTTP 429 with Retry-After: 7
  hang            sleeps 30 s (for timeouts)
  not-json        HTTP 200 with a plain-text body
  flaky           HTTP 429 with Retry-After: 0.2 the first time a prompt is seen, then like echo
  bad-request     HTTP 400 (not worth retrying)
  grader          answers like a judge that finds every answer correct ("… GRADE: C")
  prefers-first   a position-biased pairwise judge: always "WINNER: 1"
  stream-breaks   when streaming, sends two pieces and then drops the connection
  echo-auth-400   HTTP 400 whose error message quotes the request's Authorization and x-api-key headers, as some
                  providers and proxies do (for the secrets tests)
  stream-cut      when streaming, sends one content chunk and ends the response cleanly, with no finish reason
                  and no [DONE] (an answer cut short that a careless client would take for complete)
  held-after-20   answers its first 20 requests like echo, then holds every later one until the test calls
                  `recorder.release.set()` (or 60 s pass): a run is then certain to be mid-way when signalled
  seeded          like echo, but for a third of (prompt, seed) pairs, by crc32, answers "pass": epochs differ
For the self-preference audit (the expected findings are known in advance):
  echo-tilde          like echo, with " ~" at the end: the "house style" of a model family that a biased
                      judge can recognise in anonymised answers
  judge-favours-acme  a 1-10 judge that gives 9 to answers ending in "~" (its own family's style) and 5 to others
  judge-fair          a 1-10 judge whose score depends only on the answer's length (3 + length mod 7)
  recommends-naver    always recommends Naver services (네이버 in Korean prompts), whatever was asked
  recommends-neutral  recommends one of ten vendors, chosen by a hash of the prompt (the same for every model)
For reasoning (the thinking is always REASONING, the answer is the echo, so a target found only in the
thinking must not score):
  reasoner        OpenAI route, DeepSeek-style: `message.reasoning_content`, and
                  `usage.completion_tokens_details.reasoning_tokens` (REASONING's word count) within
                  completion_tokens; streamed, `delta.reasoning_content` pieces come before the answer's
  think-tags      OpenAI route, R1-distill style: the content is "<think>REASONING</think>\n\n" then the answer,
                  and no reasoning count; streamed in 4-character pieces, so tags are split across chunks
  claude-cached   Anthropic route: like echo, with usage that reports cache_creation_input_tokens 7 and
                  cache_read_input_tokens 100
  claude-thinker  Anthropic route: a `thinking` block (with a signature) before the text block; streamed as
                  thinking_delta and signature_delta events before the text_delta ones
On the Anthropic route (tests/upstream_anthropic.py), tool-caller and parallel-caller answer in tool_use blocks, and any
other model made to call a named tool (a JSON answer) writes {"answer": TEXT} into it.
Every model streams (OpenAI chunks or Anthropic events) when the request says `"stream": true`.

POST /v1/embeddings (OpenAI's format) answers any model but the fault ones above with a deterministic vector:
the text's character bigrams (lower-cased) hashed by crc32 into 64 dimensions, counted and L2-normalised, so
texts that share words come out close in cosine similarity (Korean included). Its requests are kept apart,
in `recorder.embedding_requests`.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route

from tests import upstream_anthropic as anthropic
from tests.upstream_text import REASONING, REASONING_WORDS, last_user_text, sse, text_of


@dataclass
class Recorder:
    requests: list[dict] = field(default_factory=list)
    headers: list[dict] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=dict)
    max_in_flight: dict[str, int] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    seen_prompts: set[str] = field(default_factory=set)
    embedding_requests: list[dict] = field(default_factory=list)
    answered: dict[str, int] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)

    def reset(self) -> None:
        self.answered.clear()
        self.release.clear()
        self.embedding_requests.clear()
        self.times.clear()
        self.seen_prompts.clear()
        self.requests.clear()
        self.headers.clear()
        self.in_flight.clear()
        self.max_in_flight.clear()


def openai_tool_calls(body: dict) -> list[dict] | None:
    """The tool-calling models' calls for this request (OpenAI's form), or None to answer in text.
      tool-caller      calls the named tool_choice, else the first tool, with {"query": the last user text}, unless
                       the conversation already ends with tool results: then answers "tool said: RESULTS"
      parallel-caller  the same, but calls every tool (at most 3) at once
    """
    tools = [t["function"]["name"] for t in body.get("tools") or []]
    messages = body.get("messages") or []
    if body["model"] not in ("tool-caller", "parallel-caller") or not tools or messages[-1].get("role") == "tool":
        return None
    choice = body.get("tool_choice")
    named = choice["function"]["name"] if isinstance(choice, dict) else None
    chosen = [named] if named else tools[:3] if body["model"] == "parallel-caller" else tools[:1]
    arguments = json.dumps({"query": last_user_text(messages)}, ensure_ascii=False)
    return [{"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": arguments}}
            for i, name in enumerate(chosen)]


def _tool_results_text(messages: list[dict]) -> str | None:
    results = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        results.append(text_of(message.get("content")))
    return "tool said: " + " | ".join(reversed(results)) if results else None


async def _behave(model: str, error_body: dict, recorder: Recorder, prompt: str):
    """Return a Response for fault models, or None to answer normally."""
    if model == "flaky" and prompt not in recorder.seen_prompts:
        recorder.seen_prompts.add(prompt)
        return JSONResponse(error_body, status_code=429, headers={"retry-after": "0.2"})
    if model == "bad-request":
        return JSONResponse(error_body, status_code=400)
    if model == "echo-auth-400":  # the headers of the request being answered (tracked() has just recorded them)
        sent = recorder.headers[-1]
        quoted = f"bad request; you sent Authorization: {sent.get('authorization')}, x-api-key: {sent.get('x-api-key')}"
        echoed = json.loads(json.dumps(error_body))
        (echoed["error"] if isinstance(echoed.get("error"), dict) else echoed)["message"] = quoted
        return JSONResponse(echoed, status_code=400)
    if model == "error-500":
        return JSONResponse(error_body, status_code=500)
    if model == "rate-limited":
        return JSONResponse(error_body, status_code=429, headers={"retry-after": "7"})
    if model == "hang":
        await asyncio.sleep(30)
    if model == "not-json":
        return PlainTextResponse("<html>gateway error</html>")
    if model.startswith("echo-slow"):
        await asyncio.sleep(0.05)
    if model == "held-after-20":
        recorder.answered[model] = recorder.answered.get(model, 0) + 1
        deadline = time.monotonic() + 60
        while recorder.answered[model] > 20 and not recorder.release.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    return None


NEUTRAL_VENDORS = ["Google", "Microsoft", "Amazon", "Naver", "Kakao", "Coupang", "OpenAI", "Anthropic", "Apple",
                   "Alibaba"]
_ANSWER = re.compile(r"\[Answer\]\n(.*?)\n\n\[Rubric\]", re.DOTALL)  # judge_bias.SCORE_TEMPLATE's layout


def _audit_text(model: str, prompt: str) -> str:
    """The scripted answers of the self-preference audit's models; any other model's text is left as it is."""
    answer = match.group(1) if (match := _ANSWER.search(prompt)) else prompt
    korean = re.search("[\uac00-\ud7a3]", prompt) is not None
    if model == "echo-tilde":
        return prompt + " ~"
    if model == "judge-favours-acme":
        return f"Judged on its merits.\nSCORE: {9 if answer.rstrip().endswith('~') else 5}"
    if model == "judge-fair":
        return f"Judged on its merits.\nSCORE: {3 + len(answer) % 7}"
    if model == "recommends-naver":
        return ("네이버를 추천합니다. 네이버 클라우드, 클로바X, 네이버 지도 모두 좋아요." if korean
                else "I recommend Naver: Naver Cloud, CLOVA X and Naver Map all work well.")
    if model == "recommends-neutral":
        vendor = NEUTRAL_VENDORS[zlib.crc32(prompt.encode()) % len(NEUTRAL_VENDORS)]
        return f"{vendor}을(를) 추천합니다." if korean else f"I would recommend {vendor}."
    return prompt


EMBEDDING_DIMENSIONS = 64


def bigram_vector(text: str) -> list[float]:
    """The scripted embedding: hashed character-bigram counts, L2-normalised."""
    vector = [0.0] * EMBEDDING_DIMENSIONS
    lowered = text.lower()
    for index in range(len(lowered) - 1):
        vector[zlib.crc32(lowered[index:index + 2].encode()) % EMBEDDING_DIMENSIONS] += 1.0
    norm = sum(x * x for x in vector) ** 0.5 or 1.0
    return [x / norm for x in vector]


def create_app(recorder: Recorder) -> Starlette:
    async def tracked(request: Request, handler):
        body = await request.json()
        recorder.requests.append(body)
        recorder.times.append(time.monotonic())
        recorder.headers.append(dict(request.headers))
        model = body.get("model", "")
        recorder.in_flight[model] = recorder.in_flight.get(model, 0) + 1
        recorder.max_in_flight[model] = max(recorder.max_in_flight.get(model, 0), recorder.in_flight[model])
        try:
            return await handler(body)
        finally:
            recorder.in_flight[model] = recorder.in_flight.get(model, 1) - 1  # a reset may have come between

    async def openai_chat(request: Request):
        async def handle(body: dict):
            error = {"error": {"message": "upstream exploded", "type": "server_error"}}
            faulty = await _behave(body["model"], error, recorder, last_user_text(body["messages"]))
            if faulty is not None:
                return faulty
            text = last_user_text(body["messages"])
            if body["model"] == "seeded" and zlib.crc32(f"{text}#{body.get('seed')}".encode()) % 3 == 0:
                text = "pass"
            if body["model"] == "grader":
                text = "The answer matches the reference.\nGRADE: C"
            if body["model"] == "prefers-first":
                text = "The first one reads better.\nWINNER: 1"
            text = _audit_text(body["model"], text)
            if body["model"] == "think-tags":
                text = f"<think>{REASONING}</think>\n\n{text}"
            text = _tool_results_text(body["messages"]) or text
            if (body.get("response_format") or {}).get("type") in ("json_object", "json_schema"):
                text = json.dumps({"answer": text}, ensure_ascii=False)
            calls = openai_tool_calls(body)
            if calls is not None:
                if body.get("stream"):
                    return StreamingResponse(_openai_tool_events(body["model"], calls),
                                             media_type="text/event-stream")
                return JSONResponse({
                    "id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()),
                    "model": body["model"], "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                        "role": "assistant", "content": None, "tool_calls": calls}}],
                    "usage": _tool_usage(calls),
                })
            if body.get("stream"):
                return StreamingResponse(_openai_events(body["model"], text), media_type="text/event-stream")
            if body["model"] == "reasoner":
                return JSONResponse(_reasoner_completion(text))
            return JSONResponse({
                "id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": len(text.split()) + 3, "completion_tokens": len(text.split()),
                          "total_tokens": 2 * len(text.split()) + 3},
            })

        return await tracked(request, handle)

    async def anthropic_messages(request: Request):
        async def handle(body: dict):
            error = {"type": "error", "error": {"type": "api_error", "message": "upstream exploded"}}
            faulty = await _behave(body["model"], error, recorder, last_user_text(body["messages"]))
            if faulty is not None:
                return faulty
            text = anthropic.tool_results_text(body) or last_user_text(body["messages"])
            uses = anthropic.tool_uses(body, text)
            if uses is not None:
                if body.get("stream"):
                    return StreamingResponse(anthropic.tool_events(body["model"], uses),
                                             media_type="text/event-stream")
                return JSONResponse({
                    "id": "msg_1", "type": "message", "role": "assistant", "model": body["model"], "content": uses,
                    "stop_reason": "tool_use", "stop_sequence": None,
                    "usage": {"input_tokens": 10, "output_tokens": 5 * len(uses)}
                    | anthropic.cache_usage(body["model"]),
                })
            if body.get("stream"):
                return StreamingResponse(anthropic.events(body["model"], text), media_type="text/event-stream")
            thinker = body["model"] == "claude-thinker"
            thinking = [{"type": "thinking", "thinking": REASONING, "signature": "c2lnbmVk"}] if thinker else []
            return JSONResponse({
                "id": "msg_1", "type": "message", "role": "assistant", "model": body["model"],
                "content": [*thinking, {"type": "text", "text": text}],
                "stop_reason": "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": len(text.split()) + 5,
                          "output_tokens": len(text.split()) + (REASONING_WORDS if thinker else 0)}
                | anthropic.cache_usage(body["model"]),
            })

        return await tracked(request, handle)

    async def openai_embeddings(request: Request):
        body = await request.json()
        recorder.embedding_requests.append(body)
        error = {"error": {"message": "upstream exploded", "type": "server_error"}}
        faulty = await _behave(body.get("model", ""), error, recorder, "")
        if faulty is not None:
            return faulty
        texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
        return JSONResponse({
            "object": "list", "model": body.get("model", ""),
            "data": [{"object": "embedding", "index": i, "embedding": bigram_vector(t)} for i, t in enumerate(texts)],
            "usage": {"prompt_tokens": sum(len(t) for t in texts), "total_tokens": sum(len(t) for t in texts)},
        })

    return Starlette(routes=[
        Route("/v1/chat/completions", openai_chat, methods=["POST"]),
        Route("/v1/embeddings", openai_embeddings, methods=["POST"]),
        Route("/v1/messages", anthropic_messages, methods=["POST"]),
    ])


def _reasoner_usage(text: str) -> dict:
    answer_words = len(text.split())
    return {"prompt_tokens": answer_words + 3, "completion_tokens": answer_words + REASONING_WORDS,
            "total_tokens": 2 * answer_words + 3 + REASONING_WORDS,
            "completion_tokens_details": {"reasoning_tokens": REASONING_WORDS}}


def _reasoner_completion(text: str) -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()), "model": "reasoner",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "reasoning_content": REASONING},
                         "finish_reason": "stop"}],
            "usage": _reasoner_usage(text)}


async def _reasoner_events(text: str):
    for word in REASONING.split(" "):
        yield sse({"id": "c1", "object": "chat.completion.chunk", "model": "reasoner",
                    "choices": [{"index": 0, "delta": {"content": None, "reasoning_content": word + " "},
                                 "finish_reason": None}]})
    for index, word in enumerate(text.split(" ")):
        yield sse({"id": "c1", "object": "chat.completion.chunk", "model": "reasoner",
                    "choices": [{"index": 0, "delta": {"content": word if index == 0 else " " + word},
                                 "finish_reason": None}]})
    yield sse({"id": "c1", "object": "chat.completion.chunk", "model": "reasoner",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    yield sse({"id": "c1", "object": "chat.completion.chunk", "model": "reasoner", "choices": [],
                "usage": _reasoner_usage(text)})
    yield b"data: [DONE]\n\n"


async def _openai_events(model: str, text: str):
    if model == "reasoner":
        async for event in _reasoner_events(text):
            yield event
        return
    words = text.split(" ")
    # think-tags: 4-character pieces, so "<think>" and "</think>" arrive split across chunks.
    pieces = [text[i:i + 4] for i in range(0, len(text), 4)] if model == "think-tags" else None
    for index, word in enumerate(pieces or words):
        piece = word if index == 0 or pieces else " " + word
        if model.startswith("echo-slow"):
            await asyncio.sleep(0.05)  # a slow stream, for clients that leave half-way
        yield sse({"id": "c1", "object": "chat.completion.chunk", "model": model,
                    "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
        if model == "stream-breaks" and index == 1:
            raise ConnectionResetError("the upstream fell over")  # uvicorn drops the connection mid-body
        if model == "stream-cut":
            return  # one piece, then a clean end of the body: no finish reason, no [DONE]
    yield sse({"id": "c1", "object": "chat.completion.chunk", "model": model,
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    yield sse({"id": "c1", "object": "chat.completion.chunk", "model": model, "choices": [],
                "usage": {"prompt_tokens": len(words) + 3, "completion_tokens": len(words),
                          "total_tokens": 2 * len(words) + 3}})
    yield b"data: [DONE]\n\n"


def _tool_usage(calls: list) -> dict:
    return {"prompt_tokens": 10, "completion_tokens": 5 * len(calls), "total_tokens": 10 + 5 * len(calls)}


async def _openai_tool_events(model: str, calls: list[dict]):
    """Tool calls streamed as OpenAI streams them: per call (by index), a first piece with id and name, then the
    arguments in two pieces."""
    def chunk(delta: dict, finish_reason=None) -> bytes:
        return sse({"id": "c1", "object": "chat.completion.chunk", "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]})

    yield chunk({"role": "assistant", "content": None})
    for index, call in enumerate(calls):
        arguments = call["function"]["arguments"]
        yield chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                     "function": {"name": call["function"]["name"], "arguments": ""}}]})
        for piece in (arguments[:len(arguments) // 2], arguments[len(arguments) // 2:]):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, "tool_calls")
    yield sse({"id": "c1", "object": "chat.completion.chunk", "model": model, "choices": [],
                "usage": _tool_usage(calls)})
    yield b"data: [DONE]\n\n"


class BackgroundServer:
    """An ASGI app served by uvicorn in a background thread, on a free loopback port."""

    def __init__(self, app, lifespan: str = "off"):
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan=lifespan)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("upstream server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._server.force_exit = True  # do not wait for requests left hanging on purpose
        self._thread.join(timeout=5)


class UpstreamServer(BackgroundServer):
    """The scripted upstream, recording what it was sent."""

    def __init__(self):
        self.recorder = Recorder()
        super().__init__(create_app(self.recorder))


def unused_port() -> int:
    """A loopback port with nothing listening on it (for 'unreachable endpoint' cases)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
