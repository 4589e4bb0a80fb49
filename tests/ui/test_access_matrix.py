"""Every endpoint of the dashboard, its management API and the gateway, driven with every role, a key of another
project, a revoked key and no key; each answer checked against the rights table (README's "Parties and rights",
which tests/access/test_readme_rights.py holds to gensandbox.access.RIGHTS)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from gensandbox.access import RIGHTS
from gensandbox.config import load_config
from gensandbox.gateway import create_app
from gensandbox.store import SQLiteStore
from gensandbox.ui import create_ui_app
from tests.ui.access_world import SESSION, World

CALLERS = ("admin", "developer", "tester", "regulator", "foreign", "revoked", "anonymous")
ROLE = {"admin": "admin", "developer": "developer", "tester": "tester", "regulator": "regulator",
        "foreign": "developer"}
PROJECT = {"admin": "default", "developer": "acme", "tester": "acme", "regulator": "acme", "foreign": "other"}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    right: str | None  # None: any signed-in caller
    project: str | None = None  # the project owning what the path names
    ok: int = 200
    body: dict | None = None
    page: bool = False  # a page: no session sends the browser to sign in (303), not a 401

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


@pytest.fixture(scope="module")
def ui(world):
    return TestClient(create_ui_app(world.config, SQLiteStore(world.config.database_path)),
                      base_url="http://127.0.0.1", follow_redirects=False)


def cases(world: World) -> list[Case]:
    acme_run, other_run = world.runs["acme"], world.runs["other"]
    acme_audit, other_audit = world.audits["acme"], world.audits["other"]
    return [
        Case("GET", "/api/me", None), Case("GET", "/api/projects", None), Case("GET", "/api/models", None),
        Case("POST", "/api/projects", "projects.manage", ok=201, body={"project_id": "made-by-test"}),
        Case("PATCH", "/api/projects/acme", "projects.manage", body={"title": "Acme Inc"}),
        Case("GET", "/api/keys", "keys.manage"),
        Case("POST", "/api/keys", "keys.manage", ok=201, body={"role": "developer", "project": "acme"}),
        Case("PATCH", f"/api/keys/{world.key_ids['tester']}", "keys.manage", body={"label": "the tester"}),
        Case("DELETE", f"/api/keys/{world.spare_key_id}", "keys.manage"),
        Case("GET", "/api/runs", "runs.read"),
        Case("GET", f"/api/runs/{acme_run}", "runs.read", "acme"),
        Case("GET", f"/api/runs/{other_run}", "runs.read", "other"),
        Case("GET", "/api/runs/no-such-run", "runs.read", "nobody", ok=404),
        Case("GET", f"/api/runs/{acme_run}/samples", "samples.read", "acme"),
        Case("GET", f"/api/runs/{other_run}/samples", "samples.read", "other"),
        Case("GET", "/api/audits", "audits.read"),
        Case("GET", f"/api/audits/{acme_audit}", "audits.read", "acme"),
        Case("GET", f"/api/audits/{other_audit}", "audits.read", "other"),
        Case("GET", "/api/traffic", "traffic.aggregate"),
        Case("POST", "/api/ledger/verify", "ledger.read", ok=202),
        Case("GET", "/", None, page=True),
        Case("GET", f"/runs/{acme_run}", "runs.read", "acme", page=True),
        Case("GET", f"/runs/{other_run}", "runs.read", "other", page=True),
        Case("GET", f"/runs/{acme_run}/report", "runs.read", "acme", page=True),
        Case("GET", f"/runs/{other_run}/report", "runs.read", "other", page=True),
        Case("GET", "/traffic", "traffic.aggregate", page=True),
        Case("GET", "/workbench", "runs.start", page=True),
        Case("GET", "/keys", "keys.manage", page=True),
        Case("GET", f"/runs/{acme_run}/live", "runs.read", "acme", page=True),
        Case("GET", f"/runs/{other_run}/live", "runs.read", "other", page=True),
        Case("GET", "/ledger", "ledger.read", page=True),
        Case("POST", "/ledger/verify", "ledger.read", ok=303, page=True),
        Case("GET", "/audits", "audits.read", page=True),
        Case("GET", f"/audits/{acme_audit}", "audits.read", "acme", page=True),
        Case("GET", f"/audits/{other_audit}", "audits.read", "other", page=True),
    ]


def expected(case: Case, caller: str) -> int:
    if caller in ("anonymous", "revoked"):
        return 303 if case.page else 401
    role = ROLE[caller]
    if case.right is not None and role not in RIGHTS[case.right]:
        return 403
    if case.path == "/" and role == "developer":
        return 303  # a developer's home is the traffic page
    if case.project is not None and role != "admin" and case.project != PROJECT[caller]:
        return 404
    if case.path.endswith("/samples") and role == "regulator":
        return 403  # acme keeps hashes only and has not granted regulators its text
    return case.ok


def test_every_dashboard_and_api_endpoint_with_every_caller(world, ui):
    failures = []
    for case in cases(world):
        for caller in CALLERS:
            answer = ui.request(case.method, case.path, headers=world.headers(caller), json=case.body)
            want = expected(case, caller)
            if answer.status_code != want:
                failures.append(f"{case.name} as {caller}: {answer.status_code}, expected {want}: {answer.text[:160]}")
            elif want in (401, 403, 404) and not case.page:
                error = answer.json()["error"]
                assert error["message"] and error["type"], (case.name, caller, error)
    assert not failures, "\n".join(failures)


def test_every_route_is_guarded(world):
    """A route added without a guard would be open to anyone: each handler must say who may call it."""
    app = create_ui_app(world.config, SQLiteStore(world.config.database_path))
    for route in app.routes:
        if isinstance(route, Route):
            assert hasattr(route.endpoint, "action"), f"{route.path} has no guard"


def test_another_projects_ids_look_like_ids_that_do_not_exist(world, ui):
    tester = world.headers("tester")
    guessed = ui.get(f"/api/runs/{world.runs['other']}", headers=tester)
    missing = ui.get("/api/runs/run-nowhere", headers=tester)
    assert guessed.status_code == missing.status_code == 404
    assert guessed.json()["error"]["message"].replace(world.runs["other"], "X") == \
        missing.json()["error"]["message"].replace("run-nowhere", "X")


def test_a_spoofed_session_shows_each_project_only_its_own_calls(world, ui):
    mine = ui.get(f"/api/traces/{SESSION}", headers=world.headers("developer")).json()
    theirs = ui.get(f"/api/traces/{SESSION}", headers=world.headers("foreign")).json()
    everyone = ui.get(f"/api/traces/{SESSION}", headers=world.headers("admin")).json()
    assert len(mine["steps"]) == len(theirs["steps"]) == 1 and len(everyone["steps"]) == 2
    assert mine["steps"][0] != theirs["steps"][0]
    # A tester reads evaluations, never the project's gateway traffic; a regulator reads neither's steps here.
    assert ui.get(f"/api/traces/{SESSION}", headers=world.headers("tester")).status_code == 404
    assert ui.get(f"/traces/{SESSION}", headers=world.headers("regulator")).status_code == 404


def test_changes_from_a_browser_session_need_the_csrf_token(world, ui):
    client = TestClient(ui.app, base_url="http://127.0.0.1", follow_redirects=False)
    signed_in = client.post("/api/signin", json={"key": world.keys["admin"]})
    assert signed_in.status_code == 200
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    token = signed_in.json()["csrf_token"]
    forged = client.post("/api/keys", json={"role": "tester", "project": "acme"})
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf_token_invalid"
    wrong = client.post("/api/keys", json={"role": "tester", "project": "acme"}, headers={"x-csrf-token": "nope"})
    assert wrong.status_code == 403
    made = client.post("/api/keys", json={"role": "tester", "project": "acme"}, headers={"x-csrf-token": token})
    assert made.status_code == 201 and made.json()["key"].startswith("gsk_")
    form = client.post("/ledger/verify", data={"csrf_token": "nope"})
    assert form.status_code == 403
    assert client.post("/ledger/verify", data={"csrf_token": token}).status_code == 303


def test_sign_in_is_rate_limited(world):
    client = TestClient(create_ui_app(world.config, SQLiteStore(world.config.database_path)),
                        base_url="http://127.0.0.1", follow_redirects=False)
    answers = [client.post("/api/signin", json={"key": f"gsk_guess{n}"}).status_code for n in range(7)]
    assert answers[:5] == [401] * 5 and answers[5:] == [429, 429]
    # The right key waits too: the pause is per address, whoever it is.
    assert client.post("/api/signin", json={"key": world.keys["tester"]}).status_code == 429


def test_a_revoked_key_ends_its_session(world, ui):
    client = TestClient(ui.app, base_url="http://127.0.0.1", follow_redirects=False)
    admin = world.headers("admin")
    made = client.post("/api/keys", headers=admin, json={"role": "regulator", "project": "acme"}).json()
    assert client.post("/api/signin", json={"key": made["key"]}).status_code == 200
    assert client.get("/api/me").json()["role"] == "regulator"
    client.delete(f"/api/keys/{made['key_id']}", headers=admin)
    assert client.get("/api/me").status_code == 401
    assert client.get("/ledger").status_code == 303  # a page: back to sign-in


GATEWAY_CASES = [("POST", "/v1/chat/completions", {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}),
                 ("POST", "/v1/responses", {"model": "echo", "input": "hi"}),
                 ("POST", "/v1/messages", {"model": "echo", "max_tokens": 16,
                                           "messages": [{"role": "user", "content": "hi"}]}),
                 ("GET", "/v1/models", None), ("GET", "/metrics", None)]


def gateway_expected(path: str, caller: str) -> int:
    if caller in ("anonymous", "revoked"):
        return 401
    role = ROLE[caller]
    if path == "/metrics":
        return 200 if role in ("admin", "regulator") else 403
    return 200 if role in RIGHTS["gateway.call"] else 403


def test_every_gateway_endpoint_with_every_caller(world):
    app = create_app(world.config, SQLiteStore(world.config.database_path), allow_anonymous=False)
    failures = []
    with TestClient(app, base_url="http://127.0.0.1") as gateway:
        for method, path, body in GATEWAY_CASES:
            for caller in CALLERS:
                answer = gateway.request(method, path, headers=world.headers(caller), json=body)
                if answer.status_code != gateway_expected(path, caller):
                    failures.append(f"{method} {path} as {caller}: {answer.status_code} {answer.text[:120]}")
        for path in ("/healthz", "/openapi.json"):
            assert gateway.get(path).status_code == 200
        # A project's parties reach only the models it shares: acme has echo, not pricey.
        refused = gateway.post("/v1/chat/completions", headers=world.headers("developer"),
                               json={"model": "pricey", "messages": [{"role": "user", "content": "hi"}]})
        assert refused.status_code == 404 and "not available to project `acme`" in refused.json()["error"]["message"]
        listed = gateway.get("/v1/models", headers=world.headers("developer")).json()["data"]
        assert [model["id"] for model in listed] == ["echo"]
        assert {model["id"] for model in gateway.get("/v1/models", headers=world.headers("foreign")).json()["data"]
                } == {"echo", "pricey"}
    assert not failures, "\n".join(failures)


def test_only_admins_register_models_and_never_at_a_link_local_address(world, ui):
    model = {"name": "team-llm", "provider": "openai", "model": "m", "base_url": "http://10.0.0.7:8000/v1"}
    for who in ("developer", "tester", "regulator", "foreign"):
        assert ui.post("/api/models", headers=world.headers(who), json={"model": model}).status_code == 403
    admin = world.headers("admin")
    internal = ui.post("/api/models", headers=admin, json={"model": model})
    assert internal.status_code == 400 and "10.0.0.7" in internal.json()["error"]["message"]
    metadata = {**model, "name": "meta", "base_url": "http://169.254.169.254/latest"}
    refused = ui.post("/api/models", headers=admin, json={"model": metadata, "allow_internal": True})
    assert refused.status_code == 400 and "link-local" in refused.json()["error"]["message"]
    made = ui.post("/api/models", headers=admin, json={"model": model, "allow_internal": True})
    assert made.status_code == 201, made.text
    assert "team-llm" in [m["name"] for m in ui.get("/api/models", headers=admin).json()]
    assert ui.delete("/api/models/team-llm", headers=world.headers("tester")).status_code == 403
    assert ui.delete("/api/models/team-llm", headers=admin).status_code == 200


def test_gateway_events_carry_their_projects_keyed_digests(world):
    """Each project's calls are digested with its own key: a holder of the ledger cannot test a guessed prompt
    against it (no plain sha256), a holder of the project's key can, and another project's key cannot."""
    import hashlib

    import orjson

    from gensandbox.ledger.digests import DigestKeys, digest_key_path, event_digest, prompt_bytes
    from gensandbox.ledger.writer import open_backend

    backend = open_backend(world.config.ledger_url)
    try:
        calls = [r for r in map(orjson.loads, backend.lines(0)) if r.get("kind") == "gen_ai.call"]
    finally:
        backend.close()
    keys = DigestKeys.load_or_create(digest_key_path(world.config.signing_key_path))
    for who, project, other in (("developer", "acme", "other"), ("foreign", "other", "acme")):
        call = next(c for c in calls if c.get("gensandbox.key_id") == world.key_ids[who])
        assert call["gensandbox.project"] == project
        prompt = prompt_bytes([{"role": "user", "content": f"{who} says hi"}])
        assert call["gensandbox.prompt_sha256"] != hashlib.sha256(prompt).hexdigest()
        assert call["gensandbox.prompt_sha256"] == event_digest(call, keys.for_project(project), prompt)
        assert call["gensandbox.prompt_sha256"] != event_digest(call, keys.for_project(other), prompt)


def test_a_developer_cannot_point_the_upstream_at_an_internal_address(world):
    app = create_app(world.config, SQLiteStore(world.config.database_path), allow_anonymous=False)
    image = {"model": "echo", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "http://169.254.169.254/latest/meta-data/"}}]}]}
    with TestClient(app, base_url="http://127.0.0.1") as gateway:
        refused = gateway.post("/v1/chat/completions", headers=world.headers("developer"), json=image)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "internal_url"
        assert "169.254.169.254" in refused.json()["error"]["message"]


def test_a_project_key_holder_checks_a_text_against_its_events(world, capsys):
    import orjson

    from gensandbox.cli.app import main
    from gensandbox.ledger.writer import open_backend

    backend = open_backend(world.config.ledger_url)
    try:
        records = [orjson.loads(line) for line in backend.lines(0)]
    finally:
        backend.close()
    seq = next(r["seq"] for r in records if r.get("gensandbox.key_id") == world.key_ids["developer"])
    config = ["-c", str(world.config.source)]
    assert main(["ledger", "project-key", "--project", "acme", *config]) == 0
    acme_key = capsys.readouterr().out.strip()
    assert main(["ledger", "project-key", "--project", "other", *config]) == 0
    other_key = capsys.readouterr().out.strip()
    assert main(["ledger", "digest", "developer says hi", "--key", acme_key, "--seq", str(seq), *config]) == 0
    assert capsys.readouterr().out.startswith(f"match: the text is record {seq}'s prompt")
    assert main(["ledger", "digest", "developer says hi", "--key", other_key, "--seq", str(seq), *config]) == 0
    assert capsys.readouterr().out.startswith("no match")
    assert main(["ledger", "digest", "a guess", "--key", acme_key, "--seq", str(seq), *config]) == 0
    assert capsys.readouterr().out.startswith("no match")


def test_a_developer_registers_a_variant_of_its_projects_model(world, ui):
    export = {"format": "gensandbox-variant", "format_version": 1, "name": "polite-ko", "version": "v",
              "definition": {"base": "echo", "system": "존댓말로 답하세요."}, "documents": []}
    for who in ("tester", "regulator"):
        assert ui.post("/api/variants", headers=world.headers(who), json={"export": export}).status_code == 403
    other_base = ui.post("/api/variants", headers=world.headers("developer"), json={"export": export, "base": "pricey"})
    assert other_base.status_code == 400 and "pricey" in other_base.json()["error"]["message"]
    made = ui.post("/api/variants", headers=world.headers("developer"), json={"export": export})
    assert made.status_code == 201, made.text
    assert made.json()["variant"] == "variant:polite-ko"
    acme = next(p for p in ui.get("/api/projects", headers=world.headers("developer")).json()
                if p["project_id"] == "acme")
    assert "variant:polite-ko" in acme["models"]
    traversal = {**export, "name": "escape", "documents": [{"path": "../../x.md", "encoding": "utf-8",
                                                             "content": "x"}]}
    refused = ui.post("/api/variants", headers=world.headers("developer"), json={"export": traversal})
    assert refused.status_code == 400 and "not a relative" in refused.json()["error"]["message"]


def test_before_any_key_only_this_machine_is_the_operator(tmp_path, monkeypatch, upstream):
    """With no keys yet the dashboard answers its own machine as an admin, and nobody else."""
    from tests.helpers import write_config

    monkeypatch.setenv("GENSANDBOX_HOME", str(tmp_path))
    config = load_config(write_config(tmp_path, upstream.url, {"echo": "echo"}))
    app = create_ui_app(config, SQLiteStore(config.database_path), allowed_hosts=["*"])
    local = TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000))
    assert local.get("/api/me").json()["role"] == "admin"
    remote = TestClient(app, base_url="http://127.0.0.1", client=("192.0.2.7", 50000))
    assert remote.get("/api/me").status_code == 401
