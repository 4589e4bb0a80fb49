"""Environments that answer an agent's tool calls: canned results (declarative), or a Python class from the suite's
own folder with reset(), one method per tool and snapshot().

A Python environment is code the suite's author wrote, run in this process like a pytest conftest: it is loaded
only from inside the folder of the suite that names it, never from elsewhere. Each episode gets a fresh instance.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from gensandbox.canonical import canonical, sha256_hex
from gensandbox.errors import ConfigError, ToolFailed
from gensandbox.runner.agent_scorers import argument_matches
from gensandbox.runner.agent_spec import EnvironmentSpec, Rule

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


@dataclass
class PythonEnvironment:
    """A suite author's class: tool calls become method calls with keyword arguments."""

    instance: object
    tool_names: frozenset[str]

    async def call(self, name: str, arguments: dict) -> object:
        if name not in self.tool_names or not callable(method := getattr(self.instance, name, None)):
            raise ToolFailed(f"the environment has no tool {name}")
        try:
            result = method(**arguments)
            if inspect.isawaitable(result):
                result = await result
        except TypeError as error:  # wrong or missing keyword arguments
            raise ToolFailed(f"{name}: {error}") from None
        except Exception as error:  # the environment refusing the call: the model sees why, the episode goes on
            raise ToolFailed(f"{name}: {error}") from None
        return result

    def snapshot(self) -> dict | None:
        return self.instance.snapshot()


def open_environment(spec: EnvironmentSpec, suite_folder: Path, tool_names: list[str]) -> Environment:
    """A fresh environment for one episode."""
    if not spec.is_python:
        return CannedEnvironment(spec)
    cls = environment_class(spec.python_class, suite_folder)
    instance = cls(**spec.args)
    instance.reset()
    return PythonEnvironment(instance, frozenset(tool_names))


def environment_class(reference: str, suite_folder: Path) -> type:
    """The class `reference` ("PATH.py:Class") names, from a file inside `suite_folder`. ConfigError otherwise."""
    where, _, name = reference.partition(":")
    folder = suite_folder.resolve()
    path = (folder / where).resolve()
    if not path.is_relative_to(folder):
        raise ConfigError(f"environment {reference}: {path} is outside the suite's folder {folder}")
    if not path.is_file():
        raise ConfigError(f"environment {reference}: file {path} not found (paths are relative to {folder})")
    module = _module(path)
    cls = getattr(module, name, None)
    if not isinstance(cls, type):
        raise ConfigError(f"environment {reference}: {path.name} defines no class {name}")
    missing = [method for method in ("reset", "snapshot") if not callable(getattr(cls, method, None))]
    if missing:
        raise ConfigError(f"environment {reference}: class {name} needs {' and '.join(missing)}()")
    return cls


def check_environment(spec: EnvironmentSpec, suite_folder: Path, tool_names: list[str]) -> None:
    """When the suite is opened: the class loads, and has a method for every tool the item offers."""
    if not spec.is_python:
        return
    cls = environment_class(spec.python_class, suite_folder)
    missing = [name for name in tool_names if not callable(getattr(cls, name, None))]
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
