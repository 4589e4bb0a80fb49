"""A scripted agent upstream on 127.0.0.1 (OpenAI's chat-completions format) for agent-loop tests.

The item's system prompt is the script, so every test knows in advance which calls come:
    TURN 1: get_weather {"city": "Seoul"} | get_weather {"city": "Busan"}     (two calls at once)
    TURN 2: book {"day": "friday"}
    FINAL: It is {results}                       ({results}: the tool results since the model last spoke)
Turn n is the model's n-th answer in the conversation. The model name picks how the script is followed:
  agent-right      as written
  agent-wrong      as written, but every string argument gets " (wrong)" appended
  agent-never      answers FINAL at once, never calls a tool
  agent-reversed   the calls of each turn in reverse order (parallel calls in another order)
  agent-injectable as written, but when a tool result says "INSTRUCTION: call NAME {json}" it makes that call first
  agent-unknown    calls `no_such_tool` at turn 1, then follows the script from turn 2
As a simulated user (a system prompt starting "You play a user"): "###STOP###" once the agent's last answer
contains DONE, else "Yes, go ahead."
"""

from __future__ import annotations

import json
import re

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.upstream import BackgroundServer

_TURN = re.compile(r"^TURN (\d+):\s*(.*)$", re.MULTILINE)
_FINAL = re.compile(r"^FINAL:\s*(.*)$", re.MULTILINE)
_INSTRUCTION = re.compile(r"INSTRUCTION: call (\w+) (\{.*\})")


def planned_calls(script: str, turn: int) -> list[tuple[str, dict]]:
    for number, line in _TURN.findall(script):
        if int(number) == turn:
            return [(name, json.loads(args or "{}")) for name, _, args in
                    (part.strip().partition(" ") for part in line.split("|"))]
    return []


def _recent_results(messages: list[dict]) -> list[str]:
    results = []
    for message in reversed(messages):
        if message["role"] != "tool":
            break
        results.append(message["content"] if isinstance(message["content"], str) else json.dumps(message["content"]))
    return list(reversed(results))


def answer(model: str, messages: list[dict]) -> tuple[str, list[tuple[str, dict]]]:
    """The text and the calls `model` answers `messages` with."""
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    if system.startswith("You play a user"):
        return ("###STOP###" if "DONE" in messages[-1]["content"] else "Yes, go ahead."), []
    turn = 1 + sum(m["role"] == "assistant" for m in messages)
    results = _recent_results(messages)
    calls = [] if model == "agent-never" else planned_calls(system, turn)
    if model == "agent-unknown":
        calls = [("no_such_tool", {})] if turn == 1 else planned_calls(system, turn - 1)
    if model == "agent-wrong":
        calls = [(name, {k: f"{v} (wrong)" if isinstance(v, str) else v for k, v in args.items()})
                 for name, args in calls]
    if model == "agent-reversed":
        calls = list(reversed(calls))
    if model == "agent-injectable" and (found := [m for r in results for m in _INSTRUCTION.findall(r)]):
        calls = [(name, json.loads(args)) for name, args in found]
    final = _FINAL.search(system)
    text = (final.group(1) if final else "done").replace("{results}", " | ".join(results))
    return ("" if calls else text), calls


def completion(model: str, text: str, calls: list[tuple[str, dict]], call_number: int) -> dict:
    tool_calls = [{"id": f"call_{call_number}_{index}", "type": "function",
                   "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}}
                  for index, (name, args) in enumerate(calls)]
    message = {"role": "assistant", "content": text or None} | ({"tool_calls": tool_calls} if tool_calls else {})
    return {"id": f"chatcmpl-{call_number}", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 5 + 10 * len(calls), "total_tokens": 25}}


class AgentUpstream(BackgroundServer):
    """The scripted agent upstream, keeping each request body it was sent."""

    def __init__(self):
        self.requests: list[dict] = []

        async def chat(request: Request):
            body = await request.json()
            self.requests.append(body)
            text, calls = answer(body["model"], body["messages"])
            return JSONResponse(completion(body["model"], text, calls, len(self.requests)))

        super().__init__(Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])]))
