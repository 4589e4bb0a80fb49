"""The default store: one SQLite file in WAL mode, one committed row per model call.

A row is committed as soon as its call finishes, so an interrupted or killed run keeps every
finished item, and (run, model, suite, item, epoch) is unique, so a resumed run can never record an
item twice. Schema changes are an ordered list of named migrations recorded in `_migrations`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from datetime import UTC, datetime
from pathlib import Path

from gensandbox.errors import NotFoundError, UserError
from gensandbox.store.base import RunRecord, SampleRecord, ScoreRow
from gensandbox.store.migrations import MIGRATIONS

_JSON_RUN_FIELDS = ("models", "suites", "settings")
_JSON_SAMPLE_FIELDS = ("request", "scorer", "flags")
_SAMPLE_COLUMNS = [f.name for f in fields(SampleRecord)]
_SCORE_COLUMNS = [f.name for f in fields(ScoreRow)]


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SQLiteStore:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a committed row survives kill -9
        self._db.execute("PRAGMA busy_timeout=5000")
        migrate(self._db)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes, one commit: all of them are durable together, or none is."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # runs

    def create_run(self, run: RunRecord) -> None:
        try:
            self._insert("runs", _encode(asdict(run), _JSON_RUN_FIELDS))
        except sqlite3.IntegrityError:
            raise UserError(f"run id `{run.run_id}` already exists; choose another --run-id") from None

    def set_run_status(self, run_id: str, status: str) -> None:
        finished_at = None if status == "running" else now_utc()
        self._db.execute("UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?",
                         (status, finished_at, run_id))

    def get_run(self, run_id: str) -> RunRecord:
        row = self._db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no run `{run_id}` in {self.path}; `gensandbox runs` lists them")
        return _run_from_row(row)

    def list_runs(self) -> list[RunRecord]:
        rows = self._db.execute("SELECT * FROM runs ORDER BY created_at DESC, run_id DESC").fetchall()
        return [_run_from_row(row) for row in rows]

    # samples

    def add_sample(self, sample: SampleRecord) -> None:
        # Field by field, not dataclasses.asdict: that deep-copies every nested dict, on the hot path.
        row = _encode({name: getattr(sample, name) for name in _SAMPLE_COLUMNS}, _JSON_SAMPLE_FIELDS)
        self._insert("samples", row | {"created_at": now_utc()})

    def count_samples(self, run_id: str) -> int:
        return self._db.execute("SELECT count(*) FROM samples WHERE run_id = ?", (run_id,)).fetchone()[0]

    def samples(self, run_id: str) -> Iterator[SampleRecord]:
        for row in self._select(_SAMPLE_COLUMNS, run_id):
            yield SampleRecord(**_decode(dict(row), _JSON_SAMPLE_FIELDS))

    def score_rows(self, run_id: str) -> Iterator[ScoreRow]:
        """Grouped by item (its epochs together), so statistics can stream without holding the run."""
        cursor = self._db.cursor().execute(
            f"SELECT {', '.join(_SCORE_COLUMNS)} FROM samples WHERE run_id = ? "
            "ORDER BY model, suite, item_id, epoch", (run_id,))
        for row in cursor:
            yield ScoreRow(*row)

    def done_keys(self, run_id: str) -> set[tuple[str, str, str, int]]:
        cursor = self._db.execute("SELECT model, suite, item_id, epoch FROM samples WHERE run_id = ?", (run_id,))
        return {tuple(row) for row in cursor}

    # response cache

    def get(self, key: str) -> dict | None:
        row = self._db.execute("SELECT value FROM response_cache WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: dict) -> None:
        self._db.execute("INSERT OR REPLACE INTO response_cache (key, value, created_at) VALUES (?, ?, ?)",
                         (key, json.dumps(value, ensure_ascii=False), now_utc()))

    def _select(self, columns: list[str], run_id: str):
        # A separate cursor per query: callers may interleave reads with writes.
        return self._db.cursor().execute(
            f"SELECT {', '.join(columns)} FROM samples WHERE run_id = ? ORDER BY id", (run_id,))

    def _insert(self, table: str, row: dict) -> None:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self._db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))


def migrate(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    applied = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    for name, statements in MIGRATIONS:
        if name in applied:
            continue
        db.execute("BEGIN IMMEDIATE")
        if db.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
            db.execute("ROLLBACK")  # another process applied it while we waited for the lock
            continue
        for statement in statements:
            db.execute(statement)
        db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, now_utc()))
        db.execute("COMMIT")


def _encode(row: dict, json_fields: tuple[str, ...]) -> dict:
    return {k: json.dumps(v, ensure_ascii=False) if k in json_fields else v for k, v in row.items()}


def _decode(row: dict, json_fields: tuple[str, ...]) -> dict:
    return {k: json.loads(v) if k in json_fields and v is not None else v for k, v in row.items()}


def _run_from_row(row: sqlite3.Row) -> RunRecord:
    return RunRecord(**_decode(dict(row), _JSON_RUN_FIELDS))
