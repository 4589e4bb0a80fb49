"""API keys: made, changed and revoked by admins (each act on the record), and found again from a secret.

A key is shown once when it is made; the store keeps only its sha256. A key belongs to one project and has one role.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time

from gensandbox.access.projects import ProjectStore
from gensandbox.access.record import AdminRecorder
from gensandbox.access.rights import ROLES, Principal, require
from gensandbox.canonical import now_utc
from gensandbox.errors import UserError
from gensandbox.store.gateway import GatewayStore, KeyRecord
from gensandbox.store.sql import SQLStore

KEY_PREFIX = "gsk_"
RELOAD_AFTER_S = 1.0  # a key revoked elsewhere (the CLI, another process) stops working within this


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key(role: str, budget_usd: float | None, rpm: int | None, label: str | None,
            project_id: str = "default") -> tuple[str, KeyRecord]:
    """(the secret to show once, the record to store)."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    record = KeyRecord(key_id=f"key_{secrets.token_hex(4)}", key_hash=hash_key(secret), role=role, label=label,
                       budget_usd=budget_usd, spent_usd=0.0, rpm=rpm, created_at=now_utc(), project_id=project_id)
    return secret, record


def principal_of(record: KeyRecord) -> Principal:
    return Principal(record.key_id, record.role, record.project_id, record.label)


class KeyAdmin:
    """What an admin does to keys, each act checked against the actor's rights and recorded on the ledger."""

    def __init__(self, store: SQLStore, recorder: AdminRecorder):
        self._keys, self._projects, self._recorder = GatewayStore(store), ProjectStore(store), recorder

    def create(self, actor: Principal, role: str, project_id: str, *, budget_usd: float | None = None,
               rpm: int | None = None, label: str | None = None) -> tuple[str, KeyRecord]:
        require(actor, "keys.manage")
        _check_role(role)
        _check_limits(budget_usd, rpm)
        self._projects.get(project_id)  # a key of a project that does not exist could never be used
        secret, record = new_key(role, budget_usd, rpm, label, project_id)
        self._keys.add_key(record)
        self._recorder.record(actor, "key.created", project_id, {"key_id": record.key_id, "role": role,
                                                                 "budget_usd": budget_usd, "rpm": rpm})
        return secret, record

    def change(self, actor: Principal, key_id: str, changes: dict) -> KeyRecord:
        require(actor, "keys.manage")
        if "role" in changes:
            _check_role(changes["role"])
        _check_limits(changes.get("budget_usd"), changes.get("rpm"))
        before = self._keys.key(key_id)
        record = self._keys.change_key(key_id, changes)
        action = "key.role_changed" if "role" in changes and changes["role"] != before.role else "key.changed"
        self._recorder.record(actor, action, record.project_id, {"key_id": key_id, **{
            name: {"from": getattr(before, name), "to": getattr(record, name)} for name in sorted(changes)}})
        return record

    def revoke(self, actor: Principal, key_id: str) -> KeyRecord:
        require(actor, "keys.manage")
        record = self._keys.key(key_id)
        self._keys.revoke_key(key_id)
        self._recorder.record(actor, "key.revoked", record.project_id, {"key_id": key_id})
        return self._keys.key(key_id)

    def list(self, actor: Principal) -> list[KeyRecord]:
        require(actor, "keys.manage")
        return self._keys.keys()


class KeyRing:
    """The active keys, by hash, reloaded from the store at most once a second: who a secret belongs to."""

    def __init__(self, store: SQLStore):
        self._store = GatewayStore(store)
        self._lock = threading.Lock()
        self._by_hash: dict[str, KeyRecord] = {}
        self._any = False
        self._loaded_at = -RELOAD_AFTER_S

    def find(self, secret: str | None) -> KeyRecord | None:
        if not secret:
            return None
        self._reload_when_due()
        return self._by_hash.get(hash_key(secret))

    def active(self, key_id: str) -> KeyRecord | None:
        self._reload_when_due()
        return next((record for record in self._by_hash.values() if record.key_id == key_id), None)

    @property
    def keys_exist(self) -> bool:
        """Any key ever made, revoked ones included: revoking every key must not reopen the dashboard."""
        self._reload_when_due()
        return self._any

    def reload(self) -> None:
        records = self._store.keys()
        with self._lock:
            self._any = bool(records)
            self._by_hash = {record.key_hash: record for record in records if not record.revoked_at}
            self._loaded_at = time.monotonic()

    def _reload_when_due(self) -> None:
        if time.monotonic() - self._loaded_at > RELOAD_AFTER_S:
            self.reload()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"unknown role `{role}`; choose one of {', '.join(ROLES)}")


def _check_limits(budget_usd: float | None, rpm: int | None) -> None:
    if budget_usd is not None and not (0 <= float(budget_usd) < float("inf")):
        raise UserError(f"budget_usd must be a finite amount of USD, 0 or more (got {budget_usd})")
    if rpm is not None and int(rpm) < 1:
        raise UserError(f"rpm must be 1 or more requests per minute (got {rpm})")
