"""Scale-out: items/s of `gensandbox run` in one process and on the Ray executor, on one loopback workload.

The upstream is benchmarks/fixed_upstream.py (an OpenAI-compatible server on 127.0.0.1, raw asyncio + httptools,
its own process) answering every request after a fixed delay (50 ms). Each configuration evaluates the same N
fixed-answer items as a whole process, start to exit, with a fresh GENSANDBOX_HOME and `--no-cache`:
one process (the default executor), then `--executor ray --ray-workers W` for each W, which starts a local Ray
instance (127.0.0.1 only), runs, and shuts it down. Rounds alternate the configurations; medians are reported.

The server records the first request and last reply of each run, so start-up and shut-down are timed apart from
the request phase. A sampler reads /proc every 50 ms and splits the run's CPU by process: the driver (the
`gensandbox` process: runner, scoring, store), the Ray workers (the actors making the HTTP calls) and Ray's own
processes (GCS, raylet, agents). Ray's overhead per item is the request phase's extra wall time and CPU per item
against one process at the same concurrency.

    .venv/bin/python benchmarks/scale.py [--items 4000] [--concurrency 64,256] [--workers 1,2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from fixed_upstream import ANSWER, Upstream
from machine_load import CLOCK_TICKS_PER_S, NOISY_CORES, describe_other_work, machine_busy_s, measure_idle
from peers_env import PROJECT, tail
from runner_overhead import GENSANDBOX, gensandbox_config, offline_env, questions, write_jsonl

ROLES = ("driver", "workers", "ray")
SAMPLE_EVERY_S = 0.05


# ---- CPU by role, from /proc -----------------------------------------------------------------------------------


def process_table() -> dict[int, tuple[str, int, float]]:
    """pid -> (name, parent pid, CPU seconds so far)."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().rsplit(")", 1)
        except OSError:
            continue  # it exited while we looked
        fields = rest.split()
        table[int(stat.parent.name)] = (name.split("(", 1)[1], int(fields[1]),
                                        (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S)
    return table


def role_of(pid: int, name: str, root: int) -> str:
    if pid == root:
        return "driver"
    # Ray names a worker process after what it runs (the kernel keeps 15 characters); before its actor arrives
    # it is an idle worker.
    return "workers" if name.startswith(("ray::ModelWork", "ray::IDLE")) else "ray"


class CpuSampler(threading.Thread):
    """CPU seconds of a process and its descendants, by role, every 50 ms. A process that exits keeps the last
    value seen, so at most 50 ms of its CPU is missed."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.last: dict[int, tuple[str, float]] = {}
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            time.sleep(SAMPLE_EVERY_S)
        self.sample()

    def sample(self) -> None:
        table, tree, frontier = process_table(), set(), {self.root}
        while frontier:  # the process and everything under it
            tree |= frontier
            frontier = {pid for pid, (_, parent, _) in table.items() if parent in frontier} - tree
        for pid in tree & table.keys():
            name, _, cpu_s = table[pid]
            self.last[pid] = (role_of(pid, name, self.root), cpu_s)
        totals = dict.fromkeys(ROLES, 0.0)
        for role, cpu_s in self.last.values():
            totals[role] += cpu_s
        self.samples.append((time.monotonic(), totals))

    def at(self, moment: float) -> dict[str, float]:
        """Totals of the last sample at or before `moment`."""
        before = [totals for taken, totals in self.samples if taken <= moment]
        return before[-1] if before else dict.fromkeys(ROLES, 0.0)


# ---- One run -------------------------------------------------------------------------------------------------------


@dataclass
class ScaleRun:
    workers: int  # 0: one process, no Ray
    concurrency: int
    items: int
    wall_s: float = 0.0
    start_s: float = 0.0  # process start to first request
    stop_s: float = 0.0  # last reply to exit
    phase_s: float = 0.0  # first request to last reply
    phase_cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by role in the request phase
    other_cores: float = 0.0  # cores kept busy by processes that are not this run's
    error: str = ""

    @property
    def label(self) -> str:
        return "1 process" if not self.workers else f"Ray, {self.workers} worker{'s' if self.workers > 1 else ''}"

    @property
    def items_per_s(self) -> float:
        return self.items / self.wall_s

    @property
    def phase_items_per_s(self) -> float:
        return self.items / self.phase_s

    def cpu_ms_per_item(self, role: str) -> float:
        return 1000 * self.phase_cpu[role] / self.items


def run_once(workers: int, concurrency: int, items: int, upstream: Upstream, timeout_s: float) -> ScaleRun:
    run = ScaleRun(workers, concurrency, items)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as workdir:
        config, suite = prepare(Path(workdir), items, concurrency, upstream)
        command = [str(GENSANDBOX), "run", "-c", str(config), "-m", "bench", "-s", str(suite), "--no-cache"]
        if workers:
            command += ["--executor", "ray", "--ray-workers", str(workers)]
        upstream.get("/stats/reset")
        started, machine_before, own_before = time.monotonic(), machine_busy_s(), own_cpu_s()
        process = subprocess.Popen(command, cwd=workdir, env=offline_env(GENSANDBOX_HOME=f"{workdir}/home"),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sampler = CpuSampler(process.pid)
        sampler.start()
        try:
            output, _ = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        run.wall_s = time.monotonic() - started
        sampler.done.set()
        sampler.join()
        machine_s, own_s = machine_busy_s() - machine_before, own_cpu_s() - own_before
    stats = upstream.get("/stats")
    ours_s = sum(sampler.samples[-1][1].values()) + stats["cpu_s"] + own_s
    run.other_cores = max(0.0, machine_s - ours_s) / run.wall_s
    if process.returncode != 0 or stats["requests"] != items or stats["first_request"] is None:
        run.error = f"exit code {process.returncode}, upstream saw {stats['requests']} requests:\n{tail(output)}"
        return run
    first, last = stats["first_request"], stats["last_reply"]
    run.start_s, run.stop_s, run.phase_s = first - started, started + run.wall_s - last, last - first
    before, after = sampler.at(first), sampler.at(last)
    run.phase_cpu = {role: after[role] - before[role] for role in ROLES}
    return run


def own_cpu_s() -> float:
    """This process's CPU: the sampler is part of the measurement's cost, not other work."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def prepare(workdir: Path, items: int, concurrency: int, upstream: Upstream) -> tuple[Path, Path]:
    config = workdir / "gensandbox.toml"
    config.write_text(gensandbox_config(upstream.base_url, concurrency))
    suite = write_jsonl(workdir / "bench.jsonl", (
        {"id": f"q{n:06d}", "language": "en", "category": "bench", "messages": [{"role": "user", "content": q}],
         "target": ANSWER, "scorer": "includes"} for n, q in enumerate(questions(items))))
    return config, suite


# ---- Reporting -----------------------------------------------------------------------------------------------------


def median_run(runs: list[ScaleRun]) -> ScaleRun:
    """The run with the median request-phase speed: its numbers belong together."""
    ordered = sorted(runs, key=lambda run: run.phase_s)
    return ordered[len(ordered) // 2]


def describe(run: ScaleRun, capacity: float) -> str:
    if run.error:
        return f"  {run.label:<15} FAILED: {run.error}"
    cpu = ", ".join(f"{role} {run.cpu_ms_per_item(role):.2f}" for role in ROLES)
    return (f"  {run.label:<15} {run.items_per_s:7.1f} items/s end to end ({run.wall_s:5.2f} s) | request phase "
            f"{run.phase_items_per_s:7.1f} items/s ({100 * run.phase_items_per_s / capacity:4.1f}% of capacity) | "
            f"start {run.start_s:4.2f} s, stop {run.stop_s:4.2f} s | CPU ms/item: {cpu}"
            f"{'  NOISY: ' if run.other_cores > NOISY_CORES else ' | '}other work {run.other_cores:.2f} cores")


def describe_overhead(ray: ScaleRun, alone: ScaleRun) -> str:
    wall_ms = 1000 * (ray.phase_s - alone.phase_s) / ray.items
    # With `concurrency` calls always in flight, each call takes concurrency / rate: the upstream's delay plus
    # whatever the client side adds.
    ray_call_ms, alone_call_ms = (1000 * run.concurrency / run.phase_items_per_s for run in (ray, alone))
    cpu_ms = sum(ray.cpu_ms_per_item(role) - alone.cpu_ms_per_item(role) for role in ROLES)
    driver_ms = ray.cpu_ms_per_item("driver") - alone.cpu_ms_per_item("driver")
    return (f"  Ray overhead, {ray.label}: {wall_ms:+.3f} ms wall per item in the request phase (a call takes "
            f"{ray_call_ms:.1f} ms instead of {alone_call_ms:.1f}), {cpu_ms:+.2f} ms CPU per item ({driver_ms:+.2f} "
            f"in the driver); fixed {ray.start_s - alone.start_s:+.2f} s start-up, {ray.stop_s - alone.stop_s:+.2f} s "
            "shut-down")


def describe_ceiling(ray: ScaleRun) -> str:
    """What one driver core can feed, whatever the number of nodes: the serial part of a Ray run."""
    driver_ms = ray.cpu_ms_per_item("driver")
    return (f"  driver ceiling ({ray.label}): {driver_ms:.2f} ms driver CPU per item -> at most "
            f"{1000 / driver_ms:,.0f} items/s from one driver, on any number of nodes")


def measure(args) -> None:
    print(describe_other_work(measure_idle(1.0)))
    with Upstream(PROJECT / ".venv" / "bin" / "python", args.delay_ms) as upstream:
        for concurrency in args.concurrency:
            capacity = concurrency / (args.delay_ms / 1000)
            print(f"\nconcurrency {concurrency}, {args.items} items, upstream delay {args.delay_ms:g} ms -> capacity "
                  f"{capacity:,.0f} items/s; {args.rounds} rounds, median shown", flush=True)
            runs: dict[int, list[ScaleRun]] = {workers: [] for workers in [0, *args.workers]}
            for _ in range(args.rounds):
                for workers in runs:
                    runs[workers].append(run_once(workers, concurrency, args.items, upstream, args.timeout))
            report(runs, capacity)


def report(runs: dict[int, list[ScaleRun]], capacity: float) -> None:
    failed = [run for group in runs.values() for run in group if run.error]
    chosen = {workers: median_run([run for run in group if not run.error] or group) for workers, group in runs.items()}
    for run in chosen.values():
        print(describe(run, capacity))
    for run in failed:
        print(describe(run, capacity))
    alone = chosen[0]
    for workers, ray in chosen.items():
        if workers and not ray.error and not alone.error:
            print(describe_overhead(ray, alone))
            print(describe_ceiling(ray))
    print(flush=True)


def parse_args() -> argparse.Namespace:
    numbers = lambda value: [int(n) for n in value.split(",")]  # noqa: E731
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=4000)
    parser.add_argument("--concurrency", type=numbers, default=[64, 256], help="comma-separated")
    parser.add_argument("--workers", type=numbers, default=[1, 2], help="Ray workers to try, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--delay-ms", type=float, default=50.0, help="upstream delay per request")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    return parser.parse_args()


if __name__ == "__main__":
    measure(parse_args())
