"""The default ledger backend: one SQLite file in WAL mode with full durability (each commit is on disk before
`append` returns; see db/sqlite.py).
Writers commit in groups, so the fsync is paid once per batch, not once per event."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gensandbox.db.sqlite import connect
from gensandbox.errors import ConfigError
from gensandbox.ledger.base import READ_BATCH, newest_pages
from gensandbox.ledger.events import Head, Record, plan_append

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ledger (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, kind TEXT NOT NULL, "
    "session TEXT, record BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ledger_session ON ledger (session) WHERE session IS NOT NULL",
)
_INSERT = "INSERT INTO ledger (seq, hash, kind, session, record) VALUES (?, ?, ?, ?, ?)"


class SQLiteLedger:
    def __init__(self, path: Path):
        self.location = str(path)
        # BEGIN IMMEDIATE (ours) takes the write lock before reading the head.
        self._db = connect(path, synchronous="FULL", timeout_s=60)
        self._lock = threading.Lock()
        for statement in _SCHEMA:
            self._db.execute(statement)

    def append(self, contents: list[dict], checkpoint: Callable[[Head], dict] | None = None) -> list[Record]:
        with self._writing():
            row = self._db.execute("SELECT seq, hash, kind FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
            head, kind = (Head(row[0], row[1]), row[2]) if row else (Head(), None)
            records = plan_append(contents, head, kind, checkpoint)
            self._db.executemany(_INSERT, [(r.seq, r.hash, r.kind, r.session, r.line) for r in records])
        return records

    def head(self) -> Head:
        with self._lock:
            row = self._db.execute("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
        return Head(row[0], row[1]) if row else Head()

    def lines(self, after_seq: int = 0) -> Iterator[bytes]:
        """In order, a batch at a time, so a ledger of millions is never all in memory."""
        while True:
            with self._lock:
                rows = self._db.execute("SELECT seq, record FROM ledger WHERE seq > ? ORDER BY seq LIMIT ?",
                                        (after_seq, READ_BATCH)).fetchall()
            if not rows:
                return
            for _, record in rows:
                yield bytes(record)
            after_seq = rows[-1][0]

    def session_lines(self, session: str) -> Iterator[bytes]:
        with self._lock:
            rows = self._db.execute("SELECT record FROM ledger WHERE session = ? ORDER BY seq", (session,)).fetchall()
        return (bytes(row[0]) for row in rows)

    def newest_lines(self, kinds: tuple[str, ...]) -> Iterator[bytes]:
        # By the primary key, backwards, filtering on `kind`: no index on kind is kept, since the kinds read
        # (calls, refusals) are nearly every record and an index would cost every append.
        query = (f"SELECT seq, record FROM ledger WHERE kind IN ({', '.join('?' for _ in kinds)}) AND seq < ? "
                 "ORDER BY seq DESC LIMIT ?")

        def fetch(before: int, limit: int) -> list[tuple[int, bytes]]:
            with self._lock:
                return self._db.execute(query, (*kinds, before, limit)).fetchall()

        return newest_pages(fetch)

    def import_records(self, records: Iterable[Record]) -> int:
        count = 0
        with self._writing():  # the write lock is taken before the emptiness check: no writer slips in between
            if self._db.execute("SELECT 1 FROM ledger LIMIT 1").fetchone():
                raise ConfigError(f"the ledger at {self.location} already has records; import into an empty "
                                  "one (set GENSANDBOX_HOME or [ledger] url to a new place)")
            batch = []
            for record in records:
                batch.append((record.seq, record.hash, record.kind, record.session, record.line))
                if len(batch) >= READ_BATCH:
                    self._db.executemany(_INSERT, batch)
                    count, batch = count + len(batch), []
            self._db.executemany(_INSERT, batch)
            count += len(batch)
        return count

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write transaction, holding SQLite's write lock from its first statement (BEGIN IMMEDIATE)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a failed COMMIT may already have ended it
                    self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()
