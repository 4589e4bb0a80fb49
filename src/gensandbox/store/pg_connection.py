"""One PostgreSQL connection shared by a process's threads, for the store and the ledger alike: opened with a
short timeout, reopened when the server dropped it, and every failure reported as one line that names the
address (never its password) and the setting to check."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import IsolationLevel
from psycopg.conninfo import conninfo_to_dict

from gensandbox.errors import ConfigError

CONNECT_TIMEOUT_S = 10  # psycopg waits 130 s by default; a firewalled host should fail while the user watches


def address_without_password(url: str) -> str:
    """The URL as it may appear in messages and logs: no password in the user part or in the query."""
    parts = urlsplit(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    netloc = f"{userinfo.partition(':')[0]}@{hosts}" if at else hosts
    query = urlencode([(key, value) for key, value in parse_qsl(parts.query) if key != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def one_line(error: Exception) -> str:
    return " ".join(line.strip() for line in str(error).splitlines() if line.strip())


class PgConnection:
    """`what`: "store" or "ledger", for messages; `setting`: where the user sets the address."""

    def __init__(self, url: str, what: str, setting: str, lock: threading.Lock | threading.RLock):
        self.location = address_without_password(url)
        self._url, self._what, self._setting = url, what, setting
        self.lock = lock
        self.db = self._connect()

    def _connect(self) -> psycopg.Connection:
        try:
            options = conninfo_to_dict(self._url)
            options.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
            # autocommit: transactions are explicit (`db.transaction()`), so reads leave none open between calls.
            db = psycopg.connect(**options, autocommit=True)
        except psycopg.ProgrammingError as error:
            raise ConfigError(f"the {self._what} address {self.location} is not a valid PostgreSQL URL: "
                              f"{one_line(error)}; check {self._setting}") from None
        except psycopg.OperationalError as error:
            raise ConfigError(f"could not connect to the {self._what} at {self.location}: {one_line(error)}; "
                              f"check {self._setting}") from None
        # Pinned whatever the server's default: the ledger's appends and the budget leases rely on READ COMMITTED
        # (a statement sees rows committed before it, also after waiting for a lock).
        db.isolation_level = IsolationLevel.READ_COMMITTED
        return db

    @contextmanager
    def session(self) -> Iterator[psycopg.Connection]:
        """The connection, under the lock, reopened if the server dropped it, with lost connections reported as
        one clean line instead of a driver traceback."""
        with self.lock:
            if self.db.broken:
                self.db = self._connect()
            try:
                yield self.db
            except psycopg.OperationalError as error:
                raise ConfigError(f"the {self._what} at {self.location} failed: {one_line(error)}; "
                                  "check that the server is up, then retry") from None

    def close(self) -> None:
        with self.lock:
            self.db.close()
