"""Reading suite files: JSONL, CSV and YAML, each row with where it came from (file and line).

Readers stream: a million-line JSONL or CSV file is never held in memory. YAML files are small by
nature (hand-written) and are read whole.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gensandbox.errors import ConfigError

SUITE_SUFFIXES = {".jsonl": "jsonl", ".csv": "csv", ".yaml": "yaml", ".yml": "yaml"}
_LIST_SEPARATOR = "|"  # CSV cells that hold several targets or choices: "서울|Seoul"


def format_of(path: Path) -> str | None:
    return SUITE_SUFFIXES.get(path.suffix.lower())


def read_rows(path: Path, file_format: str) -> Iterator[tuple[str, dict]]:
    """Yield (where, raw item) for every row; `where` is "file line N" for error messages."""
    readers = {"jsonl": _jsonl_rows, "csv": _csv_rows, "yaml": _yaml_rows}
    with readable_text(path):
        yield from readers[file_format](path)


def read_yaml_header(path: Path) -> dict:
    """The suite-level options of a YAML suite (everything but `items`)."""
    with readable_text(path):
        document = _load_yaml(path)
    return {k: v for k, v in document.items() if k != "items"} if isinstance(document, dict) else {}


@contextmanager
def readable_text(path: Path) -> Iterator[None]:
    """Reading `path` as UTF-8 text: a file that is not (a binary file, text saved as UTF-16 or a legacy code
    page) or cannot be read becomes one ConfigError that names the file and the fix, never a crash."""
    try:
        yield
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path.name}: {_not_utf8(path, error)}") from None
    except OSError as error:  # unreadable: permissions, a file removed while being read, an I/O error
        raise ConfigError(f"{path.name}: cannot be read ({error.strerror or error})") from None


def _not_utf8(path: Path, error: UnicodeDecodeError) -> str:
    """What is wrong and how to fix it."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8192)
            handle.seek(0)
            where = _first_undecodable(handle) or error.reason
    except OSError:
        head, where = b"", error.reason
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "saved as UTF-16, not UTF-8; save it as UTF-8"
    if b"\0" in head:
        return (f"not text ({where}; it holds NUL bytes: a binary file, or UTF-16 without a byte-order mark); "
                "give a text file saved as UTF-8")
    return f"not UTF-8 text ({where}); save it as UTF-8"


def _first_undecodable(handle) -> str:
    """Where the first byte that is not UTF-8 is, as "<reason> at line L, byte B"; "" if none is. A decoding
    error's own `start` counts from the decoder's last chunk, not from the start of the file, so the place is
    found again here, line by line (a newline byte never sits inside a UTF-8 sequence)."""
    offset = 0
    for number, line in enumerate(handle, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as bad:
            return f"{bad.reason} at line {number}, byte {offset + bad.start}"
        offset += len(line)
    return ""


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
        rows = iter(reader)
        while True:
            try:
                row = next(rows, None)
            except csv.Error as error:  # e.g. a cell over the csv module's size limit (131072 characters)
                raise ConfigError(f"{path.name} line {reader.line_num + 1}: not readable as CSV ({error}); very "
                                  "long prompts fit better in a .jsonl suite") from None
            if row is None:
                return
            where = f"{path.name} line {reader.line_num}"
            if None in row:
                raise ConfigError(f"{where}: more cells than the header has columns")
            yield where, _csv_item(row, where)


def _csv_item(row: dict, where: str) -> dict:
    """Empty cells are absent; `target` and `choices` cells may list several values with |."""
    item = {k.strip(): v for k, v in row.items() if v not in (None, "")}
    for key in ("target", "choices"):
        if key in item and _LIST_SEPARATOR in item[key]:
            item[key] = [part.strip() for part in item[key].split(_LIST_SEPARATOR)]
    if "max_tokens" in item:
        item["max_tokens"] = int(item["max_tokens"]) if item["max_tokens"].isdigit() else item["max_tokens"]
    if "scorer_args" in item:
        try:
            args = json.loads(item.pop("scorer_args"))
        except json.JSONDecodeError as error:
            raise ConfigError(f"{where}: `scorer_args` is not valid JSON ({error.msg} at column {error.colno}); "
                              'write one JSON object, e.g. {"pattern": "^yes"}') from None
        item["scorer"] = {"name": item.get("scorer", ""), "args": args}
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
