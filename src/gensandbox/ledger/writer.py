"""The ledger as the rest of GenSandbox uses it: add events as calls end, flush them in groups, sign the chain
head every N events or T seconds and at shutdown, and issue usage receipts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from gensandbox.canonical import now_utc, sha256_hex
from gensandbox.config import Config, LedgerConfig
from gensandbox.db.urls import parse_database_url
from gensandbox.errors import MissingDependencyError
from gensandbox.ledger.base import LedgerBackend
from gensandbox.ledger.digests import DigestKeys, digest_key_path
from gensandbox.ledger.events import CallFacts, Head, Record, ToolFacts, call_event, content_hash, tool_event
from gensandbox.ledger.signing import Signer


class Ledger:
    def __init__(self, backend: LedgerBackend, signer: Signer, settings: LedgerConfig,
                 digest_keys: DigestKeys | None):
        """`digest_keys`: what keys the digests of prompts and answers (ledger/digests.py); None writes plain
        sha256, as ledgers did before keys (a benchmark's or a test's throwaway ledger)."""
        self.backend, self.signer, self.settings, self.digest_keys = backend, signer, settings, digest_keys
        self._pending: list[dict] = []
        self._lock = threading.Lock()  # guards the queue: events arrive from any thread
        self._flushing = threading.Lock()  # one flush at a time (a timer and shutdown may meet)
        self._since_checkpoint = 0
        self._last_checkpoint = time.monotonic()

    def record_call(self, facts: CallFacts) -> str:
        """Queue one call's event; returns its content hash (what a receipt names)."""
        event = self.call_event(facts)
        with self._lock:
            self._pending.append(event)
        return content_hash(event)

    def record_tool(self, facts: ToolFacts) -> None:
        """Queue one tool call's event (an agent episode's step)."""
        event = tool_event(facts, self.settings.privacy, self.digest_keys)
        with self._lock:
            self._pending.append(event)

    def call_event(self, facts: CallFacts) -> dict:
        """One call's event, not yet queued (the gateway commits it itself, after its key's spending)."""
        return call_event(facts, self.settings.privacy, self.digest_keys)

    def commit(self, events: list[dict]) -> None:
        """Append these events (and anything queued) now, in one transaction: durable when this returns. Raises
        when the ledger cannot be written, with the events still queued for the next try."""
        with self._lock:
            self._pending.extend(events)
        self.flush()

    def has_pending(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def receipt(self, event_hash: str, model: str, response_text: str, body: bytes | None) -> str:
        return self.signer.receipt(event_hash, model, sha256_hex(response_text.encode()),
                                   sha256_hex(body) if body is not None else None, now_utc())

    def event_receipt(self, event: dict, model: str, response_text: str, body_sha256: str | None) -> str:
        """receipt() for a call event that has an answer. The receipt carries plain sha256 of the answer text and
        of the body (the app holding them checks them without any key), not the event's keyed digests."""
        return self.signer.receipt(content_hash(event), model, sha256_hex(response_text.encode()), body_sha256,
                                   now_utc())

    def flush(self, force_checkpoint: bool = False) -> None:
        """Append what is queued in one transaction, with a checkpoint when one is due."""
        with self._flushing:
            self._flush(self._checkpoint if force_checkpoint else None)

    def close_export(self) -> Head:
        """Append what is queued and an export's closing checkpoint; the head it makes (the export's last record)."""
        with self._flushing:
            records = self._flush(self._closing_checkpoint)
        return Head(records[-1].seq, records[-1].hash) if records else self.backend.head()

    def _flush(self, forced: Callable[[Head], dict] | None) -> list[Record]:
        with self._lock:
            batch, self._pending = self._pending, []
        self._since_checkpoint += len(batch)
        due = forced is not None or self._since_checkpoint >= self.settings.checkpoint_every or (
            self._since_checkpoint and time.monotonic() - self._last_checkpoint >= self.settings.checkpoint_interval_s)
        if not batch and not due:
            return []
        try:
            records = self.backend.append(batch, (forced or self._checkpoint) if due else None)
        except BaseException:  # nothing is lost: the batch goes back in front of whatever arrived meanwhile
            with self._lock:
                self._pending = batch + self._pending
            self._since_checkpoint -= len(batch)
            raise
        if due:
            self._since_checkpoint, self._last_checkpoint = 0, time.monotonic()
        return records

    def close(self) -> None:
        self.flush(force_checkpoint=True)
        self.backend.close()

    def _checkpoint(self, head: Head) -> dict:
        return self.signer.checkpoint(head, now_utc())

    def _closing_checkpoint(self, head: Head) -> dict:
        return self.signer.checkpoint(head, now_utc(), closes_export=True)


def open_backend(url: str) -> LedgerBackend:
    kind, where = parse_database_url(url, "ledger")
    if kind == "sqlite":
        from gensandbox.ledger.sqlite import SQLiteLedger

        return SQLiteLedger(Path(where))
    try:
        from gensandbox.ledger.postgres import PostgresLedger
    except ImportError:
        raise MissingDependencyError("a PostgreSQL ledger needs psycopg: pip install 'gensandbox[postgres]'") \
            from None
    return PostgresLedger(where)


def open_ledger(config: Config) -> Ledger:
    return Ledger(open_backend(config.ledger_url), Signer.load_or_create(config.signing_key_path), config.file.ledger,
                  open_digest_keys(config))


def open_digest_keys(config: Config) -> DigestKeys:
    """This home's digest keys, beside its signing key (created with it on first use)."""
    return DigestKeys.load_or_create(digest_key_path(config.signing_key_path))
