"""Which store a command opens: the SQLite file in GENSANDBOX_HOME, or the database that
GENSANDBOX_DATABASE_URL or [store] url names (`sqlite:///PATH` or `postgresql://USER@HOST:PORT/DB`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gensandbox.errors import MissingDependencyError, NotFoundError, UserError
from gensandbox.store.sql import SQLStore

if TYPE_CHECKING:
    from gensandbox.config import Config

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_SQLITE_SCHEME = "sqlite:///"


def open_store(config: Config) -> SQLStore:
    """The configured store, brought up to the current schema."""
    return store_at(config.database_url)


def store_at(url: str, must_exist: bool = False) -> SQLStore:
    """`url`: sqlite:///PATH (four slashes for an absolute path), postgresql://…, or a plain file path. The
    store is brought up to the current schema; `applied_migrations` names what that took. `must_exist`: a
    SQLite file that is not there is an error, not a new empty store (a source to copy from)."""
    kind, where = parse_store_url(url)
    if kind == "sqlite":
        from gensandbox.store.sqlite import SQLiteStore

        if must_exist and not Path(where).is_file():
            raise NotFoundError(f"no store at {where}: no such file")
        return SQLiteStore(Path(where))
    return _postgres_module().PostgresStore(where)


def parse_store_url(url: str) -> tuple[str, str]:
    """("sqlite", path) or ("postgresql", url); anything else is a one-line UserError."""
    if url.startswith(POSTGRES_SCHEMES):
        return "postgresql", url
    if url.startswith(_SQLITE_SCHEME) and len(url) > len(_SQLITE_SCHEME):
        return "sqlite", url.removeprefix(_SQLITE_SCHEME)
    if "://" in url or url.startswith("sqlite:") or not url.strip():
        shown = f"{url.partition(':')[0]}:…" if url.strip() else "an empty address"  # no password in messages
        raise UserError(f"not a store address ({shown}): use sqlite:///PATH, postgresql://USER@HOST:PORT/DB "
                        "or a file path")
    return "sqlite", url


def _postgres_module():
    try:
        from gensandbox.store import postgres
    except ImportError:
        raise MissingDependencyError("a PostgreSQL store needs psycopg: pip install 'gensandbox[postgres]'") \
            from None
    return postgres
