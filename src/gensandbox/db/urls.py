"""Database addresses, read one way for the store and the ledger: `sqlite:///PATH`, `postgresql://…` (or
`postgres://…`), or a plain file path (SQLite). Pure functions; no driver is imported here."""

from __future__ import annotations

from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from gensandbox.errors import ConfigError

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SQLITE_SCHEME = "sqlite:///"
ADDRESS_FORMS = "sqlite:///PATH, postgresql://USER@HOST:PORT/DB"

__all__ = ["ADDRESS_FORMS", "POSTGRES_SCHEMES", "SQLITE_SCHEME", "address_without_password", "is_postgres",
           "parse_database_url"]


def is_postgres(url: str) -> bool:
    return url.startswith(POSTGRES_SCHEMES)


Kind = Literal["sqlite", "postgresql"]


def parse_database_url(url: str, what: Literal["store", "ledger"] = "store") -> tuple[Kind, str]:
    """("sqlite", path) or ("postgresql", url). A store's address may also be a bare file path (SQLite); a
    ledger's must name its scheme. Anything else is a one-line ConfigError that never shows a password."""
    if is_postgres(url):
        return "postgresql", url
    if url.startswith(SQLITE_SCHEME) and len(url) > len(SQLITE_SCHEME):
        return "sqlite", url.removeprefix(SQLITE_SCHEME)
    shown = f"{url.partition(':')[0]}:…" if url.strip() else "an empty address"
    if what == "ledger":
        raise ConfigError(f"unknown ledger address ({shown}); use postgresql://USER@HOST:PORT/DB or sqlite:///PATH")
    if "://" in url or url.startswith("sqlite:") or not url.strip():
        raise ConfigError(f"not a store address ({shown}): use {ADDRESS_FORMS} or a file path")
    return "sqlite", url


def address_without_password(url: str) -> str:
    """The URL as it may appear in messages and logs: no password in the user part or in the query."""
    parts = urlsplit(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    netloc = f"{userinfo.partition(':')[0]}@{hosts}" if at else hosts
    query = urlencode([(key, value) for key, value in parse_qsl(parts.query) if key != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
