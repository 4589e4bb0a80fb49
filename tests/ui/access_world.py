"""A sandbox shared by two projects, for the access tests: keys of every role in `acme`, a developer of `other`,
a revoked key; a run, a sample and an audit in each project; gateway traffic from both projects under the same
session id (one of them spoofing the other's)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gensandbox.access import OPERATOR
from gensandbox.access.keys import KeyAdmin
from gensandbox.access.projects import ProjectAdmin, ProjectStore
from gensandbox.access.record import AdminRecorder
from gensandbox.config import Config, load_config
from gensandbox.gateway import create_app
from gensandbox.store import SQLiteStore, open_store
from gensandbox.store.audits import AuditStore
from gensandbox.store.base import RunRecord, SampleRecord
from tests.helpers import write_config
from tests.upstream import UpstreamServer

SESSION = "shared-session"
PROMPT = "acme's secret plan"


@dataclass
class World:
    config: Config
    keys: dict[str, str]  # who → secret: admin, developer, tester, regulator (acme), foreign (other's developer)
    key_ids: dict[str, str]
    revoked: str  # a revoked acme developer's secret
    spare_key_id: str  # an acme key an admin may revoke in a test
    runs: dict[str, str] = field(default_factory=dict)  # project → run id
    audits: dict[str, str] = field(default_factory=dict)  # project → audit id

    def headers(self, who: str) -> dict:
        if who == "anonymous":
            return {}
        secret = self.revoked if who == "revoked" else self.keys[who]
        return {"authorization": f"Bearer {secret}"}


@contextmanager
def world_in(home: Path) -> Iterator[World]:
    """A shared sandbox in `home` (its own store, ledger and keys: GENSANDBOX_HOME points there meanwhile) in front
    of a scripted upstream, for a test module."""
    upstream = UpstreamServer().start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GENSANDBOX_HOME", str(home))
        try:
            yield build_world(home, upstream.url)
        finally:
            upstream.stop()


def build_world(home: Path, upstream_url: str) -> World:
    config = load_config(write_config(home, upstream_url, {"echo": "echo", "pricey": "echo"}))
    store = open_store(config)
    recorder = AdminRecorder(config)
    projects, keys = ProjectAdmin(store, recorder), KeyAdmin(store, recorder)
    projects.create(OPERATOR, "acme", "Acme", models=["echo"])
    projects.create(OPERATOR, "other", "Other", models=["echo", "pricey"])
    secrets, ids = {}, {}
    for who, role, project in (("admin", "admin", "default"), ("developer", "developer", "acme"),
                               ("tester", "tester", "acme"), ("regulator", "regulator", "acme"),
                               ("foreign", "developer", "other")):
        secrets[who], record = keys.create(OPERATOR, role, project, label=who)
        ids[who] = record.key_id
    revoked, record = keys.create(OPERATOR, "developer", "acme")
    keys.revoke(OPERATOR, record.key_id)
    _, spare = keys.create(OPERATOR, "developer", "acme", label="spare")
    world = World(config, secrets, ids, revoked, spare.key_id)
    for project in ("acme", "other"):
        world.runs[project] = _run(store, project)
        audit = AuditStore(store).save("switching", f"{project} switching", {"method": "m", "run_id": "x"})
        ProjectStore(store).assign_audit(audit.audit_id, project)
        world.audits[project] = audit.audit_id
    store.close()
    _traffic(world)
    return world


def _run(store, project: str) -> str:
    run_id = f"run-{project}"
    store.create_run(RunRecord(run_id, "2026-12-01T00:00:00Z", "finished",
                               [{"name": "echo", "provider": "openai"}], [{"name": "s", "items": 1}]))
    store.add_sample(SampleRecord(run_id, "echo", "s", "q1", "knowledge", "en",
                                  {"messages": [{"role": "user", "content": f"{project} {PROMPT}"}]},
                                  f"{project} answer", "stop", 3, 2, 0.01, 0.0, 1.0, {"name": "includes"}, "ok"))
    ProjectStore(store).assign_run(run_id, project, "test")
    return run_id


def _traffic(world: World) -> None:
    """One call from each project under the same session id, through a real gateway (its ledger events)."""
    app = create_app(world.config, SQLiteStore(world.config.database_path), allow_anonymous=False)
    with TestClient(app, base_url="http://127.0.0.1") as gateway:
        for who in ("developer", "foreign"):
            answer = gateway.post("/v1/chat/completions", headers={**world.headers(who),
                                                                   "x-gensandbox-session": SESSION},
                                  json={"model": "echo", "messages": [{"role": "user", "content": f"{who} says hi"}]})
            assert answer.status_code == 200, answer.text
