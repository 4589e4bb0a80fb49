"""A fixed-answer OpenAI-compatible chat-completions server on 127.0.0.1, for the runner benchmark.

Written on raw asyncio with httptools so that it costs little CPU (the machine has 2 cores and the tools
under test need them). It answers every request with the same short answer after a fixed delay, and records
the first request and last reply of each measurement window (GET /stats, GET /stats/reset), so the request
phase of a tool run can be timed apart from its start-up and exit. Under /tools/v1 it answers every request with
the same tool call instead (the gateway benchmark's tool-calling workload).

    python benchmarks/fixed_upstream.py --delay-ms 50     # prints the port, serves until SIGTERM
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

MODEL = "bench"
ANSWER = "Paris"



def completion_reply(keep_alive: bool) -> bytes:
    """One fixed reply, built once: the server's per-request work should be parsing and writing only."""
    body = json.dumps({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop",
                     "logprobs": None}],
        "usage": {"prompt_tokens": 16, "completion_tokens": 1, "total_tokens": 17},
    }).encode()
    return http_response(200, body, keep_alive)


def tool_call_reply(keep_alive: bool) -> bytes:
    """The reply under /tools/v1: one call of a weather tool for Paris, as a tool-calling model answers."""
    call = {"id": "call_bench", "type": "function",
            "function": {"name": "get_weather", "arguments": json.dumps({"city": ANSWER})}}
    body = json.dumps({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                     "finish_reason": "tool_calls", "logprobs": None}],
        "usage": {"prompt_tokens": 60, "completion_tokens": 12, "total_tokens": 72},
    }).encode()
    return http_response(200, body, keep_alive)


def http_response(status: int, body: bytes, keep_alive: bool) -> bytes:
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
    connection = "keep-alive" if keep_alive else "close"
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            f"connection: {connection}\r\n\r\n")
    return head.encode() + body


class UpstreamStats:
    """Counters for one tool run; the runner reads them (GET /stats) and starts a new window (GET /stats/reset)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.connections = 0
        self.first_request: float | None = None
        self.last_reply: float | None = None
        self.cpu_at_reset = time.process_time()

    def request_seen(self) -> None:
        self.requests += 1
        if self.first_request is None:
            self.first_request = time.monotonic()

    def snapshot(self) -> dict:
        # time.monotonic() is CLOCK_MONOTONIC, shared by every process on Linux: the runner compares it to its own.
        return {"requests": self.requests, "connections": self.connections, "first_request": self.first_request,
                "last_reply": self.last_reply, "cpu_s": time.process_time() - self.cpu_at_reset}


class ChatCompletionsProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive; the request body is never parsed, since every answer is the same."""

    def __init__(self, stats: UpstreamStats, delay_s: float) -> None:
        import httptools  # only the server process needs it

        self.stats, self.delay_s = stats, delay_s
        self.parser = httptools.HttpRequestParser(self)
        self.parse_error = httptools.HttpParserError
        self.url = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.stats.connections += 1  # more connections than the concurrency means a client is not reusing them

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except self.parse_error:
            self.transport.write(http_response(400, b"{}", keep_alive=False))
            self.transport.close()

    def on_message_begin(self) -> None:
        self.url = b""

    def on_url(self, url: bytes) -> None:
        self.url += url  # httptools may deliver the URL in pieces

    def on_message_complete(self) -> None:
        keep_alive = self.parser.should_keep_alive()
        if self.url.startswith(b"/stats"):
            if self.url == b"/stats/reset":
                self.stats.reset()
            self.send(http_response(200, json.dumps(self.stats.snapshot()).encode(), keep_alive), keep_alive)
        elif self.url.endswith(b"/chat/completions"):
            self.stats.request_seen()
            tools = self.url.startswith(b"/tools/")
            asyncio.get_running_loop().call_later(self.delay_s, self.reply, keep_alive, tools)
        else:
            self.send(http_response(404, b"{}", keep_alive), keep_alive)

    def reply(self, keep_alive: bool, tools: bool = False) -> None:
        if self.transport.is_closing():
            return
        replies = TOOL_REPLIES if tools else REPLIES
        self.send(replies[keep_alive], keep_alive)
        self.stats.last_reply = time.monotonic()

    def send(self, response: bytes, keep_alive: bool) -> None:
        self.transport.write(response)
        if not keep_alive:
            self.transport.close()


REPLIES = {True: completion_reply(keep_alive=True), False: completion_reply(keep_alive=False)}
TOOL_REPLIES = {True: tool_call_reply(keep_alive=True), False: tool_call_reply(keep_alive=False)}


def serve(delay_ms: float) -> None:
    stats = UpstreamStats()
    serve_forever(lambda: ChatCompletionsProtocol(stats, delay_ms / 1000))


def serve_forever(protocol_factory) -> None:
    """Listen on a free loopback port, print it on stdout, serve `protocol_factory`'s protocol until SIGTERM."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(protocol_factory, "127.0.0.1", 0, backlog=1024)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        print(server.sockets[0].getsockname()[1], flush=True)
        await stop.wait()
        server.close()

    asyncio.run(main())


# ---- The runner's side of the upstream -------------------------------------------------------------------------


# urllib would honour *_proxy variables; the stats side channel must go straight to 127.0.0.1.
NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Upstream:
    """The server process, started with an interpreter that has httptools."""

    def __init__(self, python: Path, delay_ms: float, script: Path | None = None,
                 script_args: tuple[str, ...] = ()) -> None:
        """`script`: another server in this form (it prints its port, serves until SIGTERM), started with `--serve`
        and `script_args`; default this one."""
        command = [str(python), str(script or Path(__file__).resolve())]
        command += ["--serve", *script_args] if script else ["--delay-ms", str(delay_ms)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        port = self.process.stdout.readline().strip()
        if not port.isdigit():
            self.process.kill()
            raise SystemExit(f"the upstream server did not start with {python} (it needs httptools)")
        self.port = int(port)
        self.delay_ms = delay_ms

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def get(self, path: str) -> dict:
        with NO_PROXY_OPENER.open(f"http://127.0.0.1:{self.port}{path}", timeout=10) as response:
            return json.load(response)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def __enter__(self) -> Upstream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=50.0)
    serve(parser.parse_args().delay_ms)
