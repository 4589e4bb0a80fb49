"""Agent loop overhead: GenSandbox's agent loop against inspect_ai's, on one scripted loopback workload.

The upstream (benchmarks/agent_upstream.py, raw asyncio and httptools) is a scripted tool-calling model: it answers
a conversation's first request with a tool call, the second (after the tool's result) with another tool call and
the third with the final text, each after the same fixed delay (50 ms). Each tool runs N such tasks, 3 model calls
(steps) each, as a whole process (start-up, episodes, scoring, writing results, exit), with the same canned tool
results: GenSandbox's declarative `environment.results`, inspect_ai's @tool functions returning the same text. A
step is a model call; the upstream's own count of calls per step of the script is the ground truth. With
concurrency c no tool can exceed c / 0.05 s steps per second; N a multiple of c lets every worker do the same
number of tasks, so that bound is reachable.

    .venv/bin/python benchmarks/agent_overhead.py [--tasks 640] [--concurrency 64] [--only gensandbox|inspect]
                                                  [--profile PATH]

The peers live in benchmarks/.venv-peers (created from benchmarks/peers/requirements.txt when missing). `--profile`
runs GenSandbox under cProfile and writes its stats to PATH (read them with `python -m pstats PATH`). Nothing leaves
the machine: both tools talk to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from agent_upstream import CITY, DAYS, FORECAST, STEPS, WEATHER
from fixed_upstream import MODEL, Upstream
from machine_load import OtherWorkMeter, describe_other_work, measure_idle
from peers_env import PEERS_DIR, PEERS_VENV, ensure_peers_venv, server_python, tail
from runner_overhead import GENSANDBOX, ToolRun, gensandbox_config, offline_env, run_tool, write_jsonl

TOOLS = ("gensandbox", "inspect")
TOOL_LABELS = {"gensandbox": "GenSandbox", "inspect": "inspect_ai"}
QUESTION = "Task {n}: what is the weather in {city} today, and will it rain in the next {days} days?"
TARGET = "sunny"  # in the scripted final answer: both tools score it with `includes`
AGENT_UPSTREAM = Path(__file__).resolve().parent / "agent_upstream.py"

TOOL_SPECS = [
    {"name": "get_weather", "description": "The current weather in a city.",
     "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city's name."}},
                    "required": ["city"]}},
    {"name": "get_forecast", "description": "The weather forecast for a city, some days ahead.",
     "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city's name."},
                                                     "days": {"type": "integer", "description": "How many days."}},
                    "required": ["city", "days"]}},
]
CANNED = {"get_weather": WEATHER, "get_forecast": FORECAST}


def questions(count: int) -> list[str]:
    return [QUESTION.format(n=n, city=CITY, days=DAYS) for n in range(count)]


# ---- The two tools -------------------------------------------------------------------------------------------------


def agent_item(n: int, question: str) -> dict:
    """One GenSandbox agent item: the tools, canned results for their calls, scored on the final answer."""
    return {"id": f"t{n:06d}", "language": "en", "category": "agent-bench",
            "messages": [{"role": "user", "content": question}], "target": TARGET, "scorer": "includes",
            "tools": TOOL_SPECS, "max_steps": STEPS + 1,
            "environment": {"results": [{"tool": name, "arguments": {"city": CITY}, "result": text}
                                        for name, text in CANNED.items()]}}


def run_gensandbox(workdir: Path, tasks: int, upstream: Upstream, args) -> ToolRun:
    config = workdir / "gensandbox.toml"
    config.write_text(gensandbox_config(upstream.base_url, args.concurrency))
    suite = write_jsonl(workdir / "agent_bench.jsonl", (agent_item(n, q) for n, q in enumerate(questions(tasks))))
    command = [str(GENSANDBOX), "run", "-c", str(config), "-m", MODEL, "-s", str(suite)]
    if args.profile:
        command = [sys.executable, "-m", "cProfile", "-o", str(Path(args.profile).resolve()), *command]
    env = offline_env(GENSANDBOX_HOME=str(workdir / "home"))
    run = run_tool(ToolRun("gensandbox", tasks * STEPS), command, workdir, env, upstream, args.timeout)
    if run.ok and "calls failed" in run.output:  # GenSandbox records failed calls and still exits 0
        run.error = f"some calls failed; output tail:\n{tail(run.output)}"
    return run


def run_inspect(workdir: Path, tasks: int, upstream: Upstream, args) -> ToolRun:
    shutil.copy(PEERS_DIR / "inspect_agent_task.py", workdir)  # inspect_ai refuses an absolute task path
    (workdir / "tool_results.json").write_text(json.dumps(CANNED))
    write_jsonl(workdir / "dataset.jsonl",
                ({"id": f"t{n:06d}", "input": q, "target": TARGET} for n, q in enumerate(questions(tasks))))
    command = [str(PEERS_VENV / "bin" / "inspect"), "eval", "inspect_agent_task.py",
               "--model", f"openai-api/{MODEL}/{MODEL}", "-M", "stream=false",
               "--max-connections", str(args.concurrency), "--max-samples", str(args.concurrency),
               "--max-tokens", "16", "--display", "none", "--no-log-realtime", "--log-dir", str(workdir / "logs")]
    # The openai-api provider reads <SERVICE>_BASE_URL and <SERVICE>_API_KEY for the service named in the model.
    env = offline_env(BENCH_BASE_URL=upstream.base_url, BENCH_API_KEY="unused", HOME=str(workdir / "home"))
    env.pop("PYTHONPATH", None)  # a GenSandbox source tree put first for the GenSandbox run is no business of its
    return run_tool(ToolRun("inspect", tasks * STEPS), command, workdir, env, upstream, args.timeout)


RUNNERS = {"gensandbox": run_gensandbox, "inspect": run_inspect}


def run_in_tempdir(tool: str, upstream: Upstream, args) -> tuple[ToolRun, float]:
    """The run, and the cores other processes kept busy meanwhile."""
    with tempfile.TemporaryDirectory(prefix=f"bench-agent-{tool}-") as workdir:
        meter = OtherWorkMeter(upstream.process.pid)
        run = RUNNERS[tool](Path(workdir), args.tasks, upstream, args)
        other_cores = meter.other_cores()
        return check_score(check_script(run, args.tasks), args.tasks, Path(workdir)), other_cores


# The share of tasks scored right, read after the timed run: the scripted answer contains the target, so anything
# below 100% means a loop that lost a step's reply on the way to the final answer.
GENSANDBOX_SCORE = re.compile(r"agent_bench\s*│\s*(\d+)\s*│\s*([\d.]+)%")
INSPECT_SCORE = """import glob, sys
from inspect_ai.log import read_eval_log
log = read_eval_log(glob.glob(sys.argv[1] + "/*.eval")[0], header_only=True)
print(log.results.completed_samples, log.results.scores[0].metrics["accuracy"].value * 100)
"""


def score_gensandbox(workdir: Path, run: ToolRun) -> tuple[int, float] | None:
    found = GENSANDBOX_SCORE.search(run.output)
    return (int(found[1]), float(found[2])) if found else None


def score_inspect(workdir: Path, run: ToolRun) -> tuple[int, float] | None:
    result = subprocess.run([str(PEERS_VENV / "bin" / "python"), "-c", INSPECT_SCORE, str(workdir / "logs")],
                            capture_output=True, text=True, env=offline_env())
    if result.returncode != 0:
        return None
    samples, accuracy = result.stdout.split()
    return int(samples), float(accuracy)


SCORERS = {"gensandbox": score_gensandbox, "inspect": score_inspect}


def check_score(run: ToolRun, tasks: int, workdir: Path) -> ToolRun:
    if run.ok:
        score = SCORERS[run.tool](workdir, run)
        run.upstream["score"] = score
        if score != (tasks, 100.0):
            run.error = f"scored {score} (samples, %), wanted ({tasks}, 100.0); output tail:\n{tail(run.output)}"
    return run


def check_script(run: ToolRun, tasks: int) -> ToolRun:
    """The upstream's count per step must be N each: every task ran its whole loop, with no retries or extras."""
    by_step, off_script = run.upstream.get("by_step"), run.upstream.get("off_script")
    if run.ok and (by_step != [tasks] * STEPS or off_script):
        run.error = (f"upstream saw {by_step} calls per step (wanted {tasks} each) and {off_script} off the "
                     f"script; output tail:\n{tail(run.output)}")
    return run


# ---- Reporting -----------------------------------------------------------------------------------------------------


def describe_run(run: ToolRun, capacity: float, other_cores: float) -> str:
    label = f"{TOOL_LABELS[run.tool]:<11}"
    if not run.ok:
        return f"{label} FAILED ({run.wall_s:.1f} s): {run.error}"
    tasks = run.items // STEPS
    line = (f"{label} {tasks} tasks, {run.upstream['requests']} steps (upstream: {run.upstream['by_step']} per "
            f"step), all scored right, in {run.wall_s:6.2f} s = {run.items_per_s:7.1f} steps/s end to end")
    phase = run.request_phase_s
    if phase:
        startup = run.upstream["first_request"] - run.started
        after = run.started + run.wall_s - run.upstream["last_reply"]
        line += (f"\n{'':<12}request phase {phase:6.2f} s = {run.request_phase_items_per_s:7.1f} steps/s "
                 f"({100 * run.request_phase_items_per_s / capacity:4.1f}% of capacity), "
                 f"before first request {startup:5.2f} s, after last reply {after:5.2f} s")
    if "turnaround_p50_ms" in run.upstream:
        line += (f"\n{'':<12}turnaround within a task (an answer to the task's next request): p50 "
                 f"{run.upstream['turnaround_p50_ms']:.2f} ms, p90 {run.upstream['turnaround_p90_ms']:.2f} ms, "
                 f"p99 {run.upstream['turnaround_p99_ms']:.2f} ms")
    per_request_us = 1e6 * run.upstream["cpu_s"] / max(run.upstream["requests"], 1)
    return (line + f"\n{'':<12}CPU {run.cpu_s:6.2f} s ({1000 * run.cpu_s / run.items:.2f} ms/step), "
            f"peak RSS {run.peak_rss_mb:.0f} MB; upstream CPU {per_request_us:.0f} µs/request, "
            f"{run.upstream['connections']} connections; {describe_other_work(other_cores)}")


def print_verdict(runs: dict[str, ToolRun], capacity: float) -> None:
    ours, theirs = runs.get("gensandbox"), runs.get("inspect")
    if not ours or not ours.ok:
        return
    phase_share = (ours.request_phase_items_per_s or 0.0) / capacity
    print(f"GenSandbox request phase: {100 * phase_share:.1f}% of capacity "
          f"(target >= 90%: {'ok' if phase_share >= 0.9 else 'MISSED'})")
    if not theirs or not theirs.ok:
        return
    end_to_end = ours.items_per_s / theirs.items_per_s
    verdict = "ok" if end_to_end >= 5 else "MISSED"
    text = f"GenSandbox/inspect_ai: end to end {end_to_end:5.2f}x (target >= 5x: {verdict})"
    if ours.request_phase_items_per_s and theirs.request_phase_items_per_s:
        text += f", request phase {ours.request_phase_items_per_s / theirs.request_phase_items_per_s:5.2f}x"
    print(text)


def compare(args) -> None:
    tools = [args.only] if args.only else list(TOOLS)
    peers_ready = ensure_peers_venv(with_peers="inspect" in tools)
    capacity = args.concurrency / (args.delay_ms / 1000)
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"{describe_other_work(measure_idle(1.0))} (1 s sample)")
    runs: dict[str, ToolRun] = {}
    script_args = ("--delay-ms", str(args.delay_ms))
    with Upstream(server_python(), args.delay_ms, script=AGENT_UPSTREAM, script_args=script_args) as upstream:
        print(f"workload: {args.tasks} tasks x {STEPS} steps, concurrency {args.concurrency}, upstream delay "
              f"{args.delay_ms:g} ms -> capacity {capacity:,.0f} steps/s; upstream http://127.0.0.1:{upstream.port}")
        for tool in tools:
            if tool != "gensandbox" and not peers_ready:
                runs[tool], other = ToolRun(tool, args.tasks * STEPS, error="peers venv could not be installed"), 0.0
            else:
                runs[tool], other = run_in_tempdir(tool, upstream, args)
            print(describe_run(runs[tool], capacity, other), flush=True)
    print_verdict(runs, capacity)
    if args.profile:
        print(f"cProfile stats of the GenSandbox process: {args.profile} (python -m pstats {args.profile})")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=640, help="tasks of 3 steps; best a multiple of --concurrency")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--delay-ms", type=float, default=50.0, help="upstream delay per model call")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per tool run")
    parser.add_argument("--only", choices=TOOLS)
    parser.add_argument("--profile", metavar="PATH", help="run GenSandbox under cProfile, stats to PATH")
    args = parser.parse_args()
    if args.tasks < 1 or args.concurrency < 1 or args.delay_ms <= 0:
        parser.error("--tasks and --concurrency must be at least 1 and --delay-ms above 0")
    return args


if __name__ == "__main__":
    compare(parse_args())
