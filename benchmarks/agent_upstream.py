"""A scripted tool-calling model on 127.0.0.1, for the agent loop benchmark (benchmarks/agent_overhead.py).

An OpenAI-compatible chat-completions server like benchmarks/fixed_upstream.py (raw asyncio and httptools, so it
costs little CPU beside the tools under test), but its answer depends on the conversation: it counts the `tool`
messages in the request and answers a conversation's first request with a call of get_weather, the second (after
that tool's result) with a call of get_forecast, and the third with the final text answer. Each answer comes after
the same fixed delay. Its counters (GET /stats) are the ground truth of how many model calls, i.e. agent steps,
each tool made, per step of the script, and how many requests fell outside the script.

    python benchmarks/agent_upstream.py --serve --delay-ms 50     # prints the port, serves until SIGTERM
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from fixed_upstream import MODEL, ChatCompletionsProtocol, UpstreamStats, http_response, serve_forever

CITY = "Paris"
DAYS = 2
WEATHER = "Paris: 21 C, sunny, light wind from the west."
FORECAST = "Paris, next 2 days: rain tomorrow (14 C), clouds the day after (17 C)."
FINAL_ANSWER = "Today in Paris it is 21 C and sunny; rain is expected tomorrow."
TOOL_NAMES = ("get_weather", "get_forecast")
STEPS = 3  # model calls per task: two tool calls, then the answer


def tool_call_body(step: int, name: str, arguments: dict) -> dict:
    call = {"id": f"call_step{step}", "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)}}
    return {"role": "assistant", "content": None, "tool_calls": [call]}


def scripted_messages() -> list[tuple[dict, str]]:
    """The assistant's message and finish reason for the request that holds 0, 1 and 2 tool results."""
    return [
        (tool_call_body(1, "get_weather", {"city": CITY}), "tool_calls"),
        (tool_call_body(2, "get_forecast", {"city": CITY, "days": DAYS}), "tool_calls"),
        ({"role": "assistant", "content": FINAL_ANSWER}, "stop"),
    ]


def build_replies() -> list[dict[bool, bytes]]:
    """Every reply built once, per step and keep-alive: the server's per-request work is parsing and writing."""
    replies = []
    for message, finish_reason in scripted_messages():
        body = json.dumps({
            "id": "chatcmpl-agent-bench", "object": "chat.completion", "created": 0, "model": MODEL,
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
            "usage": {"prompt_tokens": 80, "completion_tokens": 12, "total_tokens": 92},
        }).encode()
        replies.append({keep: http_response(200, body, keep) for keep in (True, False)})
    return replies


REPLIES = build_replies()


class AgentStats(UpstreamStats):
    """The fixed upstream's counters, plus requests per step of the script and those that fit none."""

    def reset(self) -> None:
        super().reset()
        self.by_step = [0] * STEPS
        self.off_script = 0  # more tool results than the script has, a body that is not JSON, or no tools offered
        self.turnarounds: list[float] = []  # within a task: an answer to the task's next request
        self.answered: dict[str, float] = {}  # task (its first message) -> when its last answer went out

    def snapshot(self) -> dict:
        turnarounds = sorted(self.turnarounds)
        quantiles = {f"turnaround_p{q}_ms": 1000 * turnarounds[min(len(turnarounds) - 1, len(turnarounds) * q // 100)]
                     for q in (50, 90, 99)} if turnarounds else {}
        return {**super().snapshot(), "by_step": list(self.by_step), "off_script": self.off_script, **quantiles}


def read_request(body: bytes) -> tuple[int, str] | None:
    """How many tool results the conversation holds, and its first message (which names the task); None when the
    request is not one the script answers."""
    try:
        request = json.loads(body)
        messages = request["messages"]
        offered = {tool.get("function", {}).get("name") for tool in request.get("tools") or ()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not set(TOOL_NAMES) <= offered or not messages:
        return None  # a tool that cannot call the script's tools is not measuring its agent loop
    count = sum(message.get("role") == "tool" for message in messages)
    return (count, str(messages[0].get("content"))) if count < STEPS else None


class AgentProtocol(ChatCompletionsProtocol):
    """Reads the request body (the fixed upstream never does) to pick the step's reply."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.body = bytearray()

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        if not self.url.endswith(b"/chat/completions"):
            super().on_message_complete()
            return
        keep_alive = self.parser.should_keep_alive()
        self.stats.request_seen()
        request = read_request(bytes(self.body))
        if request is None:
            self.stats.off_script += 1
            self.send(http_response(400, b'{"error": {"message": "request outside the script"}}', keep_alive),
                      keep_alive)
            return
        step, task = request
        self.stats.by_step[step] += 1
        if step and (answered := self.stats.answered.pop(task, None)) is not None:
            self.stats.turnarounds.append(time.monotonic() - answered)  # the tool's own time between two steps
        asyncio.get_running_loop().call_later(self.delay_s, self.reply_step, keep_alive, step, task)

    def reply_step(self, keep_alive: bool, step: int, task: str) -> None:
        if self.transport.is_closing():
            return
        self.send(REPLIES[step][keep_alive], keep_alive)
        self.stats.last_reply = now = time.monotonic()
        if step < STEPS - 1:
            self.stats.answered[task] = now


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="serve (the form benchmarks' Upstream starts)")
    parser.add_argument("--delay-ms", type=float, default=50.0)
    delay_s = parser.parse_args().delay_ms / 1000
    stats = AgentStats()
    serve_forever(lambda: AgentProtocol(stats, delay_s))
