"""The default store: one SQLite file in WAL mode, each statement committed on its own unless in a transaction.

WAL with synchronous=NORMAL: a committed row survives kill -9 of the process (not a power cut, which may lose
the last few commits but never corrupts the file).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from gensandbox.errors import ConfigError
from gensandbox.store.database import now_utc
from gensandbox.store.migrations import MIGRATIONS
from gensandbox.store.sql import SQLStore, migrate

__all__ = ["MIGRATIONS", "SQLiteDatabase", "SQLiteStore", "migrate", "now_utc"]


class SQLiteDatabase:
    dialect = "sqlite"

    def __init__(self, path: Path):
        self.path, self.location = path, str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: transactions are ours (BEGIN IMMEDIATE takes the write lock up front).
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        except (OSError, sqlite3.DatabaseError) as error:
            raise ConfigError(f"cannot open the store {path}: {error}; check the path (GENSANDBOX_HOME, "
                              "GENSANDBOX_DATABASE_URL or [store] url)") from None

    def execute(self, sql: str, params: Sequence = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence]) -> None:
        self._db.executemany(sql, rows)

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


class SQLiteStore(SQLStore):
    """The store in one SQLite file, brought up to the current schema when opened."""

    def __init__(self, path: Path):
        super().__init__(SQLiteDatabase(path))
        self.path = path
        self.applied_migrations = migrate(self.db)
