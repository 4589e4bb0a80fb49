"""Checking a ledger: every record canonical, numbered in order, linked to the one before, hashed over its
own content, and every checkpoint signed by a trusted key over the head it follows; an export must end with
the closing checkpoint `gensandbox ledger export` signs (it states the export's record count), and a head a
party published (`--records N --head HASH`) must still be in the chain. Pure: lines in, verdict out, so the
live store, a JSONL export and a Parquet export are checked by the same code.

What that proves, and what it cannot (the README's "What `verify` proves" says the same):
- any record altered, removed, duplicated or moved, anywhere before the last checkpoint: caught;
- records cut from the end of an export, at any point: caught (the closing checkpoint is gone);
- the whole file replaced by an earlier, complete export: not caught by the file alone, caught with a
  published head (`--records N --head HASH`) that the earlier export does not reach.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gensandbox.canonical import canonical, sha256_hex
from gensandbox.ledger.events import CHECKPOINT, GENESIS
from gensandbox.ledger.signing import checkpoint_signature_ok, key_id


@dataclass(frozen=True)
class PublishedHead:
    """A head a party published earlier: the chain must still have `records` records, the last of them `hash`."""

    records: int | None = None
    hash: str | None = None


@dataclass(frozen=True)
class Verdict:
    ok: bool
    records: int  # records read, up to and including the first bad one
    checkpoints: int
    head_hash: str
    first_bad: int | None = None  # the position (1-based) of the first bad record
    reason: str = ""
    unsigned_tail: int = 0  # records after the last valid checkpoint
    signatures_checked: bool = True


class _BadRecord(Exception):
    pass


class _Checker:
    def __init__(self, public_keys: list[Ed25519PublicKey], published: PublishedHead | None):
        self.keys = {key_id(key): key for key in public_keys}
        self.published, self.published_seen = published, False
        self.seq, self.prev, self.checkpoints, self.unsigned = 0, GENESIS, 0, 0
        self.closed_export = False  # the last record read is an export's closing checkpoint

    def check(self, line: bytes) -> None:
        record = _parse(line)
        seq, prev, stated = record.get("seq"), record.get("prev"), record.get("hash")
        if seq != self.seq + 1:
            raise _BadRecord(f"expected record number {self.seq + 1} here but found {seq!r}: a record before it "
                             "was removed, or this one was duplicated or moved")
        if prev != self.prev:
            raise _BadRecord(f"its `prev` does not match the hash of record {self.seq}: the chain is broken here")
        del record["hash"]
        if sha256_hex(canonical(record)) != stated:
            raise _BadRecord("its hash does not match its content: the record was altered")
        self.closed_export = False
        if record.get("kind") == CHECKPOINT:
            self._check_checkpoint(record, seq)
        else:
            self.unsigned += 1
        self.seq, self.prev = seq, stated
        self._check_published(seq, stated)

    def _check_published(self, seq: int, stated: str) -> None:
        published = self.published
        if published is None:
            return
        at_count = published.records is not None and seq == published.records
        if published.hash is not None and stated == published.hash:
            if published.records is not None and not at_count:
                raise _BadRecord(f"the published head {published.hash[:16]}… is record {seq} here, not record "
                                 f"{published.records}")
            self.published_seen = True
        elif at_count and published.hash is not None:
            raise _BadRecord(f"record {seq} should be the published head {published.hash[:16]}… but its hash is "
                             f"{stated[:16]}…: the ledger was rewritten up to here")
        elif at_count:
            self.published_seen = True

    def _check_checkpoint(self, record: dict, seq: int) -> None:
        if record.get("signed_seq") != self.seq or record.get("signed_hash") != self.prev:
            raise _BadRecord("this checkpoint does not sign the record just before it")
        if "closes_export" in record and record["closes_export"] != seq:
            raise _BadRecord(f"this checkpoint says it closes an export of {record['closes_export']} records, "
                             f"but it is record {seq}")
        if self.keys:
            key = self.keys.get(record.get("key_id"))
            if key is None:
                raise _BadRecord(f"this checkpoint was signed by key {record.get('key_id')}, not by the given "
                                 f"key{'s' if len(self.keys) > 1 else ''} {', '.join(self.keys)}")
            if not checkpoint_signature_ok(record, key):
                raise _BadRecord("this checkpoint's signature is not valid for its key")
        self.checkpoints += 1
        self.unsigned = 0
        self.closed_export = "closes_export" in record


def _parse(line: bytes) -> dict:
    line = line.rstrip(b"\n")
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise _BadRecord("it is not valid JSON") from None
    if not isinstance(record, dict) or not isinstance(record.get("hash"), str):
        raise _BadRecord("it is not a ledger record (a JSON object with `seq`, `prev` and `hash`)")
    if canonical(record) != line:  # e.g. a re-encoded escape or added space: same meaning, different bytes
        raise _BadRecord("it is not in canonical form: its bytes were changed")
    return record


def verify_lines(lines: Iterable[bytes], public_keys: Ed25519PublicKey | list[Ed25519PublicKey] | None, *,
                 require_signed_end: bool, export: bool = False, published: PublishedHead | None = None) -> Verdict:
    """`require_signed_end`: the last record must be a checkpoint (a live ledger may have a few records not yet
    checkpointed). `export`: the last record must be an export's closing checkpoint, or records cut from its end
    at an earlier checkpoint would go unseen. `public_keys`: the keys whose checkpoints are trusted (None:
    signatures are not checked)."""
    require_signed_end = require_signed_end or export
    keys = [] if public_keys is None else [public_keys] if isinstance(public_keys, Ed25519PublicKey) \
        else list(public_keys)
    checker = _Checker(keys, published)
    position = 0
    for position, line in enumerate(lines, start=1):
        try:
            checker.check(line)
        except _BadRecord as bad:
            return Verdict(False, position, checker.checkpoints, checker.prev, position, str(bad), checker.unsigned,
                           bool(keys))

    def bad(reason: str) -> Verdict:
        return Verdict(False, position, checker.checkpoints, checker.prev, position + 1, reason, checker.unsigned,
                       bool(keys))

    if position == 0 and require_signed_end:
        return Verdict(False, 0, 0, GENESIS, 1, "there are no records at all")
    if require_signed_end and checker.unsigned:
        return bad(f"the last {checker.unsigned} records are not covered by a signed checkpoint: records may have "
                   "been cut from the end")
    if export and not checker.closed_export:
        return bad("the export does not end with the closing checkpoint `gensandbox ledger export` signs: records "
                   "may have been cut from the end")
    if published is not None and not checker.published_seen:
        return bad(f"the published head ({_published_text(published)}) is not in this ledger: it was cut short or "
                   "rewritten")
    return Verdict(True, position, checker.checkpoints, checker.prev, unsigned_tail=checker.unsigned,
                   signatures_checked=bool(keys))


def _published_text(published: PublishedHead) -> str:
    parts = ([f"{published.records:,} records"] if published.records is not None else []) + \
        ([f"hash {published.hash[:16]}…"] if published.hash else [])
    return ", ".join(parts)
