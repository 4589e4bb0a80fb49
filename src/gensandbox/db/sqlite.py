"""SQLite connections for the store and the ledger: WAL mode, transactions begun by us (BEGIN IMMEDIATE takes
the write lock up front), usable from any thread (callers hold their own locks).

The store runs with synchronous=NORMAL: a committed row survives kill -9 of the process (not a power cut, which
may lose the last few commits but never corrupts the file). The ledger runs with synchronous=FULL: each commit
is on disk before it returns.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from gensandbox.db.base import duplicate
from gensandbox.errors import ConfigError

__all__ = ["SQLiteDatabase", "connect"]


def connect(path: Path, synchronous: Literal["NORMAL", "FULL"], timeout_s: float) -> sqlite3.Connection:
    """A connection to the file at `path` (created with its folder if missing), in WAL mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: transactions are ours. check_same_thread=False: callers serialise access themselves.
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=timeout_s)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    return db


class SQLiteDatabase:
    dialect = "sqlite"

    def __init__(self, path: Path):
        self.path, self.location = path, str(path)
        try:
            self._db = connect(path, synchronous="NORMAL", timeout_s=5.0)
        except (OSError, sqlite3.DatabaseError) as error:
            raise ConfigError(f"cannot open the store {path}: {error}; check the path (GENSANDBOX_HOME, "
                              "GENSANDBOX_DATABASE_URL or [store] url)") from None

    def execute(self, sql: str, params: Sequence = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.IntegrityError as error:
            raise duplicate(error) from None

    def executemany(self, sql: str, rows: Iterable[Sequence]) -> None:
        try:
            self._db.executemany(sql, rows)
        except sqlite3.IntegrityError as error:
            raise duplicate(error) from None

    def stream(self, sql: str, params: Sequence = ()) -> Iterator[tuple]:
        # A cursor of its own, read lazily: callers may interleave reads with writes.
        yield from self._db.cursor().execute(sql, params)

    @contextmanager
    def transaction(self, exclusive: bool = False) -> Iterator[None]:
        # BEGIN IMMEDIATE already excludes every other writer, so `exclusive` asks for nothing more.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:  # a failed COMMIT (a busy database) leaves it open; a rollback ends it
                self._db.execute("ROLLBACK")
            raise

    def schema(self, statement: str) -> str:
        return statement

    def columns(self, table: str) -> list[str]:
        return [row[1] for row in self._db.execute("SELECT * FROM pragma_table_info(?)", (table,))]

    def close(self) -> None:
        self._db.close()
