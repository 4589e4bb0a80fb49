"""The one boundary every ledger backend implements: append after the current head, atomically, and read back."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from gensandbox.ledger.events import Head, Record

READ_BATCH = 10_000  # records read at a time: a ledger of millions is never all in memory
FIRST_NEWEST_BATCH = 500  # newest_lines: the first batch; each next one doubles, up to READ_BATCH


def newest_pages(fetch: Callable[[int, int], list[tuple[int, bytes]]]) -> Iterator[bytes]:
    """Records newest first, by keyset pages: `fetch(before_seq, limit)` returns up to `limit` (seq, record) rows
    below `before_seq`, newest first, each page its own short query."""
    before, batch = 1 << 62, FIRST_NEWEST_BATCH
    while True:
        rows = fetch(before, batch)
        for _, record in rows:
            yield bytes(record)
        if len(rows) < batch:
            return
        before, batch = rows[-1][0], min(batch * 2, READ_BATCH)


class LedgerBackend(Protocol):
    """Where records live. `append` reads the head and writes after it in one transaction, so several
    writers (threads, processes, machines on one PostgreSQL) still build one unbroken chain."""

    location: str  # for messages: a file path or a database address without its password

    def append(self, contents: list[dict], checkpoint: Callable[[Head], dict] | None = None) -> list[Record]: ...

    def head(self) -> Head: ...

    def lines(self, after_seq: int = 0) -> Iterator[bytes]: ...

    def session_lines(self, session: str) -> Iterator[bytes]: ...

    def newest_lines(self, kinds: tuple[str, ...]) -> Iterator[bytes]:
        """The records of these kinds, newest first, read in batches that grow from a small first one: a reader
        that wants only the tail (the gateway's latest requests) stops early and reads little."""

    def import_records(self, records: Iterable[Record]) -> int:
        """Into an empty ledger, as they are; the caller has verified them."""

    def close(self) -> None: ...
