"""A shared sandbox under load: the gateway's requests/s alone, and again while 20 dashboard users poll two runs.

Everything runs on this machine, on 127.0.0.1, with one GENSANDBOX_HOME in a temporary folder:
- a scripted upstream (benchmarks/fixed_upstream.py) answering every chat completion after a fixed delay (20 ms);
- `gensandbox serve` in front of it, driven by benchmarks/load_generator.py with a developer key (budget on) at a
  fixed concurrency on model `bench`;
- `gensandbox ui` on the same home and config. Two evaluations are started through POST /api/runs with a tester key,
  each on its own model (`eval-a`, `eval-b`: the same upstream, `concurrency` limited so the runs last through
  the load), on basics-en and basics-ko for 20 epochs, with the response cache off so every item calls the upstream;
- 20 simulated dashboard users, each signed in with its own session (POST /api/signin with the one tester key, as a
  browser does), opening the live page and its scripts once, then GET /api/runs/{id}/progress once a second.

Phase A measures the gateway alone; phase B the same load with the runs and the pollers. The phases alternate,
`--rounds` times each, and the medians are compared, because this 2-core machine is noisy. The exit code is 1 when
B/A < 0.90 or anything failed: a gateway request, a poll, a run's own item, or a run that ended before the load did.

    .venv/bin/python benchmarks/shared_sandbox_load.py [--rounds 3] [--requests 15000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fixed_upstream import MODEL, Upstream
from gateway_overhead import (
    GENSANDBOX,
    PROJECT,
    Endpoint,
    TargetFailed,
    free_port,
    run_load,
    running_server,
    warmup_for,
)
from machine_load import OtherWorkMeter, describe_other_work, process_group_cpu_s
from peers_env import server_python, tail
from runner_overhead import offline_env

MIN_RATIO = 0.90
USERS = 20
POLL_EVERY_S = 1.0
RUN_MODELS = ("eval-a", "eval-b")
RUN_SUITES = ["basics-en", "basics-ko"]
RUN_EPOCHS = 20  # the most POST /api/runs accepts: 2 suites × 48 items × 20 = 1,920 items per run
ENDED = ("finished", "capped", "cancelled", "failed", "interrupted")
LIVE_ASSETS = ("/static/ui.js", "/static/workbench.js")
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def sandbox_config(upstream_base_url: str, run_concurrency: int) -> str:
    """`bench` serves the gateway's load (concurrency far above the load's, so the gateway never queues it); the
    runs' models share the upstream with a low concurrency, so 1,920 items last longer than a phase."""
    models = [("bench", 256)] + [(name, run_concurrency) for name in RUN_MODELS]
    blocks = [f"""[[models]]
name = "{name}"
provider = "openai"
base_url = "{upstream_base_url}"
model = "{MODEL}"
concurrency = {concurrency}
price_per_million_input_tokens = 0.1
price_per_million_output_tokens = 0.2
""" for name, concurrency in models]
    return "\n".join(blocks) + "\n[run]\ncache = false\n"


def create_key(env: dict, config: Path, role: str) -> str:
    command = [str(GENSANDBOX), "keys", "create", "-c", str(config), "--role", role, "--budget-usd", "1000"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    key = re.search(r"\bgsk_\S+", result.stdout)
    if result.returncode != 0 or not key:
        raise TargetFailed(f"`gensandbox keys create --role {role}` failed:\n{tail(result.stdout + result.stderr)}")
    return key.group(0)


@dataclass
class Sandbox:
    gateway: Endpoint
    ui_port: int
    ui_pgid: int
    tester_key: str


@contextlib.contextmanager
def running_sandbox(upstream: Upstream, workdir: Path, run_concurrency: int) -> Iterator[Sandbox]:
    config = workdir / "gensandbox.toml"
    config.write_text(sandbox_config(upstream.base_url, run_concurrency))
    # PYTHONPATH: the checkout's own code, whichever checkout the venv was installed from.
    env = offline_env(GENSANDBOX_HOME=str(workdir / "home"), PYTHONPATH=str(PROJECT / "src"))
    developer_key, tester_key = create_key(env, config, "developer"), create_key(env, config, "tester")
    gateway_port, ui_port = free_port(), free_port()
    serve = [str(GENSANDBOX), "serve", "-c", str(config), "--host", "127.0.0.1", "--port", str(gateway_port)]
    ui = [str(GENSANDBOX), "ui", "-c", str(config), "--host", "127.0.0.1", "--port", str(ui_port)]
    for name in ("gateway", "ui"):
        (workdir / name).mkdir()
    with running_server(serve, env, workdir / "gateway", gateway_port, "/healthz", 60) as (gateway_pgid, _), \
            running_server(ui, env, workdir / "ui", ui_port, "/openapi.json", 60) as (ui_pgid, _):
        gateway = Endpoint(gateway_port, [f"authorization: Bearer {developer_key}"], server_pgid=gateway_pgid)
        yield Sandbox(gateway, ui_port, ui_pgid, tester_key)


# ---- the dashboard's side: runs and the users watching them ---------------------------------------------------


def api(sandbox: Sandbox, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{sandbox.ui_port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"authorization": f"Bearer {sandbox.tester_key}",
                                              "content-type": "application/json"})
    try:
        with NO_PROXY.open(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise TargetFailed(f"{method} {path} answered {error.code}: {error.read()[:300]!r}") from None


def start_runs(sandbox: Sandbox) -> list[str]:
    return [api(sandbox, "POST", "/api/runs", {"models": [model], "suites": RUN_SUITES, "epochs": RUN_EPOCHS})["run_id"]
            for model in RUN_MODELS]


def wait_for(check, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TargetFailed(f"{what} did not happen within {timeout_s:g} s")
        time.sleep(0.2)


@dataclass
class Pollers:
    """USERS simulated dashboard users on one event loop in a thread of this process."""

    sandbox: Sandbox
    run_ids: list[str]
    polls: int = 0
    errors: int = 0
    first_error: str = ""
    signed_in: int = 0
    latencies_s: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._all()), daemon=True)

    def failed(self, what: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or what

    async def _all(self) -> None:
        await asyncio.gather(*(self._user(number) for number in range(USERS)))

    async def _user(self, number: int) -> None:
        import aiohttp

        run_id = self.run_ids[number % len(self.run_ids)]
        base = f"http://127.0.0.1:{self.sandbox.ui_port}"
        await asyncio.sleep(number * POLL_EVERY_S / USERS)  # users arrive spread over a second, as people do
        # unsafe: keep the session cookie that 127.0.0.1 sets (aiohttp drops cookies from IP addresses by default)
        async with aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            try:
                async with session.post("/api/signin", json={"key": self.sandbox.tester_key}) as response:
                    if response.status != 200:
                        return self.failed(f"sign-in answered {response.status}")
                self.signed_in += 1
                for path in (f"/runs/{run_id}/live", *LIVE_ASSETS):
                    async with session.get(path) as response:
                        await response.read()
                        if response.status != 200:
                            self.failed(f"GET {path} answered {response.status}")
                while not self.stop.is_set():
                    await self._poll(session, run_id)
                    await asyncio.sleep(POLL_EVERY_S)
            except aiohttp.ClientError as error:
                self.failed(f"user {number}: {error!r}")

    async def _poll(self, session, run_id: str) -> None:
        started = time.perf_counter()
        async with session.get(f"/api/runs/{run_id}/progress") as response:
            progress = await response.json(content_type=None)
        self.latencies_s.append(time.perf_counter() - started)
        self.polls += 1
        if response.status != 200 or progress.get("status") == "failed":
            self.failed(f"progress answered {response.status}: {str(progress)[:200]}")


# ---- one round of each phase -----------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    load: dict
    gateway_cpu_us: float
    ui_cores: float
    other_cores: float
    polls: int = 0
    poll_errors: int = 0
    poll_p50_ms: float = float("nan")
    poll_p99_ms: float = float("nan")
    run_items: int = 0
    run_errors: int = 0
    problems: list[str] = field(default_factory=list)


def measure_load(sandbox: Sandbox, upstream: Upstream, concurrency: int, requests: int) -> PhaseResult:
    meter = OtherWorkMeter(upstream.process.pid)
    gateway_cpu, ui_cpu, started = (process_group_cpu_s(sandbox.gateway.server_pgid),
                                    process_group_cpu_s(sandbox.ui_pgid), time.monotonic())
    load = run_load(sandbox.gateway, concurrency, requests, warmup_for(requests))
    wall_s = time.monotonic() - started
    gateway_cpu_us = 1e6 * (process_group_cpu_s(sandbox.gateway.server_pgid) - gateway_cpu) / requests
    ui_cores = (process_group_cpu_s(sandbox.ui_pgid) - ui_cpu) / wall_s
    # The servers are this benchmark's own work, not "other work on the machine".
    other = max(0.0, meter.other_cores() - (gateway_cpu_us * requests / 1e6) / wall_s - ui_cores)
    result = PhaseResult(load, gateway_cpu_us, ui_cores, other)
    if load["errors"]:
        result.problems.append(f"gateway: {load['errors']} errors, first: {load['first_error']}")
    return result


def phase_a(sandbox: Sandbox, upstream: Upstream, concurrency: int, requests: int) -> PhaseResult:
    return measure_load(sandbox, upstream, concurrency, requests)


def phase_b(sandbox: Sandbox, upstream: Upstream, concurrency: int, requests: int) -> PhaseResult:
    run_ids = start_runs(sandbox)
    pollers = Pollers(sandbox, run_ids)
    pollers.thread.start()
    try:
        wait_for(lambda: all(api(sandbox, "GET", f"/api/runs/{run}/progress")["done"] > 0 for run in run_ids),
                 "both runs calling their models")
        wait_for(lambda: pollers.signed_in + pollers.errors >= USERS, f"{USERS} users signed in")
        result = measure_load(sandbox, upstream, concurrency, requests)
        for run in run_ids:
            progress = api(sandbox, "GET", f"/api/runs/{run}/progress")
            if progress["status"] != "running":
                result.problems.append(f"run {run} was {progress['status']} before the load ended: raise --epochs "
                                       "or lower --run-concurrency so the runs last through it")
    finally:
        pollers.stop.set()
        pollers.thread.join(timeout=10)
        ends = [api(sandbox, "POST", f"/api/runs/{run}/cancel") for run in run_ids]
    wait_for(lambda: all(api(sandbox, "GET", f"/api/runs/{run}/progress")["status"] in ENDED for run in run_ids),
             "the runs ending after their cancel")
    for run in run_ids:
        progress = api(sandbox, "GET", f"/api/runs/{run}/progress")
        result.run_items += progress["done"]
        result.run_errors += progress["errors"]
        if progress["status"] not in ("cancelled", "finished"):
            result.problems.append(f"run {run} ended {progress['status']}: {progress['message']}")
    del ends
    latencies = sorted(pollers.latencies_s)
    result.polls, result.poll_errors = pollers.polls, pollers.errors
    if latencies:
        result.poll_p50_ms = 1000 * statistics.median(latencies)
        result.poll_p99_ms = 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    if pollers.errors:
        result.problems.append(f"pollers: {pollers.errors} errors, first: {pollers.first_error}")
    if result.run_errors:
        result.problems.append(f"runs: {result.run_errors} items failed")
    return result


# ---- report ------------------------------------------------------------------------------------------------------


def describe(label: str, result: PhaseResult) -> str:
    load = result.load
    line = (f"{label}  {load['requests_per_s']:8,.0f} req/s  p50 {load['p50_ms']:6.2f} ms  p99 {load['p99_ms']:6.2f} ms"
            f"  errors {load['errors']}  | gateway CPU {result.gateway_cpu_us:4.0f} µs/req, ui {result.ui_cores:.2f}"
            f" cores | {describe_other_work(result.other_cores)}")
    if label.startswith("B"):
        line += (f"\n            pollers: {result.polls} polls, p50 {result.poll_p50_ms:.1f} ms, p99 "
                 f"{result.poll_p99_ms:.1f} ms, errors {result.poll_errors} | runs: {result.run_items} items, "
                 f"errors {result.run_errors}")
    return line


def median_of(results: list[PhaseResult], key: str) -> float:
    return statistics.median(result.load[key] for result in results)


def summarize(a: list[PhaseResult], b: list[PhaseResult]) -> bool:
    ratio = median_of(b, "requests_per_s") / median_of(a, "requests_per_s")
    print(f"\nmedian of {len(a)} rounds        {'A: gateway alone':>20} {'B: + runs + 20 users':>22}")
    for key, label, unit in (("requests_per_s", "gateway requests/s", ""), ("p50_ms", "gateway p50", " ms"),
                             ("p99_ms", "gateway p99", " ms")):
        print(f"{label:27}{median_of(a, key):>17,.2f}{unit:3}{median_of(b, key):>19,.2f}{unit}")
    print(f"{'gateway errors':27}{sum(r.load['errors'] for r in a):>17}   {sum(r.load['errors'] for r in b):>19}")
    print(f"{'poll errors / polls':27}{'–':>17}   {sum(r.poll_errors for r in b):>12} / {sum(r.polls for r in b)}")
    print(f"{'run item errors / items':27}{'–':>17}   {sum(r.run_errors for r in b):>12} / "
          f"{sum(r.run_items for r in b)}")
    print(f"{'ui process CPU (cores)':27}{statistics.median(r.ui_cores for r in a):>17.2f}   "
          f"{statistics.median(r.ui_cores for r in b):>19.2f}")
    problems = [problem for result in a + b for problem in result.problems]
    # Each B round follows its A round within seconds, so their ratio is less exposed to the machine's drift.
    pairs = [b_round.load["requests_per_s"] / a_round.load["requests_per_s"]
             for a_round, b_round in zip(a, b, strict=True)]
    print("B/A round by round: " + ", ".join(f"{pair:.3f}" for pair in pairs)
          + f" (median {statistics.median(pairs):.3f})")
    verdict = "ok" if ratio >= MIN_RATIO else "MISSED"
    print(f"\nB/A gateway requests/s: {ratio:.3f} (target >= {MIN_RATIO:.2f}: {verdict})")
    for problem in problems:
        print(f"FAILED: {problem}")
    return ratio >= MIN_RATIO and not problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each phase; the median is compared")
    parser.add_argument("--requests", type=int, default=15_000, help="gateway requests per phase")
    parser.add_argument("--concurrency", type=int, default=64, help="gateway requests in flight")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="the upstream's answer delay")
    parser.add_argument("--run-concurrency", type=int, default=2, help="each run's calls in flight")
    args = parser.parse_args(argv)
    a_results, b_results = [], []
    with Upstream(server_python(), args.delay_ms) as upstream, \
            tempfile.TemporaryDirectory(prefix="shared-sandbox-load-") as workdir:
        try:
            with running_sandbox(upstream, Path(workdir), args.run_concurrency) as sandbox:
                print(f"upstream delay {args.delay_ms:g} ms; gateway load: {args.requests:,} requests at concurrency "
                      f"{args.concurrency}; phase B adds 2 runs ({args.run_concurrency} calls in flight each) and "
                      f"{USERS} users polling once a second", flush=True)
                for round_number in range(1, args.rounds + 1):
                    a_results.append(phase_a(sandbox, upstream, args.concurrency, args.requests))
                    print(describe(f"A round {round_number}", a_results[-1]), flush=True)
                    b_results.append(phase_b(sandbox, upstream, args.concurrency, args.requests))
                    print(describe(f"B round {round_number}", b_results[-1]), flush=True)
        except TargetFailed as failure:
            print(f"FAILED: {failure}")
            return 1
    return 0 if summarize(a_results, b_results) else 1


if __name__ == "__main__":
    sys.exit(main())
