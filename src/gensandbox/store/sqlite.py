"""The default store: one SQLite file (see db/sqlite.py), each statement committed on its own unless in a
transaction."""

from __future__ import annotations

from pathlib import Path

from gensandbox.db.sqlite import SQLiteDatabase
from gensandbox.store.migrations import MIGRATIONS
from gensandbox.store.sql import SQLStore, migrate

__all__ = ["MIGRATIONS", "SQLiteStore", "migrate"]


class SQLiteStore(SQLStore):
    """The store in one SQLite file, brought up to the current schema when opened."""

    def __init__(self, path: Path):
        super().__init__(SQLiteDatabase(path))
        self.path = path
        self.applied_migrations = migrate(self.db)
