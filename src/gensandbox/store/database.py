"""The one boundary between the store's tables and a SQL engine (SQLite or PostgreSQL).

Statements are written once, in the SQL both engines share, with `?` placeholders and SQLite's type names in
the schema; each engine adapts them (PostgreSQL turns `?` into `%s`, REAL into DOUBLE PRECISION). Rows come
back as plain tuples from both, so the code above this boundary never asks which engine it talks to, except
for the rare statement the two spell differently (see `dialect`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Literal, Protocol

_now_text: tuple[int, str] = (-1, "")  # (the second, its text): several callers per gateway request share it


def now_utc() -> str:
    """This second, in ISO 8601 UTC (what datetime.now(UTC).isoformat(timespec="seconds") says), written once a
    second rather than on every call."""
    global _now_text
    second, cached = int(time.time()), _now_text
    if cached[0] == second:
        return cached[1]
    text = datetime.fromtimestamp(second, UTC).isoformat(timespec="seconds")
    _now_text = (second, text)
    return text


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
