"""The workbench's engine through its API: a tester uploads a Korean suite, sees the estimate, starts a capped run
on the project's model and watches it finish; uploads that carry code, reach outside or are too big are refused;
other roles and other projects cannot start, watch or cancel."""

from __future__ import annotations

import json
import threading
import time

import pytest
from starlette.testclient import TestClient

from gensandbox.runner import jobs
from gensandbox.store import SQLiteStore
from gensandbox.ui import create_ui_app

ITEMS = [{"id": f"k{n}", "language": "ko", "category": "knowledge", "target": "서울", "scorer": "includes",
          "messages": [{"role": "user", "content": f"대한민국의 수도는 서울입니다 ({n})."}]} for n in range(3)]


def jsonl(rows) -> bytes:
    return "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode()


@pytest.fixture(scope="module")
def ui(world):
    with TestClient(create_ui_app(world.config, SQLiteStore(world.config.database_path)),
                    base_url="http://127.0.0.1", follow_redirects=False) as client:
        yield client


def upload(ui, world, who: str, name: str, data: bytes):
    return ui.post("/api/suites", headers=world.headers(who), files={"file": (name, data, "application/x-ndjson")})


def wait_until_ended(ui, world, run_id: str, who: str = "tester") -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        progress = ui.get(f"/api/runs/{run_id}/progress?lang=ko", headers=world.headers(who)).json()
        if progress["status"] in ("finished", "capped", "cancelled", "failed"):
            return progress
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not end: {progress}")


def test_a_tester_uploads_a_korean_suite_and_runs_it_with_a_cap(world, ui):
    uploaded = upload(ui, world, "tester", "수도.jsonl", jsonl(ITEMS))
    assert uploaded.status_code == 201, uploaded.text
    suite = uploaded.json()
    assert suite["items"] == 3 and suite["suite"].startswith("upload:") and str(world.config.home) not in uploaded.text
    request = {"models": ["echo"], "suites": [suite["suite"]], "max_cost_usd": 1.0}
    estimated = ui.post("/api/estimate?lang=ko", headers=world.headers("tester"), json=request)
    assert estimated.status_code == 200 and estimated.json()["items"] == 3 and "문항 3개" in estimated.json()["message"]
    started = ui.post("/api/runs", headers=world.headers("tester"), json=request)
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    progress = wait_until_ended(ui, world, run_id)
    assert progress["status"] == "finished" and progress["done"] == progress["total"] == 3 and progress["errors"] == 0
    assert progress["message"] == "완료"
    results = ui.get(f"/api/runs/{run_id}", headers=world.headers("regulator")).json()
    assert results["results"][0]["score"] == 1.0  # the echo model repeats the prompt, which holds the target
    assert run_id in [run["run_id"] for run in ui.get("/api/runs", headers=world.headers("tester")).json()]
    # Another project's parties cannot see it, watch it or cancel it; those who may not start runs cannot either.
    assert ui.get(f"/api/runs/{run_id}/progress", headers=world.headers("foreign")).status_code == 403
    assert ui.get(f"/api/runs/{run_id}", headers=world.headers("admin")).status_code == 200
    for who in ("developer", "regulator", "foreign"):
        assert ui.post("/api/runs", headers=world.headers(who), json=request).status_code == 403
        assert ui.post(f"/api/runs/{run_id}/cancel", headers=world.headers(who)).status_code == 403


def test_a_runs_live_page_opens_before_its_thread_has_stored_it(world, ui, monkeypatch):
    """The workbench opens the live page right after POST /api/runs; a run still waiting for its thread (queued, or
    not yet created in the store) must show its page, not a 404, and is watched from memory."""
    gate, open_store = threading.Event(), jobs.open_store
    monkeypatch.setattr(jobs, "open_store", lambda config: gate.wait(10) and open_store(config))
    started = ui.post("/api/runs", headers=world.headers("tester"),
                      json={"models": ["echo"], "suites": ["basics-ko"], "limit": 1})
    run_id = started.json()["run_id"]
    try:
        for who in ("tester", "regulator", "admin"):
            page = ui.get(f"/runs/{run_id}/live", headers=world.headers(who))
            assert page.status_code == 200 and run_id in page.text, who
        progress = ui.get(f"/api/runs/{run_id}/progress", headers=world.headers("tester")).json()
        assert progress["status"] in ("queued", "running") and progress["done"] == 0
    finally:
        gate.set()
    assert wait_until_ended(ui, world, run_id)["status"] == "finished"


def test_a_run_names_only_its_projects_models_and_suites(world, ui):
    tester = world.headers("tester")
    refused = ui.post("/api/runs", headers=tester, json={"models": ["pricey"], "suites": ["basics-ko"]})
    assert refused.status_code == 400 and "not one your project may run" in refused.json()["error"]["message"]
    for suite in ("../../../etc/passwd", "/etc/passwd", str(world.config.database_path),
                  "upload:0123456789abcdef/../../gensandbox.db"):
        answer = ui.post("/api/runs", headers=tester, json={"models": ["echo"], "suites": [suite]})
        assert answer.status_code == 400 and "unknown suite" in answer.json()["error"]["message"], suite
    # Another project's upload is not this project's, even with its token.
    theirs = upload(ui, world, "admin", "theirs.jsonl", jsonl(ITEMS)).json()["suite"]
    assert ui.post("/api/estimate", headers=tester, json={"models": ["echo"], "suites": [theirs]}).status_code == 400
    bad = ui.post("/api/runs", headers=tester, json={"models": ["echo"], "suites": ["basics-ko"], "max_cost_usd": -1})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "max_cost_usd"


def test_uploads_that_carry_code_reach_outside_or_are_too_big_are_refused(world, ui):
    agent = {**ITEMS[0], "scorer": {"name": "no-tool"}, "tools": [], "environment": {"class": "env.py:Env"}}
    python_env = upload(ui, world, "tester", "agent.jsonl", jsonl([agent]))
    assert python_env.status_code == 400 and "Python environment" in python_env.json()["error"]["message"]
    escaping = upload(ui, world, "tester", "../../escape.jsonl", jsonl(ITEMS))
    assert escaping.status_code == 201 and "escape" in escaping.json()["name"]  # stored under its plain name
    assert not (world.config.home / "escape.jsonl").exists()
    big = upload(ui, world, "tester", "big.jsonl", b"x" * 5_100_000)
    assert big.status_code == 413
    wrong = upload(ui, world, "tester", "suite.exe", b"MZ")
    assert wrong.status_code == 400 and "not a suite file" in wrong.json()["error"]["message"]
    for who in ("developer", "regulator"):
        assert upload(ui, world, who, "s.jsonl", jsonl(ITEMS)).status_code == 403


def test_no_page_shows_a_path_on_the_server(world, ui):
    """The run of an uploaded suite, its report, progress and every listing: names, never where the server keeps
    files (the home folder holds the store, the ledger, the keys and the uploads)."""
    suite = upload(ui, world, "tester", "paths.jsonl", jsonl(ITEMS)).json()["suite"]
    run_id = ui.post("/api/runs", headers=world.headers("tester"),
                     json={"models": ["echo"], "suites": [suite]}).json()["run_id"]
    wait_until_ended(ui, world, run_id)
    admin = world.headers("admin")
    home = str(world.config.home)
    for path in ("/", f"/runs/{run_id}", f"/runs/{run_id}/report", f"/runs/{run_id}/live", "/workbench", "/keys",
                 "/ledger", "/traffic", "/audits", f"/api/runs/{run_id}", f"/api/runs/{run_id}/progress",
                 "/api/runs", f"/api/runs/{run_id}/samples", "/api/models", "/api/projects", "/api/me"):
        answer = ui.get(path, headers=admin)
        assert answer.status_code == 200, path
        assert home not in answer.text and "/tmp/" not in answer.text, path


def test_a_switching_audit_starts_from_the_api_and_is_saved_to_its_project(world, ui):
    admin = world.headers("admin")
    request = {"kind": "switching", "from_model": "echo", "to_model": "pricey", "suite": "basics-ko",
               "max_items": 3}
    for who in ("developer", "regulator"):
        assert ui.post("/api/audits", headers=world.headers(who), json=request).status_code == 403
    refused = ui.post("/api/audits", headers=world.headers("tester"), json=request)
    assert refused.status_code == 400 and "pricey" in refused.json()["error"]["message"]  # not acme's model
    started = ui.post("/api/audits", headers=admin, json=request)
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    deadline = time.monotonic() + 60
    while (job := ui.get(f"/api/audits/jobs/{job_id}", headers=admin).json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["status"] == "finished" and job["audit_id"], job
    assert ui.get(f"/api/audits/jobs/{job_id}", headers=world.headers("tester")).status_code == 404
    audit = ui.get(f"/api/audits/{job['audit_id']}", headers=admin).json()
    assert audit["kind"] == "switching" and audit["result"]["alternatives"][0]["model"] == "pricey"
    # Saved to the admin's project (default): acme's tester does not see it.
    assert ui.get(f"/api/audits/{job['audit_id']}", headers=world.headers("tester")).status_code == 404


def test_a_workbench_runs_events_belong_to_its_project(world, ui):
    """The run's ledger events are the project's that started it (the store says who owns a run), so its own
    parties see them listed and another project's do not."""
    import orjson

    from gensandbox.access import Principal
    from gensandbox.ledger.writer import open_backend
    from gensandbox.store import open_store
    from gensandbox.ui.scope import scope_of

    # A prompt no earlier run sent: a cached answer would make no call, and so no event.
    fresh = [{**ITEMS[0], "messages": [{"role": "user", "content": "서울은 처음 묻는 질문입니다."}]}]
    suite = upload(ui, world, "tester", "trace.jsonl", jsonl(fresh)).json()["suite"]
    run_id = ui.post("/api/runs", headers=world.headers("tester"),
                     json={"models": ["echo"], "suites": [suite]}).json()["run_id"]
    wait_until_ended(ui, world, run_id)
    backend = open_backend(world.config.ledger_url)
    try:
        events = [r for r in map(orjson.loads, backend.lines(0)) if r.get("gensandbox.run_id") == run_id]
    finally:
        backend.close()
    store = open_store(world.config)
    try:
        acme = scope_of(store, Principal("k1", "regulator", "acme"))
        other = scope_of(store, Principal("k2", "regulator", "other"))
    finally:
        store.close()
    assert events and all(acme.sees_event(e) for e in events) and not any(other.sees_event(e) for e in events)
