"""What a suite item says about an agent task: the tools it offers, the environment that answers their calls, how
long the episode may run, a simulated user, and the attack a risk probe plants. Pydantic models, checked when the
suite is opened, so a typo fails before any model is called.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gensandbox.types import Tool

DEFAULT_MAX_STEPS = 8
DEFAULT_USER_TURNS = 4
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what OpenAI and Anthropic accept as a function name


class ToolSpec(BaseModel):
    """A function the model may call. OpenAI's {"type": "function", "function": {...}} form is read too."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    description: str = ""
    parameters: dict = Field(default_factory=lambda: {"type": "object", "properties": {}})

    @model_validator(mode="before")
    @classmethod
    def _openai_form(cls, value):
        if isinstance(value, dict) and value.get("type") == "function" and isinstance(value.get("function"), dict):
            return value["function"]
        return value

    @field_validator("name")
    @classmethod
    def _usable_name(cls, value: str) -> str:
        if not _TOOL_NAME.match(value):
            raise ValueError(f"tool name {value!r} must be 1-64 letters, digits, _ or -")
        return value

    @field_validator("parameters")
    @classmethod
    def _schema(cls, value: dict) -> dict:
        try:
            key = json.dumps(value, sort_keys=True)
        except (TypeError, ValueError):  # not plain JSON (a YAML date, say): checked as it is, without the cache
            problem = _schema_problem(value)
        else:
            problem = _cached_schema_problem(key)
        if problem:
            raise ValueError(f"parameters is not a valid JSON Schema: {problem}")
        return value

    def tool(self) -> Tool:
        return Tool(self.name, self.description or None, self.parameters)


def _schema_problem(schema: dict) -> str | None:
    """Why a tool's parameters are not a JSON Schema, or None."""
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        return error.message
    return None


@functools.lru_cache(maxsize=1024)
def _cached_schema_problem(schema_json: str) -> str | None:
    """_schema_problem by the schema's JSON text: checking a schema against the 2020-12 meta-schema takes ~2 ms, and
    a suite's items mostly offer the same few tools (640 items of two tools took 6 s to open, then 0.01 s)."""
    return _schema_problem(json.loads(schema_json))


class Rule(BaseModel):
    """A canned result: answers calls of `tool` whose arguments match those listed (others are not compared)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    tool: str
    arguments: dict = {}
    result: object = None

    @field_validator("arguments")
    @classmethod
    def _patterns_compile(cls, value: dict) -> dict:
        for key, wanted in value.items():
            if isinstance(wanted, dict) and set(wanted) == {"pattern"}:
                try:
                    re.compile(wanted["pattern"])
                except (re.error, TypeError) as error:
                    raise ValueError(f"arguments.{key}: the pattern is not a regular expression: {error}") from None
        return value


class EnvironmentSpec(BaseModel):
    """Declarative (`results`, `default`) or a Python class in the suite's folder (`class` "PATH.py:Class")."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    results: list[Rule] = []
    default: object = None
    python_class: str | None = Field(default=None, alias="class")
    args: dict = {}

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value):
        return {"class": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_kind(self) -> EnvironmentSpec:
        if self.python_class is None:
            if self.args:
                raise ValueError("environment.args is for a Python environment; name its `class` (PATH.py:Class)")
            return self
        if self.results or self.default is not None:
            raise ValueError("an environment is either declarative (results) or a Python `class`, not both")
        where, _, name = self.python_class.partition(":")
        path = PurePosixPath(where)
        if not name or path.suffix != ".py":
            raise ValueError(f"environment class {self.python_class!r} must be PATH.py:ClassName")
        if path.is_absolute() or ".." in path.parts:
            raise ValueError(f"environment class {self.python_class!r} must be a path inside the suite's folder "
                             "(relative, without ..)")
        return self

    @property
    def is_python(self) -> bool:
        return self.python_class is not None


class SimulatedUser(BaseModel):
    """A model playing the user in a conversational task; by default the model under test, in its own request."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    instructions: str = Field(min_length=1)
    model: str | None = None
    max_turns: int = Field(default=DEFAULT_USER_TURNS, ge=1, le=50)


class Attack(BaseModel):
    """A risk probe's attack: it succeeded if the model called one of `tools` (any, when none are named) with
    arguments whose JSON text contains one of `containing` (any arguments, when none are named)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    tools: list[str] = []
    containing: list[str] = []
    description: str = ""

    def succeeded_by(self, name: str, arguments: str) -> bool:
        if self.tools and name not in self.tools:
            return False
        text = _readable(arguments).casefold()
        return not self.containing or any(piece.casefold() in text for piece in self.containing)


def _readable(arguments: str) -> str:
    """The arguments' JSON with non-ASCII written out, so "서울" is found however the model escaped it."""
    try:
        return json.dumps(json.loads(arguments), ensure_ascii=False)
    except ValueError:
        return arguments
