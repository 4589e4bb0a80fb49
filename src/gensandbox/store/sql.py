"""Runs, samples and the response cache in SQL tables: the same code on SQLite and on PostgreSQL.

A row is committed as soon as its call finishes, so an interrupted or killed run keeps every finished item,
and (run, model, suite, item, epoch) is unique, so a resumed run can never record an item twice. JSON fields
are TEXT in both engines, encoded the same way, so a store copied from one engine to the other is the same
bytes. Schema changes are the ordered, named migrations of `migrations.py`, recorded in `_migrations`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, fields

from gensandbox.canonical import now_utc
from gensandbox.db.base import Database
from gensandbox.errors import DuplicateRecordError, NotFoundError, UserError
from gensandbox.store.base import RunRecord, SampleRecord, ScoreRow
from gensandbox.store.migrations import MIGRATIONS

_JSON_RUN_FIELDS = ("models", "suites", "settings")
_JSON_SAMPLE_FIELDS = ("request", "scorer", "flags", "judge_call", "episode")
_RUN_COLUMNS = [f.name for f in fields(RunRecord)]
_SAMPLE_COLUMNS = [f.name for f in fields(SampleRecord)]
_SCORE_COLUMNS = [f.name for f in fields(ScoreRow)]
_INSERT_RUN = (f"INSERT INTO runs ({', '.join(_RUN_COLUMNS)}) VALUES ({', '.join('?' for _ in _RUN_COLUMNS)}) "
               "ON CONFLICT (run_id) DO NOTHING")
_INSERT_SAMPLE = (f"INSERT INTO samples ({', '.join(_SAMPLE_COLUMNS)}, created_at) "
                  f"VALUES ({', '.join('?' for _ in _SAMPLE_COLUMNS)}, ?) "
                  "ON CONFLICT (run_id, model, suite, item_id, epoch) DO NOTHING")
_SELECT_RUNS = f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs"
_BOOKKEEPING = "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"


class SQLStore:
    """The `Store` and `ResponseCache` of GenSandbox over any `Database`."""

    def __init__(self, db: Database):
        self.db = db
        self.location = db.location
        self.applied_migrations: list[str] = []  # what opening the store took (see SQLiteStore, PostgresStore)

    def close(self) -> None:
        self.db.close()

    def transaction(self) -> AbstractContextManager[None]:
        """Several writes, one commit: all of them are durable together, or none is."""
        return self.db.transaction()

    # runs

    def create_run(self, run: RunRecord) -> None:
        row = _encode(asdict(run), _JSON_RUN_FIELDS)
        # DO NOTHING and a row count, not the engine's own IntegrityError: the same check on both engines.
        if self.db.execute(_INSERT_RUN, tuple(row[name] for name in _RUN_COLUMNS)).rowcount == 0:
            raise UserError(f"run id `{run.run_id}` already exists; choose another --run-id")

    def set_run_status(self, run_id: str, status: str) -> None:
        finished_at = None if status == "running" else now_utc()
        self.db.execute("UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?", (status, finished_at, run_id))

    def get_run(self, run_id: str) -> RunRecord:
        row = self.db.execute(f"{_SELECT_RUNS} WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no run `{run_id}` in {self.location}; `gensandbox runs` lists them")
        return _run_from_row(row)

    def list_runs(self) -> list[RunRecord]:
        rows = self.db.execute(f"{_SELECT_RUNS} ORDER BY created_at DESC, run_id DESC").fetchall()
        return [_run_from_row(row) for row in rows]

    # samples

    def add_sample(self, sample: SampleRecord) -> None:
        # Field by field, not dataclasses.asdict: that deep-copies every nested dict, on the hot path.
        row = _encode({name: getattr(sample, name) for name in _SAMPLE_COLUMNS}, _JSON_SAMPLE_FIELDS)
        if self.db.execute(_INSERT_SAMPLE, (*row.values(), now_utc())).rowcount == 0:
            raise DuplicateRecordError(f"run `{sample.run_id}` already holds {sample.model} / {sample.suite} / "
                                       f"{sample.item_id} epoch {sample.epoch}; a sample is stored once (is "
                                       "another process resuming the same run?)")

    def count_samples(self, run_id: str) -> int:
        return self.db.execute("SELECT count(*) FROM samples WHERE run_id = ?", (run_id,)).fetchone()[0]

    def samples(self, run_id: str) -> Iterator[SampleRecord]:
        rows = self.db.stream(f"SELECT {', '.join(_SAMPLE_COLUMNS)} FROM samples WHERE run_id = ? ORDER BY id",
                              (run_id,))
        for row in rows:
            yield SampleRecord(**_decode(dict(zip(_SAMPLE_COLUMNS, row, strict=True)), _JSON_SAMPLE_FIELDS))

    def score_rows(self, run_id: str) -> Iterator[ScoreRow]:
        """Grouped by item (its epochs together), so statistics can stream without holding the run."""
        rows = self.db.stream(f"SELECT {', '.join(_SCORE_COLUMNS)} FROM samples WHERE run_id = ? "
                              "ORDER BY model, suite, item_id, epoch", (run_id,))
        for row in rows:
            yield ScoreRow(*row)

    def call_keys(self, run_id: str | None = None) -> Iterator[tuple[str, str, str, str, int]]:
        """(run, model, suite, item, epoch) of each sample a model call made (not an answer from the cache), of one
        run or of every run, streamed: the samples the ledger must hold a call event for."""
        where, params = ("cached = 0 AND run_id = ?", (run_id,)) if run_id is not None else ("cached = 0", ())
        return self.db.stream(f"SELECT run_id, model, suite, item_id, epoch FROM samples WHERE {where}", params)

    def judge_keys(self, run_id: str | None = None) -> Iterator[tuple[str, str, str, str, int]]:
        """(run, model, suite, item, epoch) of each sample a judge call graded: its judge event must be in the ledger
        too (beside the sample's own call event, if the answer was not from the cache)."""
        where, params = ("judge_call IS NOT NULL AND run_id = ?", (run_id,)) if run_id is not None else (
            "judge_call IS NOT NULL", ())
        return self.db.stream(f"SELECT run_id, model, suite, item_id, epoch FROM samples WHERE {where}", params)

    def judged_samples(self, run_id: str) -> Iterator[SampleRecord]:
        """A run's samples that a judge call graded."""
        rows = self.db.stream(f"SELECT {', '.join(_SAMPLE_COLUMNS)} FROM samples WHERE run_id = ? "
                              "AND judge_call IS NOT NULL ORDER BY id", (run_id,))
        for row in rows:
            yield SampleRecord(**_decode(dict(zip(_SAMPLE_COLUMNS, row, strict=True)), _JSON_SAMPLE_FIELDS))

    def called_samples(self, run_id: str) -> Iterator[tuple[SampleRecord, str]]:
        """A run's samples that a model call made, each with the time it was stored."""
        rows = self.db.stream(f"SELECT {', '.join(_SAMPLE_COLUMNS)}, created_at FROM samples WHERE run_id = ? "
                              "AND cached = 0 ORDER BY id", (run_id,))
        for *row, stored_at in rows:
            yield SampleRecord(**_decode(dict(zip(_SAMPLE_COLUMNS, row, strict=True)), _JSON_SAMPLE_FIELDS)), stored_at

    def done_keys(self, run_id: str) -> set[tuple[str, str, str, int]]:
        cursor = self.db.execute("SELECT model, suite, item_id, epoch FROM samples WHERE run_id = ?", (run_id,))
        return {tuple(row) for row in cursor}

    # response cache

    def get(self, key: str) -> dict | None:
        row = self.db.execute("SELECT value FROM response_cache WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: dict) -> None:
        self.db.execute("INSERT INTO response_cache (key, value, created_at) VALUES (?, ?, ?) ON CONFLICT (key) "
                        "DO UPDATE SET value = excluded.value, created_at = excluded.created_at",
                        (key, json.dumps(value, ensure_ascii=False), now_utc()))


def pending_migrations(db: Database) -> list[str]:
    if not db.columns("_migrations"):
        return [name for name, _ in MIGRATIONS]
    applied = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    return [name for name, _ in MIGRATIONS if name not in applied]


def migrate(db: Database) -> list[str]:
    """Apply the pending migrations; their names. Several processes may start at once: the check is repeated
    inside an exclusive transaction, so each migration is applied exactly once, and all of them or none."""
    if not pending_migrations(db):
        return []  # the usual case, without taking the write lock
    with db.transaction(exclusive=True):
        db.execute(db.schema(_BOOKKEEPING))
        pending = pending_migrations(db)
        for name, statements in MIGRATIONS:
            if name not in pending:
                continue
            for statement in statements:
                db.execute(db.schema(statement))
            db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, now_utc()))
    return pending


def _encode(row: dict, json_fields: tuple[str, ...]) -> dict:
    # None stays SQL NULL (not the text "null"), so `judge_call IS NOT NULL` finds the samples a judge graded.
    return {k: json.dumps(v, ensure_ascii=False) if k in json_fields and v is not None else v
            for k, v in row.items()}


def _decode(row: dict, json_fields: tuple[str, ...]) -> dict:
    return {k: json.loads(v) if k in json_fields and v is not None else v for k, v in row.items()}


def _run_from_row(row: tuple) -> RunRecord:
    return RunRecord(**_decode(dict(zip(_RUN_COLUMNS, row, strict=True)), _JSON_RUN_FIELDS))
