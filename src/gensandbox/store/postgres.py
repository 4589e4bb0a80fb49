"""The shared store: runs, samples, the response cache, API keys and gateway records in one PostgreSQL database
that several `gensandbox serve` processes (and evaluations) use at once.

The schema is the SQLite one, adapted: 64-bit floats (SQLite's REAL) are DOUBLE PRECISION, the row ids an
identity column, and text compares and sorts by code point (COLLATE "C", as SQLite does), so every ORDER BY
gives the same order on both engines and a copied store digests the same. One connection in autocommit mode,
READ COMMITTED, like the PostgreSQL ledger: each statement outside a transaction commits on its own, so a sample
is on disk when `add_sample` returns. Threads take turns on the connection; a lost connection is reopened on
the next call, and the failing call ends with one clean line.
"""

from __future__ import annotations

import psycopg

from gensandbox.db.postgres import PostgresDatabase, one_line
from gensandbox.errors import ConfigError
from gensandbox.store.sql import SQLStore, migrate


class PostgresStore(SQLStore):
    """The store in a PostgreSQL database, brought up to the current schema when opened."""

    def __init__(self, url: str):
        super().__init__(PostgresDatabase(url))
        try:
            self.applied_migrations = migrate(self.db)
        except psycopg.Error as error:
            self.db.close()
            raise ConfigError(f"could not create the store's tables at {self.location}: {one_line(error)}; "
                              "the user in the URL needs CREATE on the database's schema") from None
