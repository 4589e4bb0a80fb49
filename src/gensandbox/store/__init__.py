"""Where runs and samples live: a SQLite file by default, or a PostgreSQL database shared by several processes."""

from gensandbox.store.base import ResponseCache, RunRecord, SampleRecord, ScoreRow, Store
from gensandbox.store.opening import open_store, store_at
from gensandbox.store.sql import SQLStore
from gensandbox.store.sqlite import SQLiteStore

__all__ = ["ResponseCache", "RunRecord", "SQLStore", "SQLiteStore", "SampleRecord", "ScoreRow", "Store", "open_store",
           "store_at"]
