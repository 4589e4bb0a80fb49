"""Reading suite files: JSONL, CSV and YAML, each row with where it came from (file and line).

Readers stream: a million-line JSONL or CSV file is never held in memory. YAML files are small by
nature (hand-written) and are read whole.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from gensandbox.errors import ConfigError

SUITE_SUFFIXES = {".jsonl": "jsonl", ".csv": "csv", ".yaml": "yaml", ".yml": "yaml"}
_LIST_SEPARATOR = "|"  # CSV cells that hold several targets or choices: "서울|Seoul"


def format_of(path: Path) -> str | None:
    return SUITE_SUFFIXES.get(path.suffix.lower())


def read_rows(path: Path, file_format: str) -> Iterator[tuple[str, dict]]:
    """Yield (where, raw item) for every row; `where` is "file line N" for error messages."""
    readers = {"jsonl": _jsonl_rows, "csv": _csv_rows, "yaml": _yaml_rows}
    yield from readers[file_format](path)


def read_yaml_header(path: Path) -> dict:
    """The suite-level options of a YAML suite (everything but `items`)."""
    document = _load_yaml(path)
    return {k: v for k, v in document.items() if k != "items"} if isinstance(document, dict) else {}


def _jsonl_rows(path: Path) -> Iterator[tuple[str, dict]]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path.name} line {number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ConfigError(f"{where}: not valid JSON ({error.msg} at column {error.colno})") from None
            if not isinstance(row, dict):
                raise ConfigError(f"{where}: each line must be a JSON object")
            yield where, row


def _csv_rows(path: Path) -> Iterator[tuple[str, dict]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            where = f"{path.name} line {reader.line_num}"
            if None in row:
                raise ConfigError(f"{where}: more cells than the header has columns")
            yield where, _csv_item(row)


def _csv_item(row: dict) -> dict:
    """Empty cells are absent; `target` and `choices` cells may list several values with |."""
    item = {k.strip(): v for k, v in row.items() if v not in (None, "")}
    for key in ("target", "choices"):
        if key in item and _LIST_SEPARATOR in item[key]:
            item[key] = [part.strip() for part in item[key].split(_LIST_SEPARATOR)]
    if "max_tokens" in item:
        item["max_tokens"] = int(item["max_tokens"]) if item["max_tokens"].isdigit() else item["max_tokens"]
    if "scorer_args" in item:
        item["scorer"] = {"name": item.get("scorer", ""), "args": json.loads(item.pop("scorer_args"))}
    return item


def _yaml_rows(path: Path) -> Iterator[tuple[str, dict]]:
    document = _load_yaml(path)
    items = document.get("items") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise ConfigError(f"{path.name}: a YAML suite is a list of items, or a mapping with an `items` list")
    for number, row in enumerate(items, start=1):
        where = f"{path.name} item {number}"
        if not isinstance(row, dict):
            raise ConfigError(f"{where}: each item must be a mapping of fields")
        yield where, row


def _load_yaml(path: Path):
    import yaml  # only YAML suites need it

    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path.name}{where}: not valid YAML: {getattr(error, 'problem', error)}") from None
