"""Canonical JSON, sha256 and time: one definition of each, for every layer.

Canonical JSON is sorted keys, compact separators and UTF-8 written as itself (not escaped): the bytes that the
ledger chains and signs, and that cache keys and variant versions hash. Times are ISO 8601 in UTC to the second,
the form the store writes, so two of them compare as text.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

import orjson

from gensandbox.errors import UserError

__all__ = ["canonical", "canonical_digest", "now_utc", "parse_since", "sha256_hex", "stored_form"]


def canonical(value: dict | list) -> bytes:
    """Sorted keys, compact separators, UTF-8 (non-ASCII written as itself, not escaped)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_digest(value: dict | list) -> str:
    """sha256 of the canonical JSON of `value`: the same value hashes the same on any machine."""
    return sha256_hex(canonical(value))


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


def now_utc_precise() -> str:
    """This moment to the microsecond, in ISO 8601 UTC: for an agent's steps, which follow each other within
    milliseconds and are drawn on a timeline."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def parse_since(text: str | None, option: str = "--since") -> datetime | None:
    """The moment `text` names (a date or an ISO 8601 time; aware, UTC when it names no zone), or None when it is
    None. Anything else is a UserError naming the option, so a typo is refused in one line instead of silently
    matching everything or nothing."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"{option} {text!r} is not a date or time; use e.g. 2026-11-01 or 2026-11-01T09:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def stored_form(moment: datetime) -> str:
    """A moment as the store writes its times (UTC, ISO 8601 to the second), so the two compare as text."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")
