"""Gateway overhead: requests/s and latency through GenSandbox's gateway and the LiteLLM proxy, against the
same upstream reached directly.

The upstream (benchmarks/fixed_upstream.py, delay 0) answers every chat completion at once with the same short
answer, so what each target adds on top of "direct" is the gateway's own cost. The load comes from
benchmarks/load_generator.py, a closed loop on raw asyncio + httptools in its own process: one keep-alive
connection per concurrent slot, a fixed number of requests after a short warm-up, every response checked for status
200 and the answer text. It runs at concurrency 64 (throughput, p50, p99) and again at concurrency 16 (p50 under a
lighter load; in a closed loop p50 is about concurrency / throughput, so a gateway still saturated at 16 shows it).
Everything shares this machine's 2 cores, as it would in a single-host deployment.

    python benchmarks/gateway_overhead.py [--only direct|passthrough|gensandbox|litellm] [--skip-litellm]
                                          [--workload chat|tools]
                                          [--requests 20000] [--litellm-requests 4000]

Targets: GenSandbox >= 2,000 req/s, >= 20x LiteLLM, and <= 1 ms added median latency at concurrency 16.
"passthrough" is the floor: benchmarks/passthrough_app.py, a bare forwarder on the same uvicorn + aiohttp stack,
so the run separates what the server stack costs from what GenSandbox's own work costs.
LiteLLM (pinned in benchmarks/peers/litellm-requirements.txt) lives in benchmarks/.venv-litellm, created here when
missing. Loopback only: every server listens on 127.0.0.1, every load run is bounded in requests and time, and every
server this script starts is stopped when its target is done, whether it passed or failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fixed_upstream import ANSWER, MODEL, NO_PROXY_OPENER, Upstream
from litellm_peer import LITELLM_MASTER_KEY, ensure_litellm_venv, litellm_command, litellm_env
from machine_load import NOISY_CORES, OtherWorkMeter, describe_other_work, measure_idle, process_group_cpu_s
from peers_env import HERE, PROJECT, ensure_peers_venv, server_python, tail
from runner_overhead import offline_env

GENSANDBOX = PROJECT / ".venv" / "bin" / "gensandbox"
LOAD_GENERATOR = HERE / "load_generator.py"
REQUEST_BODY = json.dumps({"model": MODEL, "max_tokens": 16, "messages": [
    {"role": "user", "content": "What is the capital of France? Answer with one word."}]})
# The tool-calling workload: a request with tools, a tool_choice and an earlier tool round (an assistant's call and
# its result) in the conversation; the upstream (under /tools/v1) answers with a tool call, whose arguments carry
# the expected answer. It exercises the whole request model on both ways.
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
TOOLS_BODY = json.dumps({"model": MODEL, "max_tokens": 16, "tools": [WEATHER_TOOL], "tool_choice": "auto",
                         "parallel_tool_calls": True, "messages": [
    {"role": "user", "content": "Is it raining in Lyon?"},
    {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {
        "name": "get_weather", "arguments": "{\"city\": \"Lyon\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "Lyon: light rain, 14 °C"},
    {"role": "user", "content": "And in the capital of France?"}]})
WORKLOADS = {"chat": (REQUEST_BODY, ""), "tools": (TOOLS_BODY, "/tools")}  # body, the upstream's path prefix
WORKLOAD = "chat"  # --workload

TARGETS = ("direct", "passthrough", "gensandbox", "litellm")
LABELS = {"direct": "direct", "passthrough": "floor", "gensandbox": "GenSandbox",
          "litellm": "LiteLLM"}
HIGH_CONCURRENCY, LOW_CONCURRENCY = 64, 16
PACED_RATE = 1_000  # req/s: a steady load far below every target's capacity but LiteLLM's
MIN_GENSANDBOX_REQUESTS_PER_S, MIN_RATIO_TO_LITELLM, MAX_ADDED_P50_MS = 2000, 20, 1.0
# LiteLLM takes ~10 s to start here; the rest is slack for a busy machine.
START_TIMEOUT_S = {"passthrough": 30, "gensandbox": 60, "litellm": 180}
LOAD_DEADLINE_S = 240
GENSANDBOX_WORKERS = 1  # --gensandbox-workers


class TargetFailed(Exception):
    """A target that could not be started or measured; the run reports it and goes on to the next one."""


@dataclass
class Endpoint:
    port: int
    headers: list[str] = field(default_factory=list)
    startup_s: float = 0.0  # from starting the server to its first healthy answer
    server_pgid: int | None = None  # the gateway's process group, to read its CPU time; None for direct
    path: str = "/v1/chat/completions"


@dataclass
class TargetResult:
    target: str
    high: dict = field(default_factory=dict)  # the load generator's summary at HIGH_CONCURRENCY
    low: dict = field(default_factory=dict)  # ... and at LOW_CONCURRENCY
    paced: dict = field(default_factory=dict)  # ... at LOW_CONCURRENCY paced to PACED_RATE (below saturation)
    # What the upstream saw during the HIGH_CONCURRENCY run; its connection count includes the GET /stats itself.
    upstream: dict = field(default_factory=dict)
    sent_upstream: int = 0
    startup_s: float = 0.0
    server_cpu_us_per_request: float | None = None  # the gateway's (all its processes') during the HIGH run
    other_cores: float = 0.0  # CPU that processes outside the benchmark took meanwhile
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


# ---- The load generator, one process per run ------------------------------------------------------------------


def run_load(endpoint: Endpoint, concurrency: int, requests: int, warmup: int, rate: float = 0.0) -> dict:
    command = [str(server_python()), str(LOAD_GENERATOR), "--port", str(endpoint.port), "--path", endpoint.path,
               "--body", WORKLOADS[WORKLOAD][0],
               "--expect", ANSWER, "--concurrency", str(concurrency), "--requests", str(requests),
               "--warmup", str(warmup), "--deadline", str(LOAD_DEADLINE_S), "--rate", str(rate)]
    for header in endpoint.headers:
        command += ["--header", header]
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=offline_env(),
                                timeout=LOAD_DEADLINE_S + 30)
    except subprocess.TimeoutExpired:
        raise TargetFailed(f"the load generator ran past {LOAD_DEADLINE_S + 30} s") from None
    if result.returncode != 0:
        raise TargetFailed(f"the load generator failed (exit code {result.returncode}):\n"
                           f"{tail(result.stdout + result.stderr)}")
    return json.loads(result.stdout.splitlines()[-1])


def warmup_for(requests: int) -> int:
    return max(100, requests // 20)


# ---- Servers this script starts ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_status(port: int, path: str) -> int | None:
    try:
        with NO_PROXY_OPENER.open(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_until_healthy(process: subprocess.Popen, port: int, path: str, timeout_s: float) -> float:
    """Seconds until GET path answered 200."""
    started = time.monotonic()
    while time.monotonic() < started + timeout_s:
        if process.poll() is not None:
            raise TargetFailed(f"it exited with code {process.returncode} before GET {path} answered")
        if http_status(port, path) == 200:
            return time.monotonic() - started
        time.sleep(0.2)
    raise TargetFailed(f"GET {path} did not answer 200 within {timeout_s} s")


def stop_server(process: subprocess.Popen) -> None:
    """The whole process group: LiteLLM's granian workers would otherwise keep the cores busy for the next target."""
    for stop_signal, grace_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, stop_signal)
        try:
            process.wait(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def running_server(command: list[str], env: dict, workdir: Path, port: int, health_path: str,
                   timeout_s: float) -> Iterator[tuple[int, float]]:
    """Yields the server's process group id and its start-up time."""
    log_path = workdir / "server.log"
    with open(log_path, "w") as log:
        try:
            process = subprocess.Popen(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as error:
            raise TargetFailed(f"could not start {command[0]}: {error}") from None
    try:
        yield process.pid, wait_until_healthy(process, port, health_path, timeout_s)
    except TargetFailed as failure:  # the server's own words are what the reader needs to fix it
        raise TargetFailed(f"{failure}\n  server output tail:\n{tail(log_path.read_text(errors='replace'))}") from None
    finally:
        stop_server(process)


# ---- The three targets ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def direct_target(upstream: Upstream, workdir: Path) -> Iterator[Endpoint]:
    yield Endpoint(upstream.port, path=f"{WORKLOADS[WORKLOAD][1]}/v1/chat/completions")


def upstream_url(upstream: Upstream) -> str:
    """The upstream's base URL for this run's workload."""
    return f"http://127.0.0.1:{upstream.port}{WORKLOADS[WORKLOAD][1]}/v1"


def gensandbox_config(upstream_base_url: str) -> str:
    # concurrency 256 > 64 so that the gateway's per-model limit never queues the benchmark's requests.
    return f"""[[models]]
name = "{MODEL}"
provider = "openai"
base_url = "{upstream_base_url}"
model = "{MODEL}"
concurrency = 256
price_per_million_input_tokens = 0.1
price_per_million_output_tokens = 0.2
"""


def create_api_key(env: dict, workdir: Path) -> str:
    """`gensandbox keys create` prints the new key once on stdout: the token that starts with gsk_."""
    command = [str(GENSANDBOX), "keys", "create", "--role", "developer", "--budget-usd", "1000"]
    try:
        result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise TargetFailed(f"`gensandbox keys create` did not run: {error}") from None
    key = re.search(r"\bgsk_\S+", result.stdout)
    if result.returncode != 0 or not key:
        raise TargetFailed(f"`gensandbox keys create` exited with code {result.returncode} and printed no gsk_ key:"
                           f"\n{tail(result.stdout + result.stderr)}")
    return key.group(0)


@contextlib.contextmanager
def gensandbox_target(upstream: Upstream, workdir: Path) -> Iterator[Endpoint]:
    config = workdir / "gensandbox.toml"
    config.write_text(gensandbox_config(upstream_url(upstream)))
    env = offline_env(GENSANDBOX_HOME=str(workdir / "home"))  # a fresh key store, ledger and budget every run
    key = create_api_key(env, workdir)
    port = free_port()
    command = [str(GENSANDBOX), "serve", "-c", str(config), "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(GENSANDBOX_WORKERS)]
    with running_server(command, env, workdir, port, "/healthz", START_TIMEOUT_S["gensandbox"]) as (pgid, startup_s):
        yield Endpoint(port, [f"authorization: Bearer {key}"], startup_s, pgid)


@contextlib.contextmanager
def litellm_target(upstream: Upstream, workdir: Path) -> Iterator[Endpoint]:
    problem = ensure_litellm_venv()
    if problem:
        raise TargetFailed(problem)
    port = free_port()
    env = offline_env(**litellm_env(upstream_url(upstream)))
    command, health = litellm_command(port), "/health/liveliness"
    with running_server(command, env, workdir, port, health, START_TIMEOUT_S["litellm"]) as (pgid, startup_s):
        yield Endpoint(port, [f"authorization: Bearer {LITELLM_MASTER_KEY}"], startup_s, pgid)


@contextlib.contextmanager
def passthrough_target(upstream: Upstream, workdir: Path) -> Iterator[Endpoint]:
    """The bare forwarder in passthrough_app.py on GenSandbox's own server stack: the floor under its latency."""
    port = free_port()
    env = offline_env(UPSTREAM_URL=f"{upstream_url(upstream)}/chat/completions", PYTHONPATH=str(HERE))
    command = [str(PROJECT / ".venv" / "bin" / "python"), "-m", "uvicorn", "passthrough_app:app", "--port", str(port),
               "--loop", "uvloop", "--http", "httptools", "--log-level", "warning", "--no-access-log"]
    with running_server(command, env, workdir, port, "/healthz", START_TIMEOUT_S["passthrough"]) as (pgid, startup_s):
        yield Endpoint(port, [], startup_s, pgid)


TARGET_STARTERS: dict[str, Callable[[Upstream, Path], contextlib.AbstractContextManager[Endpoint]]] = {
    "direct": direct_target, "passthrough": passthrough_target, "gensandbox": gensandbox_target,
    "litellm": litellm_target}


def measure_target(target: str, requests: int, upstream: Upstream) -> TargetResult:
    result = TargetResult(target)
    with tempfile.TemporaryDirectory(prefix=f"gateway-bench-{target}-") as workdir:
        try:
            with TARGET_STARTERS[target](upstream, Path(workdir)) as endpoint:
                result.startup_s = endpoint.startup_s
                measure_endpoint(endpoint, requests, upstream, result)
            check_some_succeeded(result)
        except TargetFailed as failure:
            result.error = str(failure)
    return result


def measure_endpoint(endpoint: Endpoint, requests: int, upstream: Upstream, result: TargetResult) -> None:
    warmup = warmup_for(requests)
    upstream.get("/stats/reset")
    server_cpu_before = server_cpu_s(endpoint)
    result.high = run_load(endpoint, HIGH_CONCURRENCY, requests, warmup)
    if endpoint.server_pgid:
        result.server_cpu_us_per_request = 1e6 * (server_cpu_s(endpoint) - server_cpu_before) / (requests + warmup)
    result.upstream, result.sent_upstream = upstream.get("/stats"), requests + warmup
    result.low = run_load(endpoint, LOW_CONCURRENCY, max(100, requests // 4), warmup // 4)
    if result.target != "litellm":
        result.paced = run_load(endpoint, LOW_CONCURRENCY, max(100, requests // 8), warmup // 8, PACED_RATE)


def server_cpu_s(endpoint: Endpoint) -> float:
    return process_group_cpu_s(endpoint.server_pgid) if endpoint.server_pgid else 0.0


def check_some_succeeded(result: TargetResult) -> None:
    """A target that answered nothing has no throughput or latency to compare, only an error to show."""
    for run in (result.high, result.low):
        if run["ok"] == 0:
            raise TargetFailed(f"all {run['requests']} requests failed; the first: {run['first_error']}")


# ---- Reporting --------------------------------------------------------------------------------------------------


def print_load_generator_cost(upstream: Upstream) -> None:
    """The load generator shares the 2 cores with the servers: its cost per request bounds what can be measured."""
    sample = run_load(Endpoint(upstream.port), HIGH_CONCURRENCY, 10_000, 500)
    cpu_us = sample["cpu_us_per_request"]
    print(f"load generator: {cpu_us:.0f} µs CPU per request (measured once, 10,000 requests at concurrency "
          f"{HIGH_CONCURRENCY} straight to the upstream, {sample['requests_per_s']:,.0f} req/s); on its own it "
          f"could drive ~{1e6 / cpu_us:,.0f} req/s on one core", flush=True)


def describe(result: TargetResult) -> str:
    label = f"{LABELS[result.target]:<11}"
    if not result.ok:
        return f"{label}FAILED: {result.error}"
    high, low = result.high, result.low
    errors = high["errors"] + low["errors"]
    line = (f"{label}{high['requests_per_s']:>8,.0f} req/s  p50 {high['p50_ms']:7.2f} ms  p99 {high['p99_ms']:7.2f} ms"
            f"  | c{LOW_CONCURRENCY}: p50 {low['p50_ms']:6.2f} ms, {low['requests_per_s']:,.0f} req/s"
            f"  | errors {errors}")
    if errors:
        line += f"\n{'':<11}first error: {high['first_error'] or low['first_error']}"
    return line + f"\n{'':<11}{describe_costs(result)}"


def describe_costs(result: TargetResult) -> str:
    """Where the CPU went at concurrency 64: with 2 cores shared, the sum per request caps the throughput."""
    upstream = result.upstream
    costs = [f"load generator {result.high['cpu_us_per_request']:.0f}",
             f"upstream {1e6 * upstream['cpu_s'] / max(upstream['requests'], 1):.0f}"]
    if result.server_cpu_us_per_request is not None:
        costs.append(f"{LABELS[result.target]} {result.server_cpu_us_per_request:.0f}")
    text = f"CPU per request: {', '.join(costs)} µs; connections to the upstream: {upstream['connections'] - 1}"
    if upstream["requests"] != result.sent_upstream:  # retries (or lost requests) would skew the comparison
        text += f" (it saw {upstream['requests']} requests for {result.sent_upstream} sent)"
    return text


def verdict(passed: bool) -> str:
    return "ok" if passed else "MISSED"


def print_targets(results: dict[str, TargetResult]) -> None:
    ours, litellm, direct = results.get("gensandbox"), results.get("litellm"), results.get("direct")
    floor = results.get("passthrough")
    if any(result.other_cores > NOISY_CORES for result in results.values()):
        print("WARNING: other processes used the CPU during the run; re-run on an idle machine before trusting it")
    if ours and not ours.ok:
        print("GenSandbox targets: not checked (GenSandbox FAILED)")
    if not ours or not ours.ok:
        return
    rate = ours.high["requests_per_s"]
    print(f"GenSandbox throughput: {rate:,.0f} req/s at concurrency {HIGH_CONCURRENCY} "
          f"(target >= {MIN_GENSANDBOX_REQUESTS_PER_S:,}: {verdict(rate >= MIN_GENSANDBOX_REQUESTS_PER_S)})")
    if litellm and litellm.ok and litellm.high["requests_per_s"]:
        ratio = rate / litellm.high["requests_per_s"]
        print(f"GenSandbox/LiteLLM: {ratio:.1f}x req/s (target >= {MIN_RATIO_TO_LITELLM}x: "
              f"{verdict(ratio >= MIN_RATIO_TO_LITELLM)})")
    if direct and direct.ok:
        added_ms = ours.low["p50_ms"] - direct.low["p50_ms"]
        print(f"GenSandbox added median latency at concurrency {LOW_CONCURRENCY}: {added_ms:+.2f} ms over direct "
              f"(target <= {MAX_ADDED_P50_MS:g} ms: {verdict(added_ms <= MAX_ADDED_P50_MS)})")
        if floor and floor.ok:
            floor_ms = floor.low["p50_ms"] - direct.low["p50_ms"]
            print(f"  of which the server stack alone (bare uvicorn + aiohttp pass-through): {floor_ms:+.2f} ms; "
                  f"GenSandbox's own work: {ours.low['p50_ms'] - floor.low['p50_ms']:+.2f} ms")
        if ours.paced and direct.paced:
            paced_ms = ours.paced["p50_ms"] - direct.paced["p50_ms"]
            print(f"GenSandbox added median latency at concurrency {LOW_CONCURRENCY} paced to {PACED_RATE:,} req/s "
                  f"(not saturated): {paced_ms:+.2f} ms over direct (p50 {ours.paced['p50_ms']:.2f} ms, "
                  f"p99 {ours.paced['p99_ms']:.2f} ms)")


# ---- Main ---------------------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=TARGETS)
    parser.add_argument("--workload", choices=WORKLOADS, default="chat",
                        help="chat: one short question; tools: a request with tools and a tool round, answered "
                             "with a tool call")
    parser.add_argument("--skip-litellm", action="store_true")
    parser.add_argument("--gensandbox-workers", type=int, default=1,
                        help="worker processes for `gensandbox serve` (budgets and the ledger shared by the store)")
    parser.add_argument("--requests", type=int, default=20_000,
                        help=f"measured requests at concurrency {HIGH_CONCURRENCY} for direct and GenSandbox "
                             f"(a quarter of that at concurrency {LOW_CONCURRENCY})")
    parser.add_argument("--litellm-requests", type=int, default=4_000,
                        help="the same for LiteLLM, which does a few hundred req/s here: fewer keep the run short")
    return parser.parse_args()


def chosen_targets(args: argparse.Namespace) -> list[str]:
    if args.only:
        return [args.only]
    return [t for t in TARGETS if not (t == "litellm" and args.skip_litellm)]


def main() -> None:
    global GENSANDBOX_WORKERS, WORKLOAD
    args = parse_args()
    GENSANDBOX_WORKERS, WORKLOAD = args.gensandbox_workers, args.workload
    if not ensure_peers_venv(with_peers=False):  # the upstream and the load generator need httptools
        raise SystemExit("httptools could not be installed for the upstream and the load generator")
    results: dict[str, TargetResult] = {}
    with Upstream(server_python(), delay_ms=0) as upstream:
        idle_check = describe_other_work(measure_idle(1.0, upstream.process.pid))
        print(f"machine: {os.cpu_count()} cores; before the start, {idle_check}", flush=True)
        print(f"workload: {WORKLOAD}; upstream: fixed answer, no delay, {upstream_url(upstream)}; "
              f"concurrency {HIGH_CONCURRENCY} (req/s, p50, p99) and {LOW_CONCURRENCY} (p50)", flush=True)
        print_load_generator_cost(upstream)
        for target in chosen_targets(args):
            requests = args.litellm_requests if target == "litellm" else args.requests
            started, meter = time.monotonic(), OtherWorkMeter(upstream.process.pid)
            result = results[target] = measure_target(target, requests, upstream)
            result.other_cores = meter.other_cores()
            startup = f"started in {result.startup_s:.1f} s, " if result.startup_s else ""
            print(f"{describe(result)}\n{'':<11}{requests:,} requests, {startup}{time.monotonic() - started:.0f} s "
                  f"in all; {describe_other_work(result.other_cores)}", flush=True)
    print_targets(results)


if __name__ == "__main__":
    main()
