"""A run's stored samples against its ledger events: `ledger verify` names samples whose call event is missing,
and `run --resume` writes exactly those, each the event the call itself wrote but for its time."""

from __future__ import annotations

from pathlib import Path

import orjson

from gensandbox.cli.app import main
from gensandbox.ledger.events import CALL, CHAIN_FIELDS
from gensandbox.ledger.sqlite import SQLiteLedger
from tests.helpers import ITEMS, write_config, write_suite


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


def without_time(event: dict) -> bytes:
    return orjson.dumps({k: v for k, v in event.items() if k not in (*CHAIN_FIELDS, "time")},
                        option=orjson.OPT_SORT_KEYS)


def test_a_lost_ledger_is_named_by_verify_and_rewritten_by_resume_as_the_calls_wrote_it(home, tmp_path, upstream,
                                                                                        monkeypatch, capsys):
    # Two models, one answering and one failing every call (HTTP 400, not retried): both kinds of event.
    config = write_config(tmp_path, upstream.url, {"echo": "echo", "broken": "bad-request"},
                          extra='[ledger]\nprivacy = "full"\n')
    suite = write_suite(tmp_path)
    code, _, err = cli(capsys, "run", "-c", str(config), "-m", "echo,broken", "-s", str(suite), "--run-id", "r1",
                       "--no-cache")
    assert code == 0, err
    original = call_events(home / "ledger.db")
    assert len(original) == 2 * len(ITEMS) and {e["gensandbox.status"] for e in original} == {"ok", "error"}

    # The store is kept, the ledger starts again empty (moved, or lost): every call of r1 is unaccounted for.
    monkeypatch.setenv("GENSANDBOX_LEDGER_URL", f"sqlite:///{tmp_path / 'new-ledger.db'}")
    code, _, err = cli(capsys, "ledger", "verify", "-c", str(config))
    assert code == 1 and err.startswith("BAD: ") and "but 8 stored samples have no call event, in run r1 (8)" in err

    code, out, err = cli(capsys, "run", "-c", str(config), "--resume", "r1")
    assert code == 0, err
    assert "wrote the call events of 8 stored samples that had none" in out and "r1 had already finished" in out
    rebuilt = call_events(tmp_path / "new-ledger.db")
    assert sorted(map(without_time, rebuilt)) == sorted(map(without_time, original))
    # The time is when the sample was stored, which is after the call began.
    by_item = {(e["gen_ai.request.model"], e["gensandbox.item_id"]): e["time"] for e in original}
    assert all(e["time"] >= by_item[e["gen_ai.request.model"], e["gensandbox.item_id"]] for e in rebuilt)

    code, _, err = cli(capsys, "run", "-c", str(config), "--resume", "r1")
    assert code == 1 and "already finished" in err  # nothing was missing any more: nothing written twice
    assert len(call_events(tmp_path / "new-ledger.db")) == 8
    code, out, err = cli(capsys, "ledger", "verify", "-c", str(config))
    assert code == 0 and out.startswith("OK: "), err


def test_answers_from_the_cache_need_no_call_event(home, tmp_path, upstream, capsys):
    config = write_config(tmp_path, upstream.url, {"echo": "echo"})
    suite = write_suite(tmp_path)
    for run_id in ("first", "again"):  # the second run is answered from the cache: no model is called
        assert cli(capsys, "run", "-c", str(config), "-m", "echo", "-s", str(suite), "--run-id", run_id)[0] == 0
    assert {e["gensandbox.run_id"] for e in call_events(home / "ledger.db")} == {"first"}
    code, out, err = cli(capsys, "ledger", "verify", "-c", str(config))
    assert code == 0 and out.startswith("OK: "), err
