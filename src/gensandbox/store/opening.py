"""Which store a command opens: the SQLite file in GENSANDBOX_HOME, or the database that
GENSANDBOX_DATABASE_URL or [store] url names (`sqlite:///PATH` or `postgresql://USER@HOST:PORT/DB`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gensandbox.db.urls import parse_database_url
from gensandbox.errors import MissingDependencyError, NotFoundError
from gensandbox.store.sql import SQLStore

if TYPE_CHECKING:
    from gensandbox.config import Config

def open_store(config: Config) -> SQLStore:
    """The configured store, brought up to the current schema."""
    return store_at(config.database_url)


def store_at(url: str, must_exist: bool = False) -> SQLStore:
    """`url`: sqlite:///PATH (four slashes for an absolute path), postgresql://…, or a plain file path. The
    store is brought up to the current schema; `applied_migrations` names what that took. `must_exist`: a
    SQLite file that is not there is an error, not a new empty store (a source to copy from)."""
    kind, where = parse_database_url(url, "store")
    if kind == "sqlite":
        from gensandbox.store.sqlite import SQLiteStore

        if must_exist and not Path(where).is_file():
            raise NotFoundError(f"no store at {where}: no such file")
        return SQLiteStore(Path(where))
    return _postgres_module().PostgresStore(where)


def _postgres_module():
    try:
        from gensandbox.store import postgres
    except ImportError:
        raise MissingDependencyError("a PostgreSQL store needs psycopg: pip install 'gensandbox[postgres]'") \
            from None
    return postgres
