"""Moving the whole ledger between machines in open formats, without loss.

JSONL: one record per line, the stored bytes as they are. Parquet: one row per record, with the same bytes
in the `record` column (what verification reads) beside a few plain columns for analysis (time, kind, model,
cost, session). Either way an import re-creates the ledger byte for byte, so it verifies as the original did.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from gensandbox.errors import ConfigError, NotFoundError

FORMATS = ("jsonl", "parquet")
_ROWS_PER_GROUP = 50_000
_SCHEMA = pa.schema([
    ("seq", pa.int64()), ("hash", pa.string()), ("kind", pa.string()), ("time", pa.string()),
    ("model", pa.string()), ("cost_usd", pa.float64()), ("session", pa.string()), ("record", pa.binary()),
])


def export_format(path: Path, chosen: str | None) -> str:
    """--format, or what the file name says."""
    fmt = chosen or path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ConfigError(f"cannot tell the export format from {path.name!r}; pass --format jsonl or parquet")
    return fmt


def write_export(lines: Iterable[bytes], path: Path, fmt: str) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return _write_parquet(lines, path) if fmt == "parquet" else _write_jsonl(lines, path)


def read_export(path: Path) -> Iterator[bytes]:
    """The record lines of an export, in file order; a Parquet file is told from JSONL by its magic bytes."""
    if not path.is_file():
        raise NotFoundError(f"export file {path} not found")
    with open(path, "rb") as file:
        is_parquet = file.read(4) == b"PAR1"
    return _read_parquet(path) if is_parquet else _read_jsonl(path)


def _write_jsonl(lines: Iterable[bytes], path: Path) -> int:
    count = 0
    with open(path, "wb") as file:
        for line in lines:
            file.write(line + b"\n")
            count += 1
    return count


def _read_jsonl(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as file:
        for line in file:
            yield line.rstrip(b"\n")


def _write_parquet(lines: Iterable[bytes], path: Path) -> int:
    count = 0
    with pq.ParquetWriter(path, _SCHEMA) as writer:
        batch: list[bytes] = []
        for line in lines:
            batch.append(line)
            if len(batch) >= _ROWS_PER_GROUP:
                writer.write_table(_table(batch))
                count, batch = count + len(batch), []
        if batch or count == 0:
            writer.write_table(_table(batch))
            count += len(batch)
    return count


def _table(lines: list[bytes]) -> pa.Table:
    columns: dict[str, list] = {name: [] for name in _SCHEMA.names}
    for line in lines:
        record = _loads_or_none(line)
        columns["seq"].append(record.get("seq") if isinstance(record.get("seq"), int) else None)
        columns["hash"].append(_text(record.get("hash")))
        columns["kind"].append(_text(record.get("kind")))
        columns["time"].append(_text(record.get("time")))
        columns["model"].append(_text(record.get("gen_ai.response.model")))
        cost = record.get("gensandbox.cost_usd")
        columns["cost_usd"].append(float(cost) if isinstance(cost, int | float) else None)
        columns["session"].append(_text(record.get("gen_ai.conversation.id")))
        columns["record"].append(line)
    return pa.table(columns, schema=_SCHEMA)


def _loads_or_none(line: bytes) -> dict:
    # The plain columns are a convenience; the `record` bytes are kept even when they do not parse,
    # so that verify (not the exporter) is what reports a damaged record.
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return {}
    return record if isinstance(record, dict) else {}


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _read_parquet(path: Path) -> Iterator[bytes]:
    parquet = pq.ParquetFile(path)
    if "record" not in parquet.schema_arrow.names:
        raise ConfigError(f"{path} is a Parquet file but not a GenSandbox ledger export (no `record` column)")
    for batch in parquet.iter_batches(columns=["record"], batch_size=_ROWS_PER_GROUP):
        yield from batch.column(0).to_pylist()
