"""Suites: items with messages, a target and a scorer, read from JSONL, CSV, YAML or the file layout
of a public benchmark.

A suite is checked in one streaming pass when it is opened (every row valid, ids unique, the file's
sha256 taken for the run's manifest), then read again lazily while the run goes: nothing holds all
items in memory.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gensandbox.config import Config, SuiteConfig, data_path
from gensandbox.config.loading import describe_validation_error
from gensandbox.errors import ConfigError, NotFoundError, UserError
from gensandbox.runner import benchmarks, formats
from gensandbox.runner.agent_scorers import AGENT_SCORERS, check_agent_scorer
from gensandbox.runner.agent_spec import Attack, EnvironmentSpec, SimulatedUser, ToolSpec
from gensandbox.runner.environments import check_environment
from gensandbox.runner.mutators import MUTATORS, mutate_messages
from gensandbox.runner.scorers import Expected, check_scorer
from gensandbox.runner.selection import Selection
from gensandbox.runner.templates import SuiteOptions, build_raw_item
from gensandbox.types import Message

BUILTIN_LICENSE = "Apache-2.0 (written by the GenSandbox project)"
# Suites up to this size keep the items parsed by the checking pass; larger ones are read again,
# lazily, so memory stays flat however large the file.
KEEP_IN_MEMORY_ITEMS = 5_000
USER_LICENSE = "the suite's own terms"


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
    target: Expected = None
    scorer: ScorerSpec
    max_tokens: int | None = Field(default=None, ge=1)
    # An agent task (runner/agent_spec.py): the tools offered, what answers their calls, how long it may go on.
    tools: list[ToolSpec] = []
    environment: EnvironmentSpec | None = None
    max_steps: int | None = Field(default=None, ge=1, le=100)
    user: SimulatedUser | None = None
    attack: Attack | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value):
        return str(value) if isinstance(value, int) else value

    @field_validator("scorer", mode="before")
    @classmethod
    def _scorer_shorthand(cls, value):
        return {"name": value} if isinstance(value, str) else value

    @field_validator("scorer")
    @classmethod
    def _scorer_exists(cls, value: ScorerSpec) -> ScorerSpec:
        try:
            if value.name in AGENT_SCORERS:
                check_agent_scorer(value.name, value.args)
            else:
                check_scorer(value.name, value.args)
        except (ValueError, re.error) as error:
            raise ValueError(str(error)) from None
        except Exception as error:  # jsonschema's SchemaError and kin: a bad schema is bad input
            raise ValueError(f"invalid args: {error}") from None
        return value

    @model_validator(mode="after")
    def _agent_parts_fit(self) -> Item:
        agent_only = [name for name in ("environment", "max_steps", "user", "attack") if getattr(self, name)]
        if not self.tools and (agent_only or self.scorer.name in AGENT_SCORERS):
            what = ", ".join(agent_only) or f"the {self.scorer.name} scorer"
            raise ValueError(f"{what} needs `tools`: the functions the model may call")
        names = [tool.name for tool in self.tools]
        if len(set(names)) != len(names):
            raise ValueError(f"tools: duplicate names in {', '.join(names)}")
        if self.scorer.name == "final-state" and not (self.environment and self.environment.is_python):
            raise ValueError("the final-state scorer needs a Python environment (environment.class) with a state")
        if self.user and not self.environment:
            raise ValueError("a simulated user needs an environment: without one the episode ends at the first answer")
        return self

    @property
    def is_agent_task(self) -> bool:
        return bool(self.tools)

    def chat_messages(self) -> tuple[Message, ...]:
        return tuple(Message(m.role, m.content) for m in self.messages)


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    layout: str  # jsonl | csv | yaml | a public benchmark layout
    license: str
    license_note: str
    sha256: str
    base_count: int
    categories: tuple[str, ...]
    languages: tuple[str, ...]
    options: dict
    read: Callable[[], Iterator[Item]] = field(repr=False, compare=False)
    judges: tuple[str, ...] = ()  # judge models named by the items' own scorer args
    scorers: tuple[str, ...] = ()  # scorer names the items use
    mutators: tuple[str, ...] = ()  # red-team variants added after each item
    selection: Selection | None = None  # only some items (--limit, --sample); mutators follow each one taken
    agent_items: int = 0  # items with tools: they need a model that can call them
    user_models: tuple[str, ...] = ()  # models the items name to play a simulated user

    @property
    def folder(self) -> Path:
        """Where the suite's own files are (a Python environment is loaded only from here)."""
        return self.path if self.path.is_dir() else self.path.parent

    def iter_items(self) -> Iterator[Item]:
        items = self.read() if self.selection is None else self.selection.apply(self.read(), self.base_count)
        for item in items:
            yield item
            for name in self.mutators:
                yield mutated_item(item, name)

    @property
    def count(self) -> int:
        taken = self.base_count if self.selection is None else self.selection.count(self.base_count)
        return taken * (1 + len(self.mutators))

    def with_selection(self, selection: Selection | None) -> Suite:
        return replace(self, selection=selection)

    def with_mutators(self, names: list[str]) -> Suite:
        for name in names:
            if name not in MUTATORS:
                raise UserError(f"unknown mutator `{name}`; available: {', '.join(MUTATORS)}")
        return replace(self, mutators=tuple(names))

    def record(self) -> dict:
        return {"name": self.name, "path": str(self.path), "layout": self.layout, "items": self.count,
                "mutators": list(self.mutators), "judges": list(self.judges),
                "sha256": self.sha256, "license": self.license, "license_note": self.license_note,
                "categories": list(self.categories), "languages": list(self.languages), "options": self.options}


def builtin_suite_names() -> list[str]:
    return sorted(p.stem for p in data_path("suites").glob("*.jsonl"))


def resolve_suite(spec: str, config: Config) -> Suite:
    """A [[suites]] name, a built-in name, a path (.jsonl/.csv/.yaml), or LAYOUT:PATH for a public benchmark."""
    for entry in config.file.suites:
        if entry.name == spec:
            return _configured_suite(entry, config)
    builtin = data_path("suites") / f"{spec}.jsonl"
    if builtin.is_file():
        return open_suite(spec, builtin, "jsonl", license=BUILTIN_LICENSE)
    layout, _, rest = spec.partition(":")
    if rest and layout in benchmarks.LAYOUTS:
        return _benchmark_suite(Path(rest).stem, Path(rest).expanduser(), layout)
    path = Path(spec).expanduser()
    if formats.format_of(path):
        try:
            return _file_suite(path.stem, path, SuiteOptions(), USER_LICENSE)
        except ConfigError as error:
            if not (hint := _benchmark_hint(spec, path)):
                raise
            raise ConfigError(f"{error}; {hint}") from None
    if hint := _benchmark_hint(spec, path):
        raise ConfigError(f"{path.name} is not a .jsonl, .csv or .yaml suite; {hint}")
    if path.is_dir():
        _require_file(path.name or spec, path)
    known = ", ".join(builtin_suite_names() + [s.name for s in config.file.suites])
    raise NotFoundError(f"unknown suite `{spec}`; known suites: {known}; or give a path to a .jsonl, .csv or "
                        f".yaml file, or LAYOUT:PATH with LAYOUT one of {', '.join(benchmarks.LAYOUTS)}")


def _benchmark_hint(spec: str, path: Path) -> str:
    """How to run a file that is no GenSandbox suite but looks like a public benchmark; "" if it does not."""
    layout = benchmarks.detect_layout(path) if path.is_file() else None
    if layout is None:
        return ""
    return f"this looks like {benchmarks.LAYOUTS[layout].title}; run with `--suites {layout}:{spec}`"


def reopen_suite(record: dict) -> Suite:
    """The suite a stored run used, checked to be byte-for-byte the same file (or folder) before it is read."""
    path = Path(record["path"])
    if not (record["layout"] in benchmarks.LAYOUTS and path.is_dir()):
        _require_file(record["name"], path)
    now = content_sha256(path)
    if now != record["sha256"]:
        raise ConfigError(f"suite `{record['name']}` ({path}) has changed since that run (sha256 {now[:12]}… now, "
                          f"{record['sha256'][:12]}… then); restore it to repeat the run exactly")
    suite = open_suite(record["name"], path, record["layout"], license=record["license"],
                       license_note=record.get("license_note", ""),
                       options=SuiteOptions.model_validate(record.get("options") or {}), sha256=now)
    return suite.with_mutators(record.get("mutators") or [])


def mutated_item(item: Item, name: str) -> Item:
    """A red-team variant: same scorer and target, the last user message disguised, id marked `~name`."""
    messages = mutate_messages([m.model_dump() for m in item.messages], name, seed=0)
    return item.model_copy(update={"id": f"{item.id}~{name}", "messages": [ItemMessage(**m) for m in messages]})


def _configured_suite(entry: SuiteConfig, config: Config) -> Suite:
    path = config.resolve_path(entry.path)
    if entry.layout:
        return _benchmark_suite(entry.name, path, entry.layout)
    options = SuiteOptions(system=entry.system, template=entry.template, few_shot=entry.few_shot,
                           defaults=entry.defaults)
    return _file_suite(entry.name, path, options, entry.license or USER_LICENSE)


def _file_suite(name: str, path: Path, options: SuiteOptions, license: str) -> Suite:
    file_format = formats.format_of(path)
    if file_format is None:
        raise ConfigError(f"suite `{name}`: {path.name} is not .jsonl, .csv or .yaml; for a public benchmark "
                          f"name its layout ({', '.join(benchmarks.LAYOUTS)})")
    _require_file(name, path)
    if file_format == "yaml":
        header = formats.read_yaml_header(path)
        license = header.pop("license", license)
        header.pop("name", None)
        options = _validated(SuiteOptions, {**options.model_dump(exclude_defaults=True), **header}, path.name)
    return open_suite(name, path, file_format, license=license, options=options)


def _benchmark_suite(name: str, path: Path, layout: str) -> Suite:
    if layout not in benchmarks.LAYOUTS:
        raise ConfigError(f"suite `{name}`: unknown layout `{layout}`; known: {', '.join(benchmarks.LAYOUTS)}")
    if not path.is_dir():  # a folder of the benchmark's files (CLIcK's Dataset/) is read whole, as one suite
        _require_file(name, path)
    info = benchmarks.LAYOUTS[layout]
    return open_suite(name, path, layout, license=info.license, license_note=info.license_note)


def open_suite(name: str, path: Path, layout: str, *, license: str, license_note: str = "",
               options: SuiteOptions | None = None, sha256: str | None = None) -> Suite:
    """`sha256`: the content's, when the caller has just computed it."""
    def located() -> Iterator[tuple[str, Item]]:
        return _items(path, layout, options or SuiteOptions())

    def read() -> Iterator[Item]:
        return (item for _, item in located())

    count, categories, languages, judges, scorers, seen = 0, set(), set(), set(), set(), set()
    agent_items, user_models, folder = 0, set(), path if path.is_dir() else path.parent
    kept: list[Item] | None = []
    for where, item in located():  # the checking pass: fail before any model is called
        if kept is not None:
            kept.append(item)
            if len(kept) > KEEP_IN_MEMORY_ITEMS:
                kept = None
        if item.id in seen:
            raise ConfigError(f"{where}: duplicate item id `{item.id}`")
        seen.add(item.id)
        count += 1
        categories.add(item.category)
        languages.add(item.language)
        scorers.add(item.scorer.name)
        if item.scorer.args.get("judge"):
            judges.add(item.scorer.args["judge"])
        if item.is_agent_task:
            agent_items += 1
            _check_agent_item(item, folder, where)
            if item.user and item.user.model:
                user_models.add(item.user.model)
    if not count:
        raise ConfigError(f"suite `{name}` ({path}) has no items")
    return Suite(name=name, path=path, layout=layout, license=license, license_note=license_note,
                 sha256=sha256 or content_sha256(path), base_count=count, categories=tuple(sorted(categories)),
                 languages=tuple(sorted(languages)), options=(options or SuiteOptions()).model_dump(),
                 read=read if kept is None else kept.__iter__,
                 judges=tuple(sorted(judges)), scorers=tuple(sorted(scorers)), agent_items=agent_items,
                 user_models=tuple(sorted(user_models)))


def _check_agent_item(item: Item, folder: Path, where: str) -> None:
    """Before any call: the item's Python environment loads from the suite's folder and has every tool."""
    if item.environment is None:
        return
    try:
        check_environment(item.environment, folder, [tool.name for tool in item.tools])
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None


def _items(path: Path, layout: str, options: SuiteOptions) -> Iterator[tuple[str, Item]]:
    if layout in benchmarks.LAYOUTS:
        rows = ((f"{path.name} row {n}", raw) for n, raw in enumerate(benchmarks.load_benchmark(layout, path), 1))
    else:
        rows = formats.read_rows(path, layout)
    for where, raw in rows:
        try:
            raw = build_raw_item(raw, options)
        except ValueError as error:
            raise ConfigError(f"{where}: {error}") from None
        yield where, _validated(Item, raw, where)


def _validated(schema, raw: dict, where: str):
    try:
        return schema.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"{where}: {describe_validation_error(error, schema)}") from None


def _require_file(name: str, path: Path) -> None:
    if path.is_dir():
        raise UserError(f"suite `{name}`: {path} is a directory, not a file; {_file_in(path)}")
    if not path.is_file():
        raise NotFoundError(f"suite `{name}`: file {path} not found")


def _file_in(directory: Path) -> str:
    """What to give instead of a directory: one of its suite files, named if it has any."""
    try:
        files = sorted(p for p in directory.iterdir() if p.suffix.lower() in formats.SUITE_SUFFIXES and p.is_file())
    except OSError:  # not listable: advice without an example
        files = []
    what = ("give a .jsonl, .csv or .yaml suite file, or LAYOUT:PATH for a public benchmark's file or folder "
            f"({', '.join(benchmarks.LAYOUTS)})")
    return what + (f", e.g. {files[0]}" if files else "")


def content_sha256(path: Path) -> str:
    """The file's sha256; for a benchmark's folder, the sha256 of each file's relative path and sha256, in order."""
    if not path.is_dir():
        return file_sha256(path)
    listing = "".join(f"{file.relative_to(path).as_posix()}\0{file_sha256(file)}\n"
                      for file in benchmarks.benchmark_files(path))
    return hashlib.sha256(listing.encode()).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
