"""Environments that answer an agent's tool calls: canned results (declarative), or a Python class from the suite's
own folder with reset(), one method per tool and snapshot().

A Python environment is code the suite's author (or the admin who installed the suite) wrote. It is loaded only from
inside the folder of the suite that names it, and runs in a child process of its own, cut off from the network and
held to a memory and a time limit (runner/env_process.py): never in the runner's process. Each episode gets a fresh
instance. `environment_class` loads a class here, in-process, for an author's own unit tests of its logic; the
runner never calls it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from gensandbox.canonical import canonical, sha256_hex
from gensandbox.errors import ConfigError, ToolFailed
from gensandbox.runner.agent_scorers import argument_matches
from gensandbox.runner.agent_spec import EnvironmentSpec, Rule
from gensandbox.runner.env_process import EnvironmentPool, describe_class, environment_file

# Module per file version (its modification time and size): loaded once, again when edited. A stat, not a read of the
# file, since every episode opens its environment.
_LOADED: dict[tuple[Path, int, int], object] = {}


class Environment(Protocol):
    async def call(self, name: str, arguments: dict) -> object:
        """The tool's result (JSON-able); raises ToolFailed with a message for the model."""

    def snapshot(self) -> dict | None:
        """The state after the calls so far (None for an environment without state)."""


@dataclass
class CannedEnvironment:
    """Declarative: the first rule naming the tool whose listed arguments match answers the call."""

    spec: EnvironmentSpec
    calls: list[dict] = field(default_factory=list)

    async def call(self, name: str, arguments: dict) -> object:
        self.calls.append({"name": name, "arguments": arguments})
        for rule in self.spec.results:
            if rule.tool == name and _rule_matches(rule, arguments):
                return rule.result
        if self.spec.default is not None:
            return self.spec.default
        raise ToolFailed(f"no result is available for {name} with these arguments")

    def snapshot(self) -> dict | None:
        return None


@asynccontextmanager
async def open_environment(spec: EnvironmentSpec, suite_folder: Path, tool_names: list[str],
                           processes: EnvironmentPool) -> AsyncIterator[Environment]:
    """A fresh environment for one episode: canned, or an instance of a Python class in one of the run's processes
    (given back to `processes` when the episode ends). EnvironmentBroken when the class cannot start."""
    if not spec.is_python:
        yield CannedEnvironment(spec)
        return
    environment = await processes.open(spec.python_class, spec.args, suite_folder, tool_names)
    try:
        yield environment
    finally:
        processes.release(environment)


def environment_class(reference: str, suite_folder: Path) -> type:
    """The class `reference` ("PATH.py:Class") names, from a file inside `suite_folder`, loaded in this process: for
    tests of an environment's logic. ConfigError otherwise."""
    path, name = environment_file(reference, suite_folder)
    module = _module(path)
    cls = getattr(module, name, None)
    if not isinstance(cls, type):
        raise ConfigError(f"environment {reference}: {path.name} defines no class {name}")
    missing = [method for method in ("reset", "snapshot") if not callable(getattr(cls, method, None))]
    if missing:
        raise ConfigError(f"environment {reference}: class {name} needs {' and '.join(missing)}()")
    return cls


def check_environment(spec: EnvironmentSpec, suite_folder: Path, tool_names: list[str]) -> None:
    """When the suite is opened: the class loads (in a child process, as it will run), and has a method for every
    tool the item offers."""
    if not spec.is_python:
        return
    methods = describe_class(spec.python_class, suite_folder)
    missing = [name for name in tool_names if name not in methods]
    if missing:
        raise ConfigError(f"environment {spec.python_class} has no method for the tool(s) {', '.join(missing)}")


def result_text(result: object) -> str:
    """What the model reads: text as it is, anything else as JSON (non-ASCII kept readable)."""
    return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)


def state_sha256(state: dict | None) -> str | None:
    return None if state is None else sha256_hex(canonical(state))


def _rule_matches(rule: Rule, arguments: dict) -> bool:
    for key, wanted in rule.arguments.items():
        if key not in arguments:
            return False
        got = arguments[key]
        if isinstance(wanted, dict) and set(wanted) == {"pattern"}:
            if not (isinstance(got, str) and re.search(wanted["pattern"], got)):
                return False
        elif not argument_matches(got, wanted):
            return False
    return True


def _module(path: Path):
    version = path.stat()
    key = (path, version.st_mtime_ns, version.st_size)
    if key not in _LOADED:
        name = f"gensandbox_env_{hashlib.sha256(repr(key).encode()).hexdigest()[:12]}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look modules up by name
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            del sys.modules[name]
            raise ConfigError(f"environment file {path} failed to load: {type(error).__name__}: {error}") from None
        _LOADED[key] = module
    return _LOADED[key]
