"""Python environments out of the runner's process: each runs in a child (runner/env_child.py) with no network, a
memory limit, and a time limit on every call, so a suite's code can neither reach out, nor take the runner down,
nor hang an episode.

A run holds one `EnvironmentPool`. An episode borrows a child for its environment's class (a fresh instance made
and reset in it), and gives it back when the episode ends; the next episode of that class reuses it. Starting a
child costs ~25 ms (an interpreter and the suite's file); reusing one costs a reset (~0.3 ms), so the pool grows to
as many children per class as episodes run at once and no further. A child that breaks a limit or dies is killed and
not reused: the call fails with EnvironmentBroken (a ToolFailed the model reads), and the episode ends with it.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import json
import logging
import os
import signal
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from gensandbox.errors import ConfigError, EnvironmentBroken, ToolFailed

CHILD = Path(__file__).with_name("env_child.py")
_HEADER = struct.Struct(">I")
_STDERR_TAIL = 2048
log = logging.getLogger("gensandbox.environments")


@dataclass(frozen=True)
class EnvironmentLimits:
    """What a Python environment's process may use. `network_namespace=False` skips the namespace and blocks
    sockets instead: what happens anyway where the kernel refuses a namespace (tests use it to check that path)."""

    call_timeout_s: float = 10.0
    memory_bytes: int = 1 << 30
    start_timeout_s: float = 30.0  # loading the suite's file: its imports may take a while
    network_namespace: bool = True

    def command(self, path: Path, class_name: str) -> list[str]:
        network = "namespace" if self.network_namespace else "blocked"
        return [sys.executable, "-I", str(CHILD), str(path), class_name, str(self.memory_bytes), network]


def environment_file(reference: str, suite_folder: Path) -> tuple[Path, str]:
    """The file and class `reference` ("PATH.py:Class") names, the file inside `suite_folder`. ConfigError
    otherwise."""
    where, _, name = reference.partition(":")
    folder = suite_folder.resolve()
    path = (folder / where).resolve()
    if not path.is_relative_to(folder):
        raise ConfigError(f"environment {reference}: {path} is outside the suite's folder {folder}")
    if not path.is_file():
        raise ConfigError(f"environment {reference}: file {path} not found (paths are relative to {folder})")
    return path, name


def describe_class(reference: str, suite_folder: Path, limits: EnvironmentLimits | None = None) -> frozenset[str]:
    """The public methods of the class `reference` names, read by loading it in a child process (once per version of
    the file). ConfigError when the file fails to load, defines no such class, or lacks reset() or snapshot()."""
    path, name = environment_file(reference, suite_folder)
    version = path.stat()
    return _describe(reference, path, name, version.st_mtime_ns, version.st_size, limits or EnvironmentLimits())


@functools.lru_cache(maxsize=256)
def _describe(reference: str, path: Path, name: str, mtime_ns: int, size: int,
              limits: EnvironmentLimits) -> frozenset[str]:
    try:
        done = subprocess.run(limits.command(path, name), stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=limits.start_timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise ConfigError(f"environment {reference}: {path.name} took longer than {limits.start_timeout_s:g} s to "
                          "load") from None
    hello = _first_frame(done.stdout)
    if hello is None:
        raise ConfigError(f"environment {reference}: {path.name} failed to load ({_ended(done.returncode)}"
                          f"{_last_line(done.stderr)})")
    return frozenset(hello["methods"]) if "problem" not in hello else _refuse(reference, path, name, hello["problem"])


def _refuse(reference: str, path: Path, name: str, problem: dict):
    if problem["kind"] == "load":
        raise ConfigError(f"environment file {path} failed to load: {problem['detail']}")
    if problem["kind"] == "no-class":
        raise ConfigError(f"environment {reference}: {path.name} defines no class {name}")
    raise ConfigError(f"environment {reference}: class {name} needs {' and '.join(problem['methods'])}()")


class _Child:
    """One environment process and its pipe; `ask` sends a request and waits, within a time limit, for the answer."""

    def __init__(self, process: asyncio.subprocess.Process, reference: str, limits: EnvironmentLimits):
        self.process, self.reference, self.limits = process, reference, limits
        self.stderr_tail = collections.deque(maxlen=_STDERR_TAIL)
        self._draining = asyncio.get_running_loop().create_task(self._drain_stderr())
        self.network = ""
        self.key: tuple = ()  # which idle list it goes back to

    @classmethod
    async def start(cls, reference: str, path: Path, name: str, limits: EnvironmentLimits) -> _Child:
        process = await asyncio.create_subprocess_exec(
            *limits.command(path, name), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True)  # its own process group: a signal for the runner's terminal is not its business
        child = cls(process, reference, limits)
        hello = await child.ask(None, limits.start_timeout_s, what="loading")
        if "problem" in hello:
            await child.stop()
            _refuse(reference, path, name, hello["problem"])
        child.network = hello["network"]
        return child

    async def ask(self, request: dict | None, timeout_s: float, *, what: str) -> dict:
        """The child's answer to `request` (None: its hello). EnvironmentBroken, with the child stopped, when it
        takes longer than `timeout_s`, runs out of memory, or ends."""
        try:
            if request is not None:
                data = json.dumps(request).encode()
                self.process.stdin.write(_HEADER.pack(len(data)) + data)
                await self.process.stdin.drain()
            answer = await asyncio.wait_for(self._read_frame(), timeout_s)
        except TimeoutError:
            await self.stop()
            raise EnvironmentBroken(f"{what} took longer than {timeout_s:g} s; the environment {self.reference} "
                                    "was stopped") from None
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.stop()
            said = _last_line(bytes(self.stderr_tail))
            raise EnvironmentBroken(f"the environment {self.reference} ended during {what} "
                                    f"({_ended(self.process.returncode)}{said})") from None
        if "fatal" in answer:
            await self.stop()
            raise EnvironmentBroken(self._fatal(answer, what))
        return answer

    def _fatal(self, answer: dict, what: str) -> str:
        if answer["fatal"] == "memory":
            return (f"{what} went over the environment's memory limit ({self.limits.memory_bytes / 2**30:g} GiB); "
                    f"the environment {self.reference} was stopped")
        return f"the environment {self.reference} {answer['detail']}"

    async def _read_frame(self) -> dict:
        header = await self.process.stdout.readexactly(_HEADER.size)
        return json.loads(await self.process.stdout.readexactly(_HEADER.unpack(header)[0]))

    async def _drain_stderr(self) -> None:
        """Keep the last lines the environment wrote (said when it dies); a full pipe would block it."""
        while chunk := await self.process.stderr.read(4096):
            self.stderr_tail.extend(chunk)

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def stop(self) -> None:
        if self.alive:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # the group: whatever it started goes too
            except ProcessLookupError:
                pass
        await self.process.wait()
        await self._draining


class ProcessEnvironment:
    """An episode's environment, in a child: tool calls cross the pipe as JSON; the state after the last call comes
    back with each answer, so snapshot() is a read of what the child last said."""

    def __init__(self, child: _Child, tool_names: frozenset[str], state: dict | None):
        self.child, self.tool_names, self.state = child, tool_names, state

    async def call(self, name: str, arguments: dict) -> object:
        if name not in self.tool_names:
            raise ToolFailed(f"the environment has no tool {name}")
        answer = await self.child.ask({"op": "call", "name": name, "arguments": arguments},
                                      self.child.limits.call_timeout_s, what=name)
        self.state = answer["state"]
        if "error" in answer:
            raise ToolFailed(answer["error"])
        return answer["result"]

    def snapshot(self) -> dict | None:
        return self.state


class EnvironmentPool:
    """A run's environment processes, by file version and class: idle ones are reused, broken ones replaced."""

    def __init__(self, limits: EnvironmentLimits | None = None):
        self.limits = limits or EnvironmentLimits()
        self._idle: dict[tuple, list[_Child]] = collections.defaultdict(list)
        self._children: set[_Child] = set()
        self.network: str | None = None  # how the children are cut off from the network (the first one's word)

    async def open(self, reference: str, args: dict, suite_folder: Path, tool_names: list[str]) -> ProcessEnvironment:
        """A fresh instance of the class, reset, for one episode. EnvironmentBroken when it cannot start."""
        path, name = environment_file(reference, suite_folder)
        version = path.stat()
        key = (path, version.st_mtime_ns, version.st_size, name)
        child = self._idle[key].pop() if self._idle[key] else await self._start(reference, path, name)
        child.key = key
        answer = await child.ask({"op": "reset", "args": args}, self.limits.call_timeout_s, what="reset()")
        return ProcessEnvironment(child, frozenset(tool_names), answer["state"])

    def release(self, environment: ProcessEnvironment) -> None:
        """The episode is over: its child serves the next one, unless it was stopped."""
        child = environment.child
        if child.alive:
            self._idle[child.key].append(child)
        else:
            self._children.discard(child)

    async def close(self) -> None:
        children, self._children = list(self._children), set()
        self._idle.clear()
        for child in children:
            if child.alive:
                child.process.stdin.close()  # asked to end; stopped if it does not
        await asyncio.gather(*(self._end(child) for child in children))

    async def _start(self, reference: str, path: Path, name: str) -> _Child:
        child = await _Child.start(reference, path, name, self.limits)
        self._children.add(child)
        if self.network is None:
            self.network = child.network
            if child.network != "namespace":
                log.warning("Python environments run without a network namespace on this machine: %s; only Python's "
                            "own sockets are blocked inside them", child.network)
        return child

    async def _end(self, child: _Child) -> None:
        try:
            await asyncio.wait_for(child.process.wait(), 1.0)
        except TimeoutError:
            pass
        await child.stop()


@functools.cache
def network_isolation() -> str:
    """How environments are cut off from the network on this machine: "namespace", or "sockets blocked (why)". A
    child is started to find out (once per process)."""
    probe = ("import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
             "print('namespace' if libc.unshare(0x50000000) == 0 else os.strerror(ctypes.get_errno()))")
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", probe], capture_output=True, text=True, timeout=10,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"sockets blocked ({error})"
    said = done.stdout.strip()
    return "namespace" if said == "namespace" else f"sockets blocked (unshare failed: {said or 'no answer'})"


def _first_frame(data: bytes) -> dict | None:
    if len(data) < _HEADER.size:
        return None
    size = _HEADER.unpack(data[:_HEADER.size])[0]
    try:
        return json.loads(data[_HEADER.size:_HEADER.size + size])
    except ValueError:
        return None


def _ended(returncode: int | None) -> str:
    if returncode is None:
        return "it stopped answering"
    if returncode < 0:
        return f"killed by signal {signal.Signals(-returncode).name}"
    return f"exit status {returncode}"


def _last_line(stderr: bytes) -> str:
    lines = stderr.decode(errors="replace").strip().splitlines()
    return f": {lines[-1][:300]}" if lines else ""
