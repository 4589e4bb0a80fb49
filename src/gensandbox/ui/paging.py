"""Cutting long lists into pages: what page a query asks for, clamped to the pages there are."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pager:
    page: int  # 1-based
    pages: int
    size: int
    total: int

    @property
    def start(self) -> int:
        return (self.page - 1) * self.size

    @property
    def stop(self) -> int:
        return min(self.start + self.size, self.total)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def make_pager(total: int, size: int, requested: str | None) -> Pager:
    """A page number from a query string; anything unreadable or out of range becomes the nearest real page,
    so a stale or hand-edited link still shows something instead of an error."""
    pages = max(1, -(-total // size))
    try:
        page = int(requested or 1)
    except ValueError:
        page = 1
    return Pager(min(max(page, 1), pages), pages, size, total)
