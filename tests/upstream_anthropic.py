"""The scripted upstream's Anthropic half: the tool-calling, cached and thinking models as Anthropic's Messages API
answers them, plain and streamed (tests/upstream.py serves them on /v1/messages)."""

from __future__ import annotations

import json

from tests.upstream_text import REASONING, REASONING_WORDS, last_user_text, sse, text_of


def tool_uses(body: dict, text: str) -> list[dict] | None:
    """The tool_use blocks of a request to Anthropic's API, or None to answer in text. tool-caller and parallel-caller
    call tools as on the OpenAI side (with {"query": the last user text}), unless the last user turn holds tool results;
    any other model made to call a tool (tool_choice {"type": "tool"}: how a JSON answer is asked of Anthropic) writes
    its answer into it, as {"answer": text}."""
    tools = [tool["name"] for tool in body.get("tools") or []]
    choice = body.get("tool_choice") or {}
    named = choice.get("name") if choice.get("type") == "tool" else None
    if body["model"] not in ("tool-caller", "parallel-caller"):
        return None if named is None else [{"type": "tool_use", "id": "toolu_answer", "name": named,
                                            "input": {"answer": text}}]
    if not tools or tool_results_text(body) is not None or choice.get("type") == "none":
        return None
    chosen = [named] if named else tools[:3] if body["model"] == "parallel-caller" else tools[:1]
    query = last_user_text(body["messages"])
    return [{"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": {"query": query}}
            for i, name in enumerate(chosen)]


def tool_results_text(body: dict) -> str | None:
    """"tool said: RESULTS" when the last message is a user turn of tool_result blocks (Anthropic's tool results)."""
    content = body["messages"][-1].get("content") if body["messages"] else None
    results = [text_of(block.get("content")) for block in content or () if isinstance(content, list)
               and block.get("type") == "tool_result"]
    return "tool said: " + " | ".join(results) if results else None


def cache_usage(model: str) -> dict:
    """claude-cached reports a prompt partly written to and partly read from Anthropic's prompt cache."""
    return {"cache_creation_input_tokens": 7, "cache_read_input_tokens": 100} if model == "claude-cached" else {}


async def tool_events(model: str, uses: list[dict]):
    """tool_use blocks streamed as Anthropic streams them: each block's start with its id and name, then its input
    as input_json_delta pieces (two), then its stop."""
    yield sse({"type": "message_start", "message": {"model": model, "usage": {"input_tokens": 10}
                                                     | cache_usage(model)}})
    for index, use in enumerate(uses):
        yield sse({"type": "content_block_start", "index": index, "content_block": use | {"input": {}}})
        arguments = json.dumps(use["input"], ensure_ascii=False)
        for piece in (arguments[:len(arguments) // 2], arguments[len(arguments) // 2:]):
            yield sse({"type": "content_block_delta", "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece}})
        yield sse({"type": "content_block_stop", "index": index})
    yield sse({"type": "message_delta", "delta": {"stop_reason": "tool_use"},
                "usage": {"output_tokens": 5 * len(uses)}})
    yield sse({"type": "message_stop"})


async def events(model: str, text: str):
    words = text.split(" ")
    yield sse({"type": "message_start", "message": {"model": model, "usage": {"input_tokens": len(words) + 5}
                                                     | cache_usage(model)}})
    thinker = model == "claude-thinker"
    if thinker:
        async for event in thinking_events():
            yield event
    for index, word in enumerate(words):
        yield sse({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": word if index == 0 else " " + word}})
    yield sse({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": len(words) + (REASONING_WORDS if thinker else 0)}})
    yield sse({"type": "message_stop"})


async def thinking_events():
    yield sse({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}})
    for index, word in enumerate(REASONING.split(" ")):
        yield sse({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "thinking_delta", "thinking": word if index == 0 else " " + word}})
    yield sse({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "c2ln"}})
    yield sse({"type": "content_block_stop", "index": 0})
