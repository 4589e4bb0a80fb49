"""Admin actions on the record: each key made, changed or revoked, project created or changed and model registered
is a ledger event naming who did it, signed with the chain's next checkpoint (written when the act is recorded)."""

from __future__ import annotations

import threading

from gensandbox.access.rights import Principal
from gensandbox.canonical import now_utc_precise
from gensandbox.config import Config
from gensandbox.ledger.writer import open_ledger

ADMIN = "gensandbox.admin"


def admin_event(actor: Principal, action: str, project_id: str, target: dict) -> dict:
    """The ledger content of one admin act. Never a key's secret: `target` carries ids and settings only."""
    return {
        "kind": ADMIN,
        "time": now_utc_precise(),
        "gen_ai.conversation.id": f"admin/{project_id}",
        "gensandbox.source": "admin",
        "gensandbox.action": action,
        "gensandbox.actor.key_id": actor.key_id,
        "gensandbox.actor.role": actor.role,
        "gensandbox.project": project_id,
        "gensandbox.target": {name: value for name, value in target.items() if value is not None},
    }


class AdminRecorder:
    """Writes admin events to the configured ledger, durably and signed, before the act is reported done."""

    def __init__(self, config: Config):
        self._config = config
        self._lock = threading.Lock()

    def record(self, actor: Principal, action: str, project_id: str, target: dict) -> None:
        with self._lock:  # one ledger writer per act: a checkpoint per act keeps each one signed at once
            ledger = open_ledger(self._config)
            try:
                ledger.commit([admin_event(actor, action, project_id, target)])
            finally:
                ledger.close()
