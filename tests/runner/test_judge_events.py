"""Every model call that spends is on the record: a run's judge calls (stored with the samples they graded, so a
resumed run's cost cap counts them and `--resume` rebuilds their events), pairwise judging, and audits."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import orjson
import pytest

from gensandbox.cli.app import main
from gensandbox.ledger.events import CALL, CHAIN_FIELDS
from gensandbox.ledger.sqlite import SQLiteLedger
from tests.audits.test_self_preference import audit_config
from tests.helpers import write_config, write_suite

JUDGED = [{"id": f"q{n}", "language": "en", "category": "open", "target": "Paris",
           "scorer": {"name": "judge", "args": {"rubric": "Names the capital of France."}},
           "messages": [{"role": "user", "content": f"What is the capital of France? ({n})"}]} for n in range(3)]


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def call_events(path: Path) -> list[dict]:
    backend = SQLiteLedger(path)
    try:
        return [record for record in map(orjson.loads, backend.lines()) if record["kind"] == CALL]
    finally:
        backend.close()


def by_source(events: list[dict], source: str) -> list[dict]:
    return [event for event in events if event["gensandbox.source"] == source]


def stored(database: Path, run_id: str) -> list[tuple]:
    return sqlite3.connect(database).execute(
        "SELECT model, item_id, cost_usd, judge_cost_usd, judge_call FROM samples WHERE run_id = ? ORDER BY id",
        (run_id,)).fetchall()


@pytest.fixture
def judged_run(home, tmp_path, upstream, capsys) -> Path:
    config = write_config(tmp_path, upstream.url, {"echo": "echo", "other": "echo", "grader": "grader"},
                          extra='[ledger]\nprivacy = "full"\n')
    suite = write_suite(tmp_path, "open", JUDGED)
    code, _, err = cli(capsys, "run", "-c", str(config), "-m", "echo,other", "-s", str(suite), "--judge", "grader",
                       "--run-id", "j1", "--no-cache")
    assert code == 0, err
    return config


def test_each_judged_sample_has_its_judge_event_and_its_judge_cost_in_the_store(home, judged_run):
    events = call_events(home / "ledger.db")
    assert len(by_source(events, "run")) == 6
    judges = {(e["gensandbox.judged_model"], e["gensandbox.item_id"]): e for e in by_source(events, "judge")}
    rows = stored(home / "gensandbox.db", "j1")
    assert len(judges) == len(rows) == 6
    for model, item_id, _, judge_cost, judge_call in rows:
        event, call = judges[model, f"open/{item_id}#0/judge"], json.loads(judge_call)
        assert judge_cost > 0 and call["cost_usd"] == judge_cost and call["requested_model"] == "grader"
        assert event["gen_ai.request.model"] == "grader" and event["gensandbox.run_id"] == "j1"
        assert event["gensandbox.cost_usd"] == round(judge_cost, 10) and event["time"] == call["started_at"]
        assert event["gen_ai.output.messages"][0]["content"].endswith("GRADE: C")
        assert f"What is the capital of France? ({item_id[1:]})" in event["gen_ai.input.messages"][1]["content"]


def test_a_resumed_runs_spent_so_far_counts_its_judge_calls(home, judged_run, capsys):
    database = home / "gensandbox.db"
    with sqlite3.connect(database) as db:  # as if killed after two items of each model
        db.execute("DELETE FROM samples WHERE run_id = 'j1' AND item_id = 'q2'")
        db.execute("UPDATE runs SET status = 'interrupted' WHERE run_id = 'j1'")
    kept = stored(database, "j1")
    spent = sum(cost + judge_cost for _, _, cost, judge_cost, _ in kept)
    assert sum(judge_cost for *_, judge_cost, _ in kept) > 0
    code, out, err = cli(capsys, "run", "-c", str(judged_run), "--resume", "j1", "--max-cost", "10")
    assert code == 0, err
    assert f"${spent:.6f} already spent" in out
    assert len(stored(database, "j1")) == 6


def without_chain(event: dict) -> bytes:
    return orjson.dumps({k: v for k, v in event.items() if k not in CHAIN_FIELDS}, option=orjson.OPT_SORT_KEYS)


def test_a_lost_ledger_loses_no_judge_event_resume_writes_them_as_the_calls_did(home, tmp_path, judged_run,
                                                                                monkeypatch, capsys):
    original = by_source(call_events(home / "ledger.db"), "judge")
    monkeypatch.setenv("GENSANDBOX_LEDGER_URL", f"sqlite:///{tmp_path / 'new-ledger.db'}")
    with sqlite3.connect(home / "gensandbox.db") as db:  # answers from the cache: judged, but no call event due
        db.execute("UPDATE samples SET cached = 1 WHERE run_id = 'j1' AND model = 'other'")
    code, _, err = cli(capsys, "ledger", "verify", "-c", str(judged_run))
    assert code == 1 and "but 6 stored samples have no call event, in run j1 (6)" in err

    code, out, err = cli(capsys, "run", "-c", str(judged_run), "--resume", "j1")
    assert code == 0, err
    assert "wrote the call events of 6 stored samples that had none" in out
    rebuilt = call_events(tmp_path / "new-ledger.db")
    assert len(by_source(rebuilt, "run")) == 3
    # The judge's record kept its start: the rebuilt event is the one the call wrote, time included.
    assert sorted(map(without_chain, by_source(rebuilt, "judge"))) == sorted(map(without_chain, original))
    code, out, err = cli(capsys, "ledger", "verify", "-c", str(judged_run))
    assert code == 0 and out.startswith("OK: "), err


def test_pairwise_judging_leaves_a_judge_event_per_call_before_it_reports(home, tmp_path, upstream, capsys):
    config = write_config(tmp_path, upstream.url, {"echo": "echo", "other": "echo", "biased": "prefers-first"})
    suite = write_suite(tmp_path)
    assert cli(capsys, "run", "-c", str(config), "-s", str(suite), "-m", "echo,other", "--run-id", "a")[0] == 0
    code, out, err = cli(capsys, "compare", "a", "echo", "other", "--judge", "biased", "-c", str(config))
    assert code == 0 and "ties 100%" in out, err
    judged = by_source(call_events(home / "ledger.db"), "judge")
    assert len(judged) == 8  # 4 items × both orders
    assert {(e["gen_ai.request.model"], e["gensandbox.run_id"]) for e in judged} == {("biased", "a")}
    assert {e["gensandbox.item_id"] for e in judged} >= {"echo-suite/e1#0/pairwise/echo vs other",
                                                          "echo-suite/e1#0/pairwise/other vs echo"}
    assert all(e["gensandbox.cost_usd"] > 0 for e in judged)
    assert cli(capsys, "ledger", "verify", "-c", str(config))[0] == 0


def test_self_preference_audit_calls_leave_audit_events_and_cached_ones_none(home, tmp_path, upstream, capsys):
    config = audit_config(tmp_path, upstream.url)
    args = ("audit", "self-preference", "-c", str(config), "--json", "--only", "judge", "--judges", "biased,fair",
            "-m", "acme-writer,fair-writer", "--questions", "2")
    code, out, err = cli(capsys, *args)
    assert code == 0, err
    audits = by_source(call_events(home / "ledger.db"), "audit")
    assert len(audits) == json.loads(out)["calls"] == 4 + 8  # 2 models × 2 questions answered, 2 judges × 4 graded
    ids = {e["gensandbox.item_id"] for e in audits}
    assert len(ids) == 12 and all(i.startswith(("self-preference/answer/", "self-preference/judge/")) for i in ids)
    assert "self-preference/answer/acme-writer|basics-en/" in "".join(sorted(ids))
    assert round(sum(e["gensandbox.cost_usd"] for e in audits), 8) == round(json.loads(out)["spent_usd"], 8)
    assert cli(capsys, *args)[0] == 0  # the same audit again: every answer from the cache, no call made
    assert len(by_source(call_events(home / "ledger.db"), "audit")) == 12
