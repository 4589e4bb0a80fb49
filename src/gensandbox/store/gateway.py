"""What the gateway keeps in the store: API keys (only their hashes), each key's spending and budget leases.

Requests themselves are recorded once, as ledger events (ledger/requests.py reads them back). The
gateway_requests table is no longer written: it stays, with the rows of homes that served before, and
`store copy` copies it.

The same statements run on SQLite and on PostgreSQL (see db/base.py). Several gateway processes may
share one PostgreSQL store; the budget methods are written so that they share each key's budget exactly there.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from gensandbox.canonical import now_utc
from gensandbox.db.base import Database
from gensandbox.errors import NotFoundError
from gensandbox.store.sql import SQLStore


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    key_hash: str
    role: str
    label: str | None
    budget_usd: float | None
    spent_usd: float
    rpm: int | None
    created_at: str
    revoked_at: str | None = None
    project_id: str = "default"


_KEY_COLUMNS = [f.name for f in fields(KeyRecord)]


class GatewayStore:
    """Keys, spending and budget leases in the same store as runs and samples."""

    def __init__(self, store: SQLStore):
        self._store = store
        self._db: Database = store.db

    def add_key(self, key: KeyRecord) -> None:
        self._db.execute(f"INSERT INTO api_keys ({', '.join(_KEY_COLUMNS)}) VALUES "
                         f"({', '.join('?' for _ in _KEY_COLUMNS)})", _row(key, _KEY_COLUMNS))

    def keys(self) -> list[KeyRecord]:
        rows = self._db.execute(f"SELECT {', '.join(_KEY_COLUMNS)} FROM api_keys ORDER BY created_at").fetchall()
        return [KeyRecord(*row) for row in rows]

    def revoke_key(self, key_id: str) -> None:
        cursor = self._db.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                                  (now_utc(), key_id))
        if cursor.rowcount == 0:
            raise NotFoundError(f"no active key `{key_id}`; `gensandbox keys list` shows them")

    def change_key(self, key_id: str, changes: dict) -> KeyRecord:
        """Set a key's role, budget, rate limit or label (`changes`: column → value, checked by the caller)."""
        allowed = {"role", "budget_usd", "rpm", "label"}
        if not changes or set(changes) - allowed:
            raise ValueError(f"a key's changes are among {sorted(allowed)}, not {sorted(changes)}")
        columns = sorted(changes)
        cursor = self._db.execute(f"UPDATE api_keys SET {', '.join(f'{name} = ?' for name in columns)} "
                                  "WHERE key_id = ? AND revoked_at IS NULL",
                                  (*(changes[name] for name in columns), key_id))
        if cursor.rowcount == 0:
            raise NotFoundError(f"no active key `{key_id}`; `gensandbox keys list` shows them")
        return self.key(key_id)

    def key(self, key_id: str) -> KeyRecord:
        row = self._db.execute(f"SELECT {', '.join(_KEY_COLUMNS)} FROM api_keys WHERE key_id = ?",
                               (key_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no key `{key_id}`; `gensandbox keys list` shows them")
        return KeyRecord(*row)

    def record_spending(self, spent_by_key: dict[str, float], holder: str = "", now: float = 0.0) -> None:
        """One transaction for what each key spent since the last one: the spending moves from the holder's
        budget lease to the key's total, and the holder's leases are renewed."""
        with self._store.transaction():
            # In key order: two processes that lock the same keys' rows in the same order cannot deadlock.
            spent_in_order = sorted(spent_by_key.items())
            self._db.executemany("UPDATE api_keys SET spent_usd = spent_usd + ? WHERE key_id = ?",
                                 [(spent, key_id) for key_id, spent in spent_in_order])
            if holder:
                # CASE, not max(a, b): PostgreSQL spells that greatest(a, b).
                self._db.executemany("UPDATE budget_leases SET amount_usd = CASE WHEN amount_usd > ? THEN "
                                     "amount_usd - ? ELSE 0 END WHERE key_id = ? AND holder = ?",
                                     [(spent, spent, key_id, holder) for key_id, spent in spent_in_order])
                self._db.execute("UPDATE budget_leases SET renewed_at = ? WHERE holder = ?", (now, holder))

    def lease(self, key_id: str, holder: str, wanted: float, minimum: float, now: float,
              ttl_s: float) -> tuple[float, float]:
        """Claim up to `wanted` (at least `minimum`, else nothing) of the key's budget for `holder`, atomically
        against every other holder. Leases not renewed within `ttl_s` belong to a process that is gone and are
        dropped. Returns (granted, what was left to lease before this claim)."""
        with self._store.transaction():
            # A write to the key's row first. SQLite's transaction already excludes every other writer; PostgreSQL
            # (READ COMMITTED) holds this row's lock until commit, so one process at a time claims from the key,
            # and the statements below, each with a fresh snapshot, see every claim committed before.
            self._db.execute("UPDATE api_keys SET spent_usd = spent_usd WHERE key_id = ?", (key_id,))
            self._db.execute("DELETE FROM budget_leases WHERE key_id = ? AND renewed_at < ?", (key_id, now - ttl_s))
            row = self._db.execute(
                "SELECT k.budget_usd - k.spent_usd - coalesce((SELECT sum(amount_usd) FROM budget_leases "
                "WHERE key_id = k.key_id), 0) FROM api_keys k WHERE k.key_id = ?", (key_id,)).fetchone()
            left = max(0.0, row[0]) if row and row[0] is not None else 0.0
            granted = min(wanted, left) if left >= minimum else 0.0
            if granted > 0:
                self._db.execute(
                    "INSERT INTO budget_leases (key_id, holder, amount_usd, renewed_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (key_id, holder) DO UPDATE SET amount_usd = budget_leases.amount_usd + "
                    "excluded.amount_usd, renewed_at = excluded.renewed_at", (key_id, holder, granted, now))
        return granted, left

    def release(self, holder: str) -> None:
        """A holder that stops gives back what it had not spent (its spending was recorded before this)."""
        with self._store.transaction():
            self._db.execute("DELETE FROM budget_leases WHERE holder = ?", (holder,))

    def key_totals(self) -> dict[str, float]:
        """Each key's spending recorded so far, by every gateway process."""
        return {row[0]: row[1] for row in self._db.execute("SELECT key_id, spent_usd FROM api_keys")}

    def store_response(self, response_id: str, key_id: str, conversation: str) -> None:
        self._db.execute("INSERT INTO stored_responses (response_id, key_id, created_at, conversation) "
                         "VALUES (?, ?, ?, ?)", (response_id, key_id, now_utc(), conversation))

    def stored_response(self, response_id: str, key_id: str) -> str | None:
        """The conversation a stored response ended, if it was made with this key (another key's is not there)."""
        row = self._db.execute("SELECT conversation FROM stored_responses WHERE response_id = ? AND key_id = ?",
                               (response_id, key_id)).fetchone()
        return row[0] if row else None

    def sample_latencies(self, model: str, limit: int = 200) -> list[float]:
        """Latencies of the model's latest successful calls in evaluations: what routing measures by until the
        gateway's own traffic (in the ledger) has enough."""
        return [row[0] for row in self._db.execute(
            "SELECT latency_s FROM samples WHERE model = ? AND error IS NULL AND latency_s IS NOT NULL "
            "ORDER BY id DESC LIMIT ?", (model, limit)).fetchall()]

    def latest_suite_results(self, suite: str, models: list[str]) -> dict[str, tuple[str, float, float, int]]:
        """For each model, from the newest run that evaluated it on `suite`: (run, score, cost per item, n)."""
        found: dict[str, tuple[str, float, float, int]] = {}
        for model in models:
            row = self._db.execute(
                "SELECT r.run_id, avg(s.score), sum(s.cost_usd) / count(*), count(s.score) FROM samples s "
                "JOIN runs r ON r.run_id = s.run_id WHERE s.model = ? AND s.suite = ? "
                "GROUP BY r.run_id, r.created_at ORDER BY r.created_at DESC, r.run_id DESC LIMIT 1",
                (model, suite)).fetchone()
            if row and row[3]:
                found[model] = (row[0], row[1], row[2], row[3])
        return found


def _row(record, columns: list[str]) -> tuple:
    # Not dataclasses.astuple: it deep-copies every field, which showed up in the gateway's profile.
    return tuple(getattr(record, name) for name in columns)
