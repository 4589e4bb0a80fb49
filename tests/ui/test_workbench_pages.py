"""The workbench's pages over HTTP: a run the dashboard has just started, or queued behind another, already has
its live page (the browser is sent there by the start's answer, before the run's thread has written anything)."""

from __future__ import annotations

import time

from starlette.testclient import TestClient

from gensandbox.access import OPERATOR
from gensandbox.access.keys import KeyAdmin
from gensandbox.access.projects import ProjectAdmin
from gensandbox.access.record import AdminRecorder
from gensandbox.config import load_config
from gensandbox.store import SQLiteStore, open_store
from gensandbox.ui import create_ui_app
from tests.helpers import write_config

HELD = "held-after-20"  # the scripted upstream answers 20 calls, then holds each later one until released


def _testers(config) -> dict[str, dict]:
    store = open_store(config)
    try:
        recorder = AdminRecorder(config)
        keys = KeyAdmin(store, recorder)
        headers = {}
        for project in ("lab", "other"):
            ProjectAdmin(store, recorder).create(OPERATOR, project, project)
            headers[project] = {"authorization": f"Bearer {keys.create(OPERATOR, 'tester', project)[0]}"}
        return headers
    finally:
        store.close()


def _progress(ui, run_id: str, headers: dict) -> dict:
    return ui.get(f"/api/runs/{run_id}/progress", headers=headers).json()


def test_a_queued_run_has_its_live_page_at_once(tmp_path, monkeypatch, upstream, recorder):
    monkeypatch.setenv("GENSANDBOX_HOME", str(tmp_path))
    config = load_config(write_config(tmp_path, upstream.url, {"held": HELD}, extra="[serve]\nconcurrent_runs = 1\n"))
    testers = _testers(config)
    request = {"models": ["held"], "suites": ["basics-ko"]}
    with TestClient(create_ui_app(config, SQLiteStore(config.database_path)), base_url="http://127.0.0.1") as ui:
        first = ui.post("/api/runs", headers=testers["lab"], json=request).json()["run_id"]
        deadline = time.monotonic() + 20
        while recorder.answered.get(HELD, 0) <= 20:  # the first run holds the only slot
            assert time.monotonic() < deadline, recorder.answered
            time.sleep(0.05)
        second = ui.post("/api/runs", headers=testers["lab"], json=request).json()["run_id"]
        assert _progress(ui, second, testers["lab"])["status"] == "queued"
        page = ui.get(f"/runs/{second}/live", headers=testers["lab"])
        assert page.status_code == 200 and f'data-run="{second}"' in page.text
        assert ui.get(f"/runs/{second}/live", headers=testers["other"]).status_code == 404  # not its project's
        recorder.release.set()
        for run_id in (first, second):
            while (progress := _progress(ui, run_id, testers["lab"]))["status"] in ("queued", "running"):
                assert time.monotonic() < deadline + 30, progress
                time.sleep(0.05)
            assert progress["status"] == "finished", progress
