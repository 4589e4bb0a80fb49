"""Projects, keys and the rights table: admin acts checked against the actor's role and put on the ledger, signed."""

from __future__ import annotations

import orjson
import pytest

from gensandbox.access import OPERATOR, RIGHTS, ROLES, Principal, ProjectStore, may_read_text, require
from gensandbox.access.keys import KeyAdmin, KeyRing
from gensandbox.access.projects import ProjectAdmin
from gensandbox.access.record import ADMIN, AdminRecorder
from gensandbox.audits.record import verify_home
from gensandbox.config import load_config
from gensandbox.errors import Denied, UserError
from gensandbox.ledger.writer import open_backend
from gensandbox.store import open_store


@pytest.fixture
def admin_world(home):
    config = load_config(None)
    store = open_store(config)
    recorder = AdminRecorder(config)
    yield config, store, KeyAdmin(store, recorder), ProjectAdmin(store, recorder)
    store.close()


def admin_events(config) -> list[dict]:
    backend = open_backend(config.ledger_url)
    try:
        return [record for record in map(orjson.loads, backend.lines(0)) if record.get("kind") == ADMIN]
    finally:
        backend.close()


def test_every_admin_act_is_a_signed_ledger_event_naming_who(admin_world):
    config, store, keys, projects = admin_world
    projects.create(OPERATOR, "acme", "Acme chatbot", models=["echo"])
    secret, record = keys.create(OPERATOR, "tester", "acme", budget_usd=2.0)
    keys.change(OPERATOR, record.key_id, {"role": "developer"})
    keys.change(OPERATOR, record.key_id, {"budget_usd": 5.0})
    keys.revoke(OPERATOR, record.key_id)
    projects.change(OPERATOR, "acme", {"privacy": "full", "regulator_text": True})
    events = admin_events(config)
    assert [event["gensandbox.action"] for event in events] == [
        "project.created", "key.created", "key.role_changed", "key.changed", "key.revoked", "project.changed"]
    assert all(event["gensandbox.actor.key_id"] == "operator" and event["gensandbox.project"] == "acme"
               for event in events)
    assert events[2]["gensandbox.target"]["role"] == {"from": "tester", "to": "developer"}
    assert secret not in orjson.dumps(events).decode()  # the key's secret is never on the record
    check = verify_home(config)
    assert check.verdict.ok and check.verdict.unsigned_tail == 0 and check.verdict.signatures_checked


def test_only_admins_administer(admin_world):
    _, store, keys, projects = admin_world
    for role in ("developer", "tester", "regulator"):
        actor = Principal("key_x", role, "default")
        with pytest.raises(Denied) as refused:
            keys.create(actor, "developer", "default")
        assert refused.value.status == 403 and f"a {role} key may not create, change or revoke keys" in str(
            refused.value)
        with pytest.raises(Denied):
            projects.create(actor, "mine")


def test_keys_and_projects_refuse_bad_settings(admin_world):
    _, store, keys, projects = admin_world
    with pytest.raises(UserError, match="unknown role `boss`"):
        keys.create(OPERATOR, "boss", "default")
    with pytest.raises(UserError, match="no project `nowhere`"):
        keys.create(OPERATOR, "developer", "nowhere")
    with pytest.raises(UserError, match="budget_usd must be a finite amount"):
        keys.create(OPERATOR, "developer", "default", budget_usd=float("inf"))
    with pytest.raises(UserError, match="is not a project id"):
        projects.create(OPERATOR, "../etc")
    projects.create(OPERATOR, "acme")
    with pytest.raises(UserError, match="exists already"):
        projects.create(OPERATOR, "acme")


def test_a_revoked_key_is_gone_from_the_ring_within_a_second(admin_world):
    _, store, keys, _ = admin_world
    secret, record = keys.create(OPERATOR, "regulator", "default")
    ring = KeyRing(store)
    assert ring.find(secret).key_id == record.key_id and ring.keys_exist
    keys.revoke(OPERATOR, record.key_id)
    ring.reload()
    assert ring.find(secret) is None and ring.keys_exist  # revoking every key does not reopen anything


def test_the_default_project_exists_from_the_start_and_owns_old_runs(admin_world):
    _, store, _, projects = admin_world
    assert [project.project_id for project in ProjectStore(store).list()] == ["default"]
    changed = projects.change(OPERATOR, "default", {"models": ["echo"]})
    assert changed.models == ["echo"] and not changed.allows_model("other") and changed.allows_model("echo")


def test_rights_are_deny_by_default():
    assert set(ROLES) == {"developer", "tester", "regulator", "admin"}
    for action, roles in RIGHTS.items():
        assert "admin" in roles, action  # an admin may do everything
    tester = Principal("k", "tester", "p")
    with pytest.raises(Denied):
        require(tester, "gateway.call")
    regulator = Principal("k", "regulator", "p")
    assert not may_read_text(regulator, "hashes", True) and not may_read_text(regulator, "full", False)
    assert may_read_text(regulator, "full", True) and may_read_text(tester, "hashes", False)
    assert not may_read_text(Principal("k", "developer", "p"), "full", True)
