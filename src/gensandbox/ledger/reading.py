"""The ledger's model-call records read back, parsed: all of them streamed (never all in memory), or one
session's (found through the `session` column, without a scan)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import orjson

from gensandbox.errors import NotFoundError
from gensandbox.ledger.base import LedgerBackend
from gensandbox.ledger.events import CALL, TOOL

__all__ = ["call_records", "session_calls"]


def call_records(lines: Iterable[bytes], kinds: tuple[str, ...] = (CALL,)) -> Iterator[dict]:
    """Parsed call records (and, when asked, tool calls); checkpoints are signatures over the chain, not calls."""
    for line in lines:
        record = orjson.loads(line)
        if record.get("kind") in kinds:
            yield record


def session_calls(backend: LedgerBackend, session: str) -> list[dict]:
    """A session's model calls and tool calls (a session is small: read at once); NotFoundError when it has none."""
    records = list(call_records(backend.session_lines(session), (CALL, TOOL)))
    if not records:
        raise NotFoundError(f"no calls recorded for session {session}; sessions are named with the "
                            "x-gensandbox-session header or metadata.session_id")
    return records
