"""Streaming time to first token: what GenSandbox's gateway adds to the moment an app sees the first token,
against the same upstream reached directly, paced far below saturation.

The upstream (this script with --serve, raw asyncio and httptools, so it costs little CPU) streams an
OpenAI-compatible answer: its first content chunk at once, the rest GAP_MS later. The client sends one streamed
request at a time, paced to RATE per second, and times each request from sending it to the first chunk that
carries content. Direct and gateway requests alternate in rounds, so a drift of the machine falls on both.

    python3 benchmarks/stream_ttft.py [--requests 600] [--rate 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from fixed_upstream import Upstream, serve_forever
from gateway_overhead import gensandbox_target
from machine_load import describe_other_work, measure_idle

MODEL, GAP_MS, MAX_ADDED_TTFT_MS = "bench", 20, 1.0
FIRST = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": MODEL,
         "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Paris"}, "finish_reason": None}]}
LAST = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": MODEL,
        "choices": [{"index": 0, "delta": {"content": " it is."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 16, "completion_tokens": 3, "total_tokens": 19}}


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _event(payload: dict | str) -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return _chunk(f"data: {text}\n\n".encode())


HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n"
        b"connection: keep-alive\r\n\r\n")
FIRST_PART = HEAD + _event(FIRST)
LAST_PART = _event(LAST) + _event("[DONE]") + b"0\r\n\r\n"
HEALTHY = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n{}"


class StreamingProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive; every POST gets the same two-part stream, every GET a health answer."""

    def __init__(self) -> None:
        import httptools  # the server process needs it, the client does not

        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        if self.parser.get_method() != b"POST":
            self.transport.write(HEALTHY)
            return
        self.transport.write(FIRST_PART)
        asyncio.get_running_loop().call_later(GAP_MS / 1000, self._finish)

    def _finish(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(LAST_PART)


def first_token_ms(client: httpx.Client, url: str, headers: dict) -> float:
    """Milliseconds from sending one streamed request to the first chunk with content; the stream is read to
    its end (the next request must not overlap it)."""
    body = {"model": MODEL, "stream": True, "max_tokens": 16,
            "messages": [{"role": "user", "content": "What is the capital of France?"}]}
    started, first = time.perf_counter(), None
    with client.stream("POST", url, json=body, headers=headers) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if first is None and line.startswith("data: {"):
                choices = json.loads(line[6:])["choices"]
                if choices and choices[0]["delta"].get("content"):
                    first = time.perf_counter()
    if first is None:
        raise SystemExit(f"{url}: no content in the stream")
    return (first - started) * 1000


def measure(targets: dict[str, tuple[str, dict]], requests: int, rate: float, rounds: int) -> dict[str, list]:
    times: dict[str, list[float]] = {name: [] for name in targets}
    per_round = requests // rounds
    with httpx.Client(timeout=30, trust_env=False) as client:
        for url, headers in targets.values():  # warm up: connections, the gateway's first model call
            for _ in range(20):
                first_token_ms(client, url, headers)
        for _ in range(rounds):
            for name, (url, headers) in targets.items():
                next_at = time.perf_counter()
                for _ in range(per_round):
                    times[name].append(first_token_ms(client, url, headers))
                    next_at += 1 / rate
                    time.sleep(max(0.0, next_at - time.perf_counter()))
    return times


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    return (f"p50 {statistics.median(ordered):6.2f} ms  p90 {ordered[int(len(ordered) * 0.9)]:6.2f} ms  "
            f"p99 {ordered[int(len(ordered) * 0.99)]:6.2f} ms  (n={len(ordered)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=600, help="per target")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second, one at a time")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.serve:
        serve_forever(StreamingProtocol)
        return
    print(f"machine: before the start, {describe_other_work(measure_idle())}")
    upstream = Upstream(Path(sys.executable), GAP_MS, script=Path(__file__).resolve())
    with upstream, tempfile.TemporaryDirectory() as folder, gensandbox_target(upstream, Path(folder)) as gateway:
        targets = {"direct": (f"{upstream.base_url}/chat/completions", {}),
                   "GenSandbox": (f"http://127.0.0.1:{gateway.port}/v1/chat/completions",
                                  dict(header.split(": ", 1) for header in gateway.headers))}
        times = measure(targets, args.requests, args.rate, args.rounds)
    print(f"streamed answers, one at a time, paced to {args.rate:g}/s; upstream: first chunk at once, the rest "
          f"{GAP_MS} ms later; time to the first content chunk:")
    for name, values in times.items():
        print(f"  {name:<11} {summary(values)}")
    added = statistics.median(times["GenSandbox"]) - statistics.median(times["direct"])
    verdict = "ok" if added <= MAX_ADDED_TTFT_MS else "MISSED"
    print(f"GenSandbox adds {added:+.2f} ms to the median time to first token (target <= {MAX_ADDED_TTFT_MS:g} ms: "
          f"{verdict})")


if __name__ == "__main__":
    main()
