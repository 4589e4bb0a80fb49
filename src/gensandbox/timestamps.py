"""Dates and times given on the command line (`--since`), read one way everywhere.

A date or an ISO 8601 time; without a zone it is UTC. Anything else is a UserError naming the option, so a
typo is refused in one line instead of silently matching everything or nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from gensandbox.errors import UserError


def parse_since(text: str | None, option: str = "--since") -> datetime | None:
    """The moment `text` names (aware, UTC when it names no zone), or None when it is None."""
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
