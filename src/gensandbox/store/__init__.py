"""Where runs and samples live: SQLite by default."""

from gensandbox.store.base import RunRecord, SampleRecord, Store
from gensandbox.store.sqlite import SQLiteStore

__all__ = ["RunRecord", "SQLiteStore", "SampleRecord", "Store"]
