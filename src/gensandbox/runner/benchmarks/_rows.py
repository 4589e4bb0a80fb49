"""Reading benchmark files row by row, whatever the container: CSV/TSV, JSONL or a JSON array.

The container is chosen by the file's suffix (or, for other suffixes, by its first character), so any
layout may come in any of them. "row N" in errors and ids means the Nth data row after the header (CSV),
the line number (JSONL), or the 1-based position in the array (JSON).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gensandbox.errors import ConfigError
from gensandbox.runner.formats import readable_text


def row_error(file_name: str, number: int, what: str) -> ConfigError:
    """The one shape of every per-row error: "<file> row N: <what is wrong>"."""
    return ConfigError(f"{file_name} row {number}: {what}")


class Row:
    """One record plus where it came from, for error messages."""

    def __init__(self, data: dict, file_name: str, number: int, kind: str):
        self.data = data
        self.file_name = file_name
        self.number = number
        self.kind = kind  # "column" (CSV) or "field" (JSON)

    def fail(self, what: str) -> ConfigError:
        return row_error(self.file_name, self.number, what)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def get(self, *keys: str) -> Any:
        """The value of the first of `keys` present; None if none is."""
        for key in keys:
            if self.data.get(key) is not None:
                return self.data[key]
        return None

    def optional_text(self, *keys: str) -> str:
        """The first of `keys` as stripped text; "" when absent or empty (falsy values count as empty)."""
        return str(self.get(*keys) or "").strip()

    def require(self, *keys: str) -> Any:
        """The value of the first of `keys` present; the first key names what is missing."""
        value = self.get(*keys)
        if value is not None:
            return value
        # A CSV row always has every header column, so "missing value" tells an empty cell from an absent column.
        if any(key in self.data for key in keys):
            raise self.fail(f"missing value for `{keys[0]}`")
        raise self.fail(f"missing {self.kind} `{keys[0]}`")

    def text(self, *keys: str, allow_empty: bool = False) -> str:
        value = self.require(*keys)
        if isinstance(value, (dict, list)):
            raise self.fail(f"`{keys[0]}` must be text, got {type(value).__name__}")
        text = str(value).strip()
        if not text and not allow_empty:
            raise self.fail(f"`{keys[0]}` is empty")
        return text


def row_id(row: Row, layout: str) -> str:
    """The row's own `id` (or `ID`, as KoBEST's TSVs head it) if it has one, else "<layout>-<row number>"
    (stable across runs of the same file)."""
    own = row.get("id", "ID")
    if own is not None and str(own).strip():
        return str(own).strip()
    return f"{layout}-{row.number}"


def rows_of(path: Path) -> Iterator[Row]:
    """Every row, then ConfigError if there were none."""
    count = 0
    for row in records(path):
        count += 1
        yield row
    if not count:
        raise ConfigError(f"{path.name}: no rows")


def records(path: Path) -> Iterator[Row]:
    """The rows of `path`, read lazily; an empty file gives none."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return _csv_records(path, "\t" if suffix == ".tsv" else ",")
    if suffix in (".json", ".jsonl", ".ndjson"):
        return _json_records(path)
    return _json_records(path) if _first_char(path) in ("[", "{") else _csv_records(path, ",")


def _first_char(path: Path) -> str:
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        while True:
            char = handle.read(1)
            if not char or not char.isspace():
                return char


def _csv_records(path: Path, delimiter: str) -> Iterator[Row]:
    with readable_text(path):
        try:
            yield from _csv_rows(path, delimiter)
        except csv.Error as error:
            raise ConfigError(f"{path.name}: not readable as CSV ({error})") from None


def _csv_rows(path: Path, delimiter: str) -> Iterator[Row]:
    # utf-8-sig drops the BOM that Excel writes, which would otherwise stick to the first column's name.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            return
        header = [name.strip() for name in header]
        for number, values in enumerate(reader, start=1):
            if not any(value.strip() for value in values):
                continue
            # Short rows still carry every column (as None), so `require` can say "missing value" for them.
            data: dict[str, Any] = {name: None for name in header if name}
            data.update({name: value for name, value in zip(header, values, strict=False) if name})
            yield Row(data, path.name, number, "column")


def _json_records(path: Path) -> Iterator[Row]:
    with readable_text(path):
        if _first_char(path) == "[":
            yield from _json_array(path)
        else:
            yield from _json_lines(path)


def _json_lines(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                hint = "; expected one JSON object a line or a JSON array of objects" if number == 1 else ""
                raise row_error(
                    path.name, number, f"not valid JSON ({error.msg} at column {error.colno}){hint}"
                ) from None
            yield _object_row(record, path.name, number)


def _json_array(path: Path) -> Iterator[Row]:
    # A JSON array cannot be parsed piecemeal with the standard library, so it is read whole.
    with path.open(encoding="utf-8-sig") as handle:
        try:
            records = json.load(handle)
        except json.JSONDecodeError as error:
            raise ConfigError(
                f"{path.name}: not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
            ) from None
    for number, record in enumerate(records, start=1):
        yield _object_row(record, path.name, number)


def _object_row(record: Any, file_name: str, number: int) -> Row:
    if not isinstance(record, dict):
        raise row_error(file_name, number, f"expected an object with fields, got {type(record).__name__}")
    return Row(record, file_name, number, "field")
