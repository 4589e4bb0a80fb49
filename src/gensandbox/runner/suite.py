"""Suites: items with messages, a target and a scorer, loaded from JSONL files.

Built-in suites live in the package's data/suites/; a user's suite is any JSONL file with the same
schema, named in gensandbox.toml or given by path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gensandbox.config import Config, data_path
from gensandbox.config.loading import describe_validation_error
from gensandbox.errors import ConfigError, NotFoundError
from gensandbox.runner.scorers import Target, build_scorer
from gensandbox.types import Message

BUILTIN_LICENSE = "Apache-2.0 (written by the GenSandbox project)"


class ScorerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    args: dict = {}


class ItemMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    role: Literal["system", "user", "assistant"]
    content: str


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1)
    language: str = Field(min_length=2)
    category: str = Field(min_length=1)
    messages: list[ItemMessage] = Field(min_length=1)
    target: Target
    scorer: ScorerSpec
    max_tokens: int | None = Field(default=None, ge=1)

    @field_validator("scorer", mode="before")
    @classmethod
    def _scorer_shorthand(cls, value):
        return {"name": value} if isinstance(value, str) else value

    @field_validator("scorer")
    @classmethod
    def _scorer_exists(cls, value: ScorerSpec) -> ScorerSpec:
        try:
            build_scorer(value.name, value.args)
        except (ValueError, re.error) as error:
            raise ValueError(str(error)) from None
        return value

    def chat_messages(self) -> tuple[Message, ...]:
        return tuple(Message(m.role, m.content) for m in self.messages)


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    items: tuple[Item, ...]
    license: str

    @property
    def categories(self) -> list[str]:
        return sorted({item.category for item in self.items})


def builtin_suite_names() -> list[str]:
    return sorted(p.stem for p in data_path("suites").glob("*.jsonl"))


def resolve_suite(spec: str, config: Config) -> Suite:
    for entry in config.file.suites:
        if entry.name == spec:
            return load_jsonl_suite(entry.name, config.resolve_path(entry.path), "see the suite's own terms")
    builtin = data_path("suites") / f"{spec}.jsonl"
    if builtin.is_file():
        return load_jsonl_suite(spec, builtin, BUILTIN_LICENSE)
    path = Path(spec).expanduser()
    if path.suffix == ".jsonl":
        if not path.is_file():
            raise NotFoundError(f"suite file {path} not found")
        return load_jsonl_suite(path.stem, path, "see the suite's own terms")
    known = ", ".join(builtin_suite_names() + [s.name for s in config.file.suites])
    raise NotFoundError(f"unknown suite `{spec}`; known suites: {known}; or give a path to a .jsonl file")


def load_jsonl_suite(name: str, path: Path, license: str) -> Suite:
    if not path.is_file():
        raise NotFoundError(f"suite `{name}`: file {path} not found")
    items: list[Item] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            item = _parse_item(line, f"{path.name} line {line_number}")
            if item.id in seen:
                raise ConfigError(f"{path.name} line {line_number}: duplicate item id `{item.id}`")
            seen.add(item.id)
            items.append(item)
    if not items:
        raise ConfigError(f"suite `{name}` ({path}) has no items")
    return Suite(name=name, path=path, items=tuple(items), license=license)


def _parse_item(line: str, where: str) -> Item:
    try:
        return Item.model_validate(json.loads(line))
    except json.JSONDecodeError as error:
        raise ConfigError(f"{where}: not valid JSON ({error.msg} at column {error.colno})") from None
    except ValidationError as error:
        raise ConfigError(f"{where}: {describe_validation_error(error, Item)}") from None
