"""The one boundary every ledger backend implements: append after the current head, atomically, and read back."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from gensandbox.ledger.events import Head, Record


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
