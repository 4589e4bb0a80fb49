"""Runner overhead: GenSandbox against inspect_ai and lm-eval on the same loopback workload.

The upstream (benchmarks/fixed_upstream.py) is an OpenAI-compatible chat-completions server on 127.0.0.1,
written on raw asyncio with httptools so that it costs little CPU (the machine has 2 cores and the tools under
test need them). It runs in its own process and answers every request with the same short answer after a fixed
delay (50 ms), so at concurrency 64 the most any tool can do is 64 / 0.05 = 1,280 items/s. Each tool evaluates
the same N fixed-answer items, one after another, as a whole process (start-up, requests, scoring, writing
results, exit). The server records the first request and the last reply of each tool run, so the request phase
is timed apart from start-up and exit.

    .venv/bin/python benchmarks/runner_overhead.py [--items 2000] [--concurrency 64] [--skip-peers]
                                                   [--only gensandbox|inspect|lmeval] [--rss]

The peers live in benchmarks/.venv-peers (created here from benchmarks/peers/requirements.txt when missing),
never in the project's .venv. Nothing leaves the machine: the tools talk to 127.0.0.1 only, and the Hugging Face
libraries behind lm-eval are told to stay offline.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from fixed_upstream import ANSWER, MODEL, Upstream
from peers_env import PEERS_DIR, PEERS_VENV, PROJECT, ensure_peers_venv, server_python, tail

GENSANDBOX = PROJECT / ".venv" / "bin" / "gensandbox"

QUESTION = "Question {n}: what is the capital of France? Answer with one word."
MAX_TOKENS = 16
TOOLS = ("gensandbox", "inspect", "lmeval")
TOOL_LABELS = {"gensandbox": "GenSandbox", "inspect": "inspect_ai", "lmeval": "lm-eval"}


# ---- Running one tool as a whole process ---------------------------------------------------------------------------


@dataclass
class ToolRun:
    tool: str
    items: int
    wall_s: float = 0.0
    returncode: int | None = None
    error: str = ""
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0
    upstream: dict = field(default_factory=dict)
    started: float = 0.0
    output: str = ""  # the tool's stdout and stderr

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.error

    @property
    def items_per_s(self) -> float:
        return self.items / self.wall_s if self.wall_s else 0.0

    @property
    def request_phase_s(self) -> float | None:
        first, last = self.upstream.get("first_request"), self.upstream.get("last_reply")
        return last - first if first is not None and last is not None and last > first else None

    @property
    def request_phase_items_per_s(self) -> float | None:
        phase = self.request_phase_s
        return self.upstream["requests"] / phase if phase else None


def wait_for(process: subprocess.Popen, timeout_s: float) -> tuple[int, object]:
    """os.wait4 rather than Popen.wait: it gives this child's own peak RSS and CPU, not the max over all children."""
    timer = threading.Timer(timeout_s, os.killpg, (process.pid, signal.SIGKILL))
    timer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    try:
        os.killpg(process.pid, signal.SIGKILL)  # helpers the tool left behind would steal CPU from the next tool
    except ProcessLookupError:
        pass
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage


def run_tool(run: ToolRun, command: list[str], cwd: Path, env: dict, upstream: Upstream, timeout_s: float) -> ToolRun:
    upstream.get("/stats/reset")
    log = cwd / "tool-output.log"
    with open(log, "w") as output:
        run.started = time.monotonic()
        try:
            process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as error:
            run.error = f"could not start {command[0]}: {error}"
            return run
        run.returncode, usage = wait_for(process, timeout_s)
        run.wall_s = time.monotonic() - run.started
    run.upstream = upstream.get("/stats")
    run.peak_rss_mb = usage.ru_maxrss / 1024  # Linux reports kilobytes
    run.cpu_s = usage.ru_utime + usage.ru_stime
    run.output = log.read_text(errors="replace")
    run.error = describe_failure(run, timeout_s)
    return run


def describe_failure(run: ToolRun, timeout_s: float) -> str:
    output = run.output
    if run.returncode == -signal.SIGKILL and run.wall_s >= timeout_s:
        return f"timed out after {timeout_s:.0f} s; output tail:\n{tail(output)}"
    if run.returncode != 0:
        return f"exit code {run.returncode}; output tail:\n{tail(output)}"
    if run.upstream.get("requests") != run.items:
        # Retries, or items the tool skipped: either way the numbers would not compare like for like.
        seen = run.upstream.get("requests")
        return f"upstream saw {seen} requests for {run.items} items; output tail:\n{tail(output)}"
    return ""


def offline_env(**extra: str) -> dict:
    """The tools' environment: loopback only, no hub downloads, no telemetry, no proxies."""
    env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    env.pop("INSPECT_TELEMETRY", None)
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1",
               HF_EVALUATE_OFFLINE="1", DO_NOT_TRACK="1", TOKENIZERS_PARALLELISM="false",
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def questions(count: int) -> list[str]:
    return [QUESTION.format(n=n) for n in range(count)]


def write_jsonl(path: Path, rows) -> Path:
    with open(path, "w") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")
    return path


# ---- The three tools -------------------------------------------------------------------------------------------


def gensandbox_config(base_url: str, concurrency: int) -> str:
    return f"""[run]
max_tokens = {MAX_TOKENS}

[[models]]
name = "{MODEL}"
provider = "openai"
base_url = "{base_url}"
model = "{MODEL}"
concurrency = {concurrency}
price_per_million_input_tokens = 0
price_per_million_output_tokens = 0
"""


def run_gensandbox(workdir: Path, items: int, upstream: Upstream, args) -> ToolRun:
    config = workdir / "gensandbox.toml"
    config.write_text(gensandbox_config(upstream.base_url, args.concurrency))
    suite = write_jsonl(workdir / "bench.jsonl", (
        {"id": f"q{n:06d}", "language": "en", "category": "bench", "messages": [{"role": "user", "content": q}],
         "target": ANSWER, "scorer": "includes"} for n, q in enumerate(questions(items))))
    command = [str(GENSANDBOX), "run", "-c", str(config), "-m", MODEL, "-s", str(suite)]
    env = offline_env(GENSANDBOX_HOME=str(workdir / "home"))
    run = run_tool(ToolRun("gensandbox", items), command, workdir, env, upstream, args.timeout)
    if run.ok and "calls failed" in run.output:  # GenSandbox records failed calls and still exits 0
        run.error = f"some calls failed; output tail:\n{tail(run.output)}"
    return run


def run_inspect(workdir: Path, items: int, upstream: Upstream, args) -> ToolRun:
    shutil.copy(PEERS_DIR / "inspect_bench_task.py", workdir)  # inspect_ai refuses an absolute task path
    write_jsonl(workdir / "dataset.jsonl",
                ({"id": f"q{n:06d}", "input": q, "target": ANSWER} for n, q in enumerate(questions(items))))
    command = [str(PEERS_VENV / "bin" / "inspect"), "eval", "inspect_bench_task.py",
               "--model", f"openai-api/{MODEL}/{MODEL}", "-M", "stream=false",
               "--max-connections", str(args.concurrency), "--max-tokens", str(MAX_TOKENS),
               "--display", "none", "--no-log-realtime", "--log-dir", str(workdir / "logs")]
    # The openai-api provider reads <SERVICE>_BASE_URL and <SERVICE>_API_KEY for the service named in the model.
    env = offline_env(BENCH_BASE_URL=upstream.base_url, BENCH_API_KEY="unused", HOME=str(workdir / "home"))
    return run_tool(ToolRun("inspect", items), command, workdir, env, upstream, args.timeout)


def run_lmeval(workdir: Path, items: int, upstream: Upstream, args) -> ToolRun:
    shutil.copy(PEERS_DIR / "lmeval_bench.yaml", workdir)
    write_jsonl(workdir / "lmeval_bench.jsonl", ({"question": q, "answer": ANSWER} for q in questions(items)))
    model_args = (f"model={MODEL},base_url={upstream.base_url}/chat/completions,num_concurrent={args.concurrency},"
                  f"max_retries=1,tokenized_requests=False,max_gen_toks={MAX_TOKENS}")
    command = [str(PEERS_VENV / "bin" / "lm-eval"), "run", "--model", "local-chat-completions",
               "--model_args", model_args, "--tasks", "gensandbox_bench", "--include_path", str(workdir),
               "--apply_chat_template", "--output_path", str(workdir / "results"), "--log_samples"]
    # A fresh HF_HOME: the datasets cache starts empty for lm-eval as the other tools' stores do for them.
    env = offline_env(OPENAI_API_KEY="unused", HF_HOME=str(workdir / "hf-home"), HOME=str(workdir / "home"))
    return run_tool(ToolRun("lmeval", items), command, workdir, env, upstream, args.timeout)


RUNNERS = {"gensandbox": run_gensandbox, "inspect": run_inspect, "lmeval": run_lmeval}


def run_in_tempdir(tool: str, items: int, upstream: Upstream, args) -> ToolRun:
    with tempfile.TemporaryDirectory(prefix=f"bench-{tool}-") as workdir:
        return RUNNERS[tool](Path(workdir), items, upstream, args)


# ---- Reporting -----------------------------------------------------------------------------------------------------


def describe_run(run: ToolRun, capacity: float) -> str:
    label = f"{TOOL_LABELS[run.tool]:<11}"
    if not run.ok:
        return f"{label} FAILED ({run.wall_s:.1f} s): {run.error}"
    line = f"{label} {run.items} items in {run.wall_s:6.2f} s = {run.items_per_s:7.1f} items/s end to end"
    phase = run.request_phase_s
    if phase:
        startup = run.upstream["first_request"] - run.started
        after = run.started + run.wall_s - run.upstream["last_reply"]
        line += (f" | request phase {phase:6.2f} s = {run.request_phase_items_per_s:7.1f} items/s "
                 f"({100 * run.request_phase_items_per_s / capacity:4.1f}% of capacity)"
                 f" | before first request {startup:5.2f} s, after last reply {after:5.2f} s")
    per_request_us = 1e6 * run.upstream["cpu_s"] / max(run.upstream["requests"], 1)
    return (line + f"\n{'':<12}CPU {run.cpu_s:6.2f} s ({1000 * run.cpu_s / run.items:.2f} ms/item), "
            f"peak RSS {run.peak_rss_mb:.0f} MB; upstream server CPU {per_request_us:.0f} µs/request, "
            f"{run.upstream['connections']} connections")


def print_ratios(runs: dict[str, ToolRun]) -> None:
    ours = runs.get("gensandbox")
    if not ours or not ours.ok:
        return
    for peer in ("inspect", "lmeval"):
        theirs = runs.get(peer)
        if not theirs or not theirs.ok:
            continue
        ratio = f"GenSandbox/{TOOL_LABELS[peer]}:"
        text = f"{ratio:<23} end to end {ours.items_per_s / theirs.items_per_s:5.2f}x"
        if ours.request_phase_items_per_s and theirs.request_phase_items_per_s:
            text += f", request phase {ours.request_phase_items_per_s / theirs.request_phase_items_per_s:5.2f}x"
        print(text)


def time_help(repeats: int = 5) -> None:
    durations = []
    for _ in range(repeats):
        started = time.monotonic()
        result = subprocess.run([str(GENSANDBOX), "--help"], capture_output=True, text=True, env=offline_env())
        durations.append(time.monotonic() - started)
        if result.returncode != 0:
            print(f"gensandbox --help FAILED (exit code {result.returncode}):\n{tail(result.stdout + result.stderr)}")
            return
    median = statistics.median(durations)
    verdict = "ok" if median < 0.5 else "OVER TARGET"
    print(f"gensandbox --help: median {median:.3f} s of {repeats} (min {min(durations):.3f}, "
          f"max {max(durations):.3f}; target < 0.5 s: {verdict})")


# ---- Modes -------------------------------------------------------------------------------------------------------


def compare(args) -> None:
    tools = [args.only] if args.only else (["gensandbox"] if args.skip_peers else list(TOOLS))
    peers_ready = ensure_peers_venv(with_peers=any(t != "gensandbox" for t in tools))
    capacity = args.concurrency / (args.delay_ms / 1000) if args.delay_ms else float("inf")
    runs: dict[str, ToolRun] = {}
    with Upstream(server_python(), args.delay_ms) as upstream:
        print(f"workload: {args.items} items, concurrency {args.concurrency}, upstream delay {args.delay_ms:g} ms "
              f"-> capacity {capacity:,.0f} items/s; upstream http://127.0.0.1:{upstream.port}")
        for tool in tools:
            if tool != "gensandbox" and not peers_ready:
                runs[tool] = ToolRun(tool, args.items, error="peers venv could not be installed (see above)")
            else:
                runs[tool] = run_in_tempdir(tool, args.items, upstream, args)
            print(describe_run(runs[tool], capacity), flush=True)
    print_ratios(runs)
    time_help()


def rss(args) -> None:
    """Peak RSS of gensandbox at growing suite sizes: it should stay flat, not grow with the item count."""
    ensure_peers_venv(with_peers=False)
    with Upstream(server_python(), args.rss_delay_ms) as upstream:
        print(f"GenSandbox peak RSS, concurrency {args.concurrency}, upstream delay {args.rss_delay_ms:g} ms")
        for items in args.rss_items:
            run = run_in_tempdir("gensandbox", items, upstream, args)
            if not run.ok:
                print(f"{items:>7} items: FAILED: {run.error}")
                continue
            print(f"{items:>7} items: peak RSS {run.peak_rss_mb:6.1f} MB, {run.wall_s:6.1f} s "
                  f"({run.items_per_s:.0f} items/s end to end), CPU {run.cpu_s:.1f} s", flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--delay-ms", type=float, default=50.0, help="upstream delay per request")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per tool run")
    parser.add_argument("--skip-peers", action="store_true", help="run GenSandbox only")
    parser.add_argument("--only", choices=TOOLS)
    parser.add_argument("--rss", action="store_true", help="GenSandbox peak RSS at --rss-items items instead")
    parser.add_argument("--rss-items", type=lambda v: [int(n) for n in v.split(",")], default=[10_000, 100_000])
    parser.add_argument("--rss-delay-ms", type=float, default=0.0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.rss:
        rss(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()
