"""Checking a ledger: every record canonical, numbered in order, linked to the one before, hashed over its
own content, and every checkpoint signed by the expected key over the head it follows. Pure: lines in,
verdict out, so the live store, a JSONL export and a Parquet export are checked by the same code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gensandbox.ledger.events import CHECKPOINT, GENESIS, canonical, sha256_hex
from gensandbox.ledger.signing import checkpoint_signature_ok, key_id


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
    def __init__(self, public_key: Ed25519PublicKey | None):
        self.public_key = public_key
        self.expected_key_id = key_id(public_key) if public_key else None
        self.seq, self.prev, self.checkpoints, self.unsigned = 0, GENESIS, 0, 0

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
        if record.get("kind") == CHECKPOINT:
            self._check_checkpoint(record)
        else:
            self.unsigned += 1
        self.seq, self.prev = seq, stated

    def _check_checkpoint(self, record: dict) -> None:
        if record.get("signed_seq") != self.seq or record.get("signed_hash") != self.prev:
            raise _BadRecord("this checkpoint does not sign the record just before it")
        if self.public_key is not None:
            if record.get("key_id") != self.expected_key_id:
                raise _BadRecord(f"this checkpoint was signed by key {record.get('key_id')}, not by the given key "
                                 f"{self.expected_key_id}")
            if not checkpoint_signature_ok(record, self.public_key):
                raise _BadRecord("this checkpoint's signature is not valid for the given key")
        self.checkpoints += 1
        self.unsigned = 0


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


def verify_lines(lines: Iterable[bytes], public_key: Ed25519PublicKey | None, *,
                 require_signed_end: bool) -> Verdict:
    """`require_signed_end`: an export must end with a checkpoint, or records cut from its end would go unseen;
    a live ledger may have a few records not yet checkpointed."""
    checker = _Checker(public_key)
    position = 0
    for position, line in enumerate(lines, start=1):
        try:
            checker.check(line)
        except _BadRecord as bad:
            return Verdict(False, position, checker.checkpoints, checker.prev, position, str(bad), checker.unsigned,
                           public_key is not None)
    verdict = Verdict(True, position, checker.checkpoints, checker.prev, unsigned_tail=checker.unsigned,
                      signatures_checked=public_key is not None)
    if position == 0 and require_signed_end:
        return Verdict(False, 0, 0, GENESIS, 1, "there are no records at all")
    if require_signed_end and checker.unsigned:
        return Verdict(False, position, checker.checkpoints, checker.prev, position + 1,
                       f"the last {checker.unsigned} records are not covered by a signed checkpoint: records may "
                       "have been cut from the end", checker.unsigned, public_key is not None)
    return verdict
