"""The default store: one SQLite file in WAL mode, one committed row per model call.

A row is committed as soon as its call finishes, so an interrupted run keeps every finished item.
Schema changes are an ordered list of named migrations recorded in `_migrations`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import asdict, fields
from datetime import UTC, datetime
from pathlib import Path

from gensandbox.errors import NotFoundError, UserError
from gensandbox.store.base import RunRecord, SampleRecord


def _create_runs_and_samples(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            models TEXT NOT NULL,
            suites TEXT NOT NULL,
            settings TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE samples (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            model TEXT NOT NULL,
            suite TEXT NOT NULL,
            item_id TEXT NOT NULL,
            category TEXT NOT NULL,
            language TEXT NOT NULL,
            request TEXT NOT NULL,
            response_text TEXT,
            finish_reason TEXT,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            latency_s REAL,
            cost_usd REAL NOT NULL,
            score REAL,
            scorer TEXT NOT NULL,
            reason TEXT NOT NULL,
            error TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (run_id, model, suite, item_id)
        )
        """
    )


MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("001_runs_and_samples", _create_runs_and_samples),
]

_JSON_RUN_FIELDS = ("models", "suites", "settings")
_JSON_SAMPLE_FIELDS = ("request", "scorer")


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SQLiteStore:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        migrate(self._db)

    def close(self) -> None:
        self._db.close()

    def create_run(self, run: RunRecord) -> None:
        row = _encode(asdict(run), _JSON_RUN_FIELDS)
        try:
            self._insert("runs", row)
        except sqlite3.IntegrityError:
            raise UserError(f"run id `{run.run_id}` already exists; choose another --run-id") from None

    def add_sample(self, sample: SampleRecord) -> None:
        row = _encode(asdict(sample), _JSON_SAMPLE_FIELDS) | {"created_at": now_utc()}
        self._insert("samples", row)

    def finish_run(self, run_id: str, status: str) -> None:
        self._db.execute("UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?",
                         (status, now_utc(), run_id))

    def get_run(self, run_id: str) -> RunRecord:
        row = self._db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no run `{run_id}` in {self.path}; `gensandbox runs` lists them")
        return _run_from_row(row)

    def list_runs(self) -> list[RunRecord]:
        rows = self._db.execute("SELECT * FROM runs ORDER BY created_at DESC, run_id DESC").fetchall()
        return [_run_from_row(row) for row in rows]

    def count_samples(self, run_id: str) -> int:
        return self._db.execute("SELECT count(*) FROM samples WHERE run_id = ?", (run_id,)).fetchone()[0]

    def samples(self, run_id: str) -> Iterator[SampleRecord]:
        names = [f.name for f in fields(SampleRecord)]
        cursor = self._db.execute(f"SELECT {', '.join(names)} FROM samples WHERE run_id = ? ORDER BY id",
                                  (run_id,))
        for row in cursor:
            yield SampleRecord(**_decode(dict(row), _JSON_SAMPLE_FIELDS))

    def _insert(self, table: str, row: dict) -> None:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self._db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))


def migrate(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    applied = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    for name, apply in MIGRATIONS:
        if name in applied:
            continue
        db.execute("BEGIN")
        apply(db)
        db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, now_utc()))
        db.execute("COMMIT")


def _encode(row: dict, json_fields: tuple[str, ...]) -> dict:
    return {k: json.dumps(v, ensure_ascii=False) if k in json_fields else v for k, v in row.items()}


def _decode(row: dict, json_fields: tuple[str, ...]) -> dict:
    return {k: json.loads(v) if k in json_fields and v is not None else v for k, v in row.items()}


def _run_from_row(row: sqlite3.Row) -> RunRecord:
    return RunRecord(**_decode(dict(row), _JSON_RUN_FIELDS))
