"""Moving a whole store to another database (SQLite ↔ PostgreSQL), and showing that nothing changed on the way.

Each table is read in primary-key order, a batch at a time, and written into an empty target inside one
transaction. Before that transaction commits, the target is read back and each table's row count and digest
are compared with those of the rows read from the source: the digest is a sha256 over the canonical JSON of
each row (the list of its values), one line per row, in primary-key order, so equal digests mean the same text,
the same integers and the same floating-point numbers to the last bit. Any difference rolls the copy back,
leaving the target as empty as it was. The ledger is not part of the store: `gensandbox ledger export` and
`gensandbox ledger import` move it, verified against its own hash chain.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass

from gensandbox.db.base import Database
from gensandbox.errors import UserError

# Every table of the current schema (a test checks this against a freshly migrated store) with its primary key,
# in an order that satisfies the foreign keys: runs before samples.
STORE_TABLES: dict[str, str] = {
    "runs": "run_id",
    "samples": "id",
    "response_cache": "key",
    "api_keys": "key_id",
    "gateway_requests": "id",
    "audits": "audit_id",
    "budget_leases": "key_id, holder",
    "stored_responses": "response_id",
    "projects": "project_id",
    "registered_models": "name",
}
MIGRATIONS_TABLE = "_migrations"  # copied too, so the target records when the source's schema was built
_ALL_TABLES = {**STORE_TABLES, MIGRATIONS_TABLE: "name"}


@dataclass(frozen=True)
class TableDigest:
    table: str
    rows: int
    sha256: str


class _Digest:
    def __init__(self):
        self.rows, self._hash = 0, hashlib.sha256()

    def add(self, row: tuple) -> None:
        self._hash.update(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
        self.rows += 1

    def result(self, table: str) -> TableDigest:
        return TableDigest(table, self.rows, self._hash.hexdigest())


def copy_store(source: Database, target: Database, batch_size: int = 1000) -> list[TableDigest]:
    """Copy every table of `source` into the empty `target`; the verified digests, one per table."""
    columns = {table: _same_columns(source, target, table) for table in _ALL_TABLES}
    with target.transaction(exclusive=True):  # the emptiness check and the copy, with no writer in between
        _refuse_non_empty(target)
        _refuse_other_schema(source, target)
        target.execute(f"DELETE FROM {MIGRATIONS_TABLE}")  # replaced by the source's own record
        copied = [_copy_table(source, target, table, columns[table], batch_size) for table in _ALL_TABLES]
        for expected in copied:
            found = table_digest(target, expected.table, columns[expected.table])
            if found != expected:
                raise UserError(f"the copy of table {expected.table} does not match the source ({found.rows} rows, "
                                f"sha256 {found.sha256[:12]}…, against {expected.rows}, {expected.sha256[:12]}…); "
                                f"nothing was kept in {target.location}")
    return copied


def table_digest(db: Database, table: str, columns: list[str] | None = None) -> TableDigest:
    digest = _Digest()
    for row in db.stream(_select(table, columns or db.columns(table))):
        digest.add(row)
    return digest.result(table)


def _copy_table(source: Database, target: Database, table: str, columns: list[str], batch_size: int) -> TableDigest:
    digest = _Digest()
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    rows = source.stream(_select(table, columns))
    while batch := list(itertools.islice(rows, batch_size)):
        for row in batch:
            digest.add(row)
        target.executemany(insert, batch)
    if target.dialect == "postgresql" and STORE_TABLES.get(table) == "id":
        # Rows came with their ids, which an identity column does not count: new rows must start after them.
        target.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) "
                       f"FROM {table}")
    return digest.result(table)


def _select(table: str, columns: list[str]) -> str:
    return f"SELECT {', '.join(columns)} FROM {table} ORDER BY {_ALL_TABLES[table]}"


def _same_columns(source: Database, target: Database, table: str) -> list[str]:
    columns, theirs = source.columns(table), target.columns(table)
    if not columns or sorted(columns) != sorted(theirs):
        raise UserError(f"table {table} differs between {source.location} and {target.location}; run "
                        "`gensandbox migrate` with the same GenSandbox version on both, then copy again")
    return columns


def _refuse_non_empty(target: Database) -> None:
    for table in STORE_TABLES:
        if target.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
            raise UserError(f"the target store {target.location} is not empty (table {table} has rows); copy into "
                            "a new database or file")


def _refuse_other_schema(source: Database, target: Database) -> None:
    names = [{row[0] for row in db.execute(f"SELECT name FROM {MIGRATIONS_TABLE}")} for db in (source, target)]
    if names[0] != names[1]:
        raise UserError(f"{source.location} and {target.location} have different migrations applied; run "
                        "`gensandbox migrate` with the same GenSandbox version on both, then copy again")
