"""Where runs and samples live: SQLite by default."""

from gensandbox.store.base import ResponseCache, RunRecord, SampleRecord, ScoreRow, Store
from gensandbox.store.sqlite import SQLiteStore

__all__ = ["ResponseCache", "RunRecord", "SQLiteStore", "SampleRecord", "ScoreRow", "Store"]
