"""The one boundary between the store's tables and a SQL engine
(SQLite in db/sqlite.py, PostgreSQL in db/postgres.py).

Statements are written once, in the SQL both engines share, with `?` placeholders and SQLite's type names in
the schema; each engine adapts them (PostgreSQL turns `?` into `%s`, REAL into DOUBLE PRECISION). Rows come
back as plain tuples from both, so the code above this boundary never asks which engine it talks to, except
for the rare statement the two spell differently (see `dialect`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Literal, Protocol

from gensandbox.errors import DuplicateRecordError


def duplicate(error: Exception) -> DuplicateRecordError:
    """An engine's integrity error (a unique key or a constraint broken), in the error tree: nothing was written."""
    detail = " ".join(str(error).split())
    return DuplicateRecordError(f"the store already holds a record like this one, or it breaks a rule of the "
                                f"store's schema ({detail}); nothing was written")


class Cursor(Protocol):
    """What `execute` returns: rows already fetched by the engine, and how many rows a write changed."""

    rowcount: int

    def fetchone(self) -> tuple | None: ...

    def fetchall(self) -> list[tuple]: ...

    def __iter__(self) -> Iterator[tuple]: ...


class Database(Protocol):
    """One connection to one store. Each statement outside `transaction()` commits on its own."""

    location: str  # for messages: a file path, or an address without its password
    dialect: Literal["sqlite", "postgresql"]

    def execute(self, sql: str, params: Sequence = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Sequence]) -> None: ...

    def stream(self, sql: str, params: Sequence = ()) -> Iterator[tuple]:
        """Rows a batch at a time, for results too large to hold; other statements may run between rows."""

    def transaction(self, exclusive: bool = False) -> AbstractContextManager[None]:
        """Several statements, one commit. `exclusive`: also wait for every other process's exclusive
        transaction to end first (schema changes, a copy into the store)."""

    def schema(self, statement: str) -> str:
        """A CREATE or ALTER statement written with SQLite's types, in this engine's types."""

    def columns(self, table: str) -> list[str]:
        """The table's columns in order; [] if there is no such table."""

    def close(self) -> None: ...
