"""Database connections and addresses, for the store and the ledger alike: SQLite (db/sqlite.py) and PostgreSQL
(db/postgres.py, imported only when an address names it), and `Database`, the store's boundary to either."""

from gensandbox.db.base import Cursor, Database
from gensandbox.db.urls import address_without_password, is_postgres, parse_database_url

__all__ = ["Cursor", "Database", "address_without_password", "is_postgres", "parse_database_url"]
