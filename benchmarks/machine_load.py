"""How busy the machine is with work that is not the benchmark's own (Linux /proc only).

On a 2-core machine shared with test runs and builds, a gateway number measured while something else ran is low and
noisy. The benchmarks print how many cores other processes kept busy, so a reader can discard such a run instead of
trusting it: the machine's busy CPU time (/proc/stat) minus the benchmark's own (this process, its reaped children,
and long-lived helpers such as the upstream server, named by pid).
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
NOISY_CORES = 0.2  # more than this much other work makes throughput numbers unreliable


def machine_busy_s() -> float:
    """CPU seconds all cores spent on anything but idle and iowait since boot."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS_PER_S


def process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # the name may contain spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S  # utime and stime


def own_cpu_s(helper_pids: tuple[int, ...]) -> float:
    """Children count once reaped: servers the benchmark stopped and waited for are included."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total + sum(process_cpu_s(pid) for pid in helper_pids)


class OtherWorkMeter:
    """Cores kept busy by other processes between start() and other_cores()."""

    def __init__(self, *helper_pids: int) -> None:
        self.helper_pids = helper_pids
        self.start()

    def start(self) -> None:
        self.started = time.monotonic()
        self.machine_s, self.own_s = machine_busy_s(), own_cpu_s(self.helper_pids)

    def other_cores(self) -> float:
        wall_s = time.monotonic() - self.started
        other_s = (machine_busy_s() - self.machine_s) - (own_cpu_s(self.helper_pids) - self.own_s)
        return max(other_s, 0.0) / wall_s if wall_s > 0 else 0.0


def describe_other_work(other_cores: float) -> str:
    warning = "  WARNING: not idle, numbers are low and noisy" if other_cores > NOISY_CORES else ""
    return f"other work on the machine: {other_cores:.2f} cores{warning}"


def measure_idle(sample_s: float = 1.0, *helper_pids: int) -> float:
    meter = OtherWorkMeter(*helper_pids)
    time.sleep(sample_s)
    return meter.other_cores()


def process_group_cpu_s(pgid: int) -> float:
    """CPU seconds of the live processes in a process group: a server and the workers it forked."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it exited while we looked
        if int(fields[2]) == pgid:
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S
    return total
