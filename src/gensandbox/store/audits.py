"""Audit results kept beside runs: each audit's findings as JSON, with its kind and method, so the report,
the dashboard and `--json` output all read the same record."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from gensandbox.canonical import now_utc
from gensandbox.errors import NotFoundError
from gensandbox.store.sql import SQLStore

KINDS = ("switching", "self-preference", "holdout")


@dataclass(frozen=True)
class AuditRecord:
    audit_id: str
    kind: str
    created_at: str
    title: str  # the one-line finding, e.g. "switching from A to B keeps 94% of quality at 31% of the cost"
    result: dict  # the full findings, method included


class AuditStore:
    def __init__(self, store: SQLStore):
        self._store = store
        self._db = store.db

    def save(self, kind: str, title: str, result: dict) -> AuditRecord:
        record = AuditRecord(f"{kind}-{uuid.uuid4().hex[:8]}", kind, now_utc(), title, result)
        with self._store.transaction():
            self._db.execute("INSERT INTO audits (audit_id, kind, created_at, title, result) VALUES (?, ?, ?, ?, ?)",
                             (record.audit_id, kind, record.created_at, title,
                              json.dumps(result, ensure_ascii=False)))
        return record

    def list(self, kind: str | None = None) -> list[AuditRecord]:
        query, params = "SELECT audit_id, kind, created_at, title, result FROM audits", ()
        if kind:
            query, params = query + " WHERE kind = ?", (kind,)
        rows = self._db.execute(query + " ORDER BY created_at DESC, audit_id", params).fetchall()
        return [AuditRecord(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def get(self, audit_id: str) -> AuditRecord:
        row = self._db.execute("SELECT audit_id, kind, created_at, title, result FROM audits WHERE audit_id = ?",
                               (audit_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no audit `{audit_id}`; `gensandbox audit list` shows them")
        return AuditRecord(row[0], row[1], row[2], row[3], json.loads(row[4]))
