"""A closed-loop HTTP load generator on raw asyncio + httptools, for benchmarks/gateway_overhead.py.

Each of the --concurrency slots owns one keep-alive connection and sends one POST after another on it, so the
concurrency is exact and no connection set-up lands in the measured phase. It costs ~20-40 µs of CPU per request
(aiohttp's client costs ~250 µs, which would cap a gateway measurement at 3-5k req/s on a 2-core machine), and it
runs in its own process so the benchmark's parent never competes with it for the interpreter lock. It reports its
own CPU per request, so a reader can see how much of the machine it took.

    python benchmarks/load_generator.py --port 8000 --path /v1/chat/completions --body '{...}' \\
        --concurrency 64 --requests 20000 --warmup 2000 [--header 'Authorization: Bearer ...'] [--expect Paris]

Prints one JSON object on stdout: requests, errors, elapsed_s, requests_per_s, p50_ms, p99_ms, cpu_us_per_request,
connections and the first error seen. Loopback only; every loop is bounded by the request count, every request by
--request-timeout, and the whole run by --deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time

import httptools


class ResponseError(Exception):
    """A request that did not come back as a 200 with the expected text (or did not come back at all)."""


class KeepAliveConnection(asyncio.Protocol):
    """One HTTP/1.1 connection that carries one request at a time; the parser survives across responses."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.response: asyncio.Future | None = None
        self.body_parts: list[bytes] = []
        self.sent_at = 0.0  # the watchdog reads it to find requests that are stuck

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self.fail(f"unparseable response: {error}")

    def on_body(self, body: bytes) -> None:
        self.body_parts.append(body)

    def on_message_complete(self) -> None:
        if self.response and not self.response.done():
            body = b"".join(self.body_parts)
            self.response.set_result((self.parser.get_status_code(), body, self.parser.should_keep_alive()))

    def connection_lost(self, exc) -> None:
        self.fail(f"connection lost: {exc or 'closed by the server'}")

    def fail(self, reason: str) -> None:
        if self.response and not self.response.done():
            self.response.set_exception(ResponseError(reason))
        if self.transport:
            self.transport.abort()

    @property
    def usable(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    async def exchange(self, request: bytes) -> tuple[int, bytes, bool]:
        self.body_parts = []
        self.response = asyncio.get_running_loop().create_future()
        self.sent_at = time.perf_counter()
        self.transport.write(request)
        return await self.response


def build_request(port: int, path: str, body: str, headers: list[str]) -> bytes:
    """The request is the same every time, so it is encoded once: the loop's per-request work is I/O only."""
    payload = body.encode()
    head = [f"POST {path} HTTP/1.1", f"host: 127.0.0.1:{port}", "content-type: application/json",
            f"content-length: {len(payload)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


class LoadRun:
    """Slots share one countdown of requests; each records its latencies and errors."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.request = build_request(args.port, args.path, args.body, args.header)
        self.expected = args.expect.encode() if args.expect else b""
        self.connections: list[KeepAliveConnection | None] = [None] * args.concurrency
        self.connections_opened = 0
        self.remaining = 0
        self.latencies: list[float] = []
        self.errors = 0
        self.first_error = ""

    async def connect(self, slot: int) -> KeepAliveConnection:
        loop = asyncio.get_running_loop()
        _, connection = await asyncio.wait_for(
            loop.create_connection(KeepAliveConnection, "127.0.0.1", self.args.port), self.args.request_timeout)
        self.connections[slot] = connection
        self.connections_opened += 1
        return connection

    async def one_request(self, slot: int) -> float:
        connection = self.connections[slot]
        if connection is None or not connection.usable:
            connection = await self.connect(slot)
        started = time.perf_counter()
        status, body, keep_alive = await connection.exchange(self.request)
        latency = time.perf_counter() - started
        if not keep_alive:
            connection.transport.close()  # the next request of this slot opens a fresh connection
        if status != 200 or self.expected not in body:
            raise ResponseError(f"HTTP {status}: {body[:300].decode(errors='replace')}")
        return latency

    async def slot_loop(self, slot: int, record: bool) -> None:
        # --rate paces the slots (each sends every concurrency/rate seconds), so latency can be read below
        # saturation, where a closed loop would only measure queueing.
        interval = self.args.concurrency / self.args.rate if self.args.rate else 0.0
        next_send = time.perf_counter() + slot * interval / self.args.concurrency
        while self.remaining > 0:
            self.remaining -= 1
            if interval:
                await asyncio.sleep(max(0.0, next_send - time.perf_counter()))
                next_send += interval
            try:
                latency = await self.one_request(slot)
            except (ResponseError, OSError) as error:  # OSError covers TimeoutError (connect) too
                self.record_error(slot, error)
                continue
            if record:
                self.latencies.append(latency)

    def record_error(self, slot: int, error: Exception) -> None:
        self.errors += 1
        self.first_error = self.first_error or f"{type(error).__name__}: {error}"
        connection = self.connections[slot]
        if connection and connection.transport:
            connection.transport.abort()  # a connection in an unknown state is never reused
        self.connections[slot] = None

    async def watchdog(self) -> None:
        """Fails requests that outlive --request-timeout; cheaper than a timer per request."""
        while True:
            await asyncio.sleep(min(0.5, self.args.request_timeout / 4))
            now = time.perf_counter()
            for connection in self.connections:
                pending = connection and connection.response and not connection.response.done()
                if pending and now - connection.sent_at > self.args.request_timeout:
                    connection.fail(f"no response within {self.args.request_timeout:g} s")

    async def phase(self, requests: int, record: bool) -> None:
        self.remaining = requests
        await asyncio.gather(*(self.slot_loop(slot, record) for slot in range(self.args.concurrency)))


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def summary(run: LoadRun, elapsed_s: float, cpu_s: float, requests: int) -> dict:
    latencies = sorted(run.latencies)
    return {
        "requests": requests, "ok": len(latencies), "errors": run.errors, "elapsed_s": elapsed_s,
        "requests_per_s": len(latencies) / elapsed_s if elapsed_s else 0.0,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * percentile(latencies, 0.99), "cpu_us_per_request": 1e6 * cpu_s / max(requests, 1),
        "connections": run.connections_opened, "first_error": run.first_error,
    }


async def measure(args: argparse.Namespace) -> dict:
    run = LoadRun(args)
    watchdog = asyncio.create_task(run.watchdog())
    try:
        await run.phase(args.warmup, record=False)  # fills the connections and the servers' caches
        run.errors, run.first_error, run.connections_opened = 0, "", 0
        cpu_before, started = time.process_time(), time.perf_counter()
        await run.phase(args.requests, record=True)
        return summary(run, time.perf_counter() - started, time.process_time() - cpu_before, args.requests)
    finally:
        watchdog.cancel()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/v1/chat/completions")
    parser.add_argument("--body", required=True, help="the JSON request body, sent as is")
    parser.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--expect", default="", help="text every 200 response must contain")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rate", type=float, default=0.0, help="total requests per second (0: as fast as it can)")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--request-timeout", type=float, default=30.0)
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds for the whole run")
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    try:
        result = asyncio.run(asyncio.wait_for(measure(args), args.deadline))
    except TimeoutError:
        print(json.dumps({"error": f"the load run passed its {args.deadline:g} s deadline"}))
        sys.exit(1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
