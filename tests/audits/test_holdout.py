"""Held-out test custody: the salted Merkle commitment (pure), and commit → custody run → reveal → verify through
the command line against the loopback upstream, with swapped items and a run on other items named."""

from __future__ import annotations

import copy
import hashlib
import json
import sqlite3

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gensandbox.audits import holdout
from gensandbox.cli.app import main
from gensandbox.ledger.events import CallFacts, call_event
from gensandbox.runner.suite import Item
from gensandbox.store import SampleRecord
from tests.helpers import write_config, write_suite

SECRET = "zebra-quartz"  # in every item's prompt: must never reach the ledger or the store


def item(n: int, text: str | None = None) -> dict:
    return Item.model_validate({"id": f"q{n}", "language": "en", "category": "c", "target": "yes",
                                "scorer": "includes", "messages": [{"role": "user", "content": text or
                                                                    f"{SECRET} {n} yes"}]}).model_dump(mode="json")


# ---- the commitment (pure) ----


def test_the_root_is_deterministic_and_moves_with_any_item_salt_order_or_count():
    entries = holdout.salted([item(n) for n in range(5)])
    root = holdout.merkle_root(holdout.leaves_of(entries))
    assert root == holdout.merkle_root(holdout.leaves_of(copy.deepcopy(entries)))
    changed_item, changed_salt = copy.deepcopy(entries), copy.deepcopy(entries)
    changed_item[2]["item"]["target"] = "no"
    changed_salt[2]["salt"] = holdout.new_salt()
    others = [changed_item, changed_salt, entries[::-1], entries[:4], [*entries, entries[4]]]
    assert all(holdout.merkle_root(holdout.leaves_of(other)) != root for other in others)


def test_leaves_and_inner_nodes_are_domain_separated_and_an_odd_node_is_promoted():
    leaves = [hashlib.sha256(bytes([n])).hexdigest() for n in range(3)]
    a, b, c = (bytes.fromhex(leaf) for leaf in leaves)
    inner = hashlib.sha256(b"\x01" + a + b).digest()
    assert holdout.merkle_root(leaves) == hashlib.sha256(b"\x01" + inner + c).hexdigest()
    assert holdout.merkle_root(leaves) != holdout.merkle_root([*leaves, leaves[-1]])  # no duplication ambiguity
    entry = holdout.salted([item(1)])[0]
    expected = hashlib.sha256(b"gensandbox-holdout-leaf\0" + bytes.fromhex(entry["salt"])
                              + orjson.dumps(entry["item"], option=orjson.OPT_SORT_KEYS)).hexdigest()
    assert holdout.leaf_hash(entry["item"], entry["salt"]) == expected == holdout.merkle_root([expected])
    with pytest.raises(ValueError):
        holdout.merkle_root([])


texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)


@settings(max_examples=60, deadline=None)
@given(prompts=st.lists(texts, min_size=1, max_size=12), data=st.data())
def test_altering_any_single_revealed_item_is_detected(prompts, data):
    public, private = holdout.make_commitment(holdout.salted([item(n, text) for n, text in enumerate(prompts)]),
                                              "exam", "2026-01-01T00:00:00+00:00")
    revealed = holdout.revealed_from(private, "later")
    assert holdout.compare_to_commitment(public, revealed) is None
    forged, where = copy.deepcopy(revealed), data.draw(st.integers(0, len(prompts) - 1))
    how = data.draw(st.sampled_from(["content", "salt", "swap", "drop", "add"]))
    if how == "content":
        forged["items"][where]["item"]["messages"][0]["content"] += data.draw(texts)
    elif how == "salt":
        forged["items"][where]["salt"] = holdout.new_salt()
    elif how == "swap" and len(prompts) > 1:
        other = (where + 1) % len(prompts)
        forged["items"][where], forged["items"][other] = forged["items"][other], forged["items"][where]
    elif how == "drop":
        del forged["items"][where]
    else:
        forged["items"].append(holdout.salted([item(99)])[0])
    root_only = {k: v for k, v in public.items() if k != "leaves"}  # a commitment published as its root alone
    assert holdout.compare_to_commitment(public, forged) is not None
    assert holdout.compare_to_commitment(root_only, forged) is not None


def run_events(items: list[Item], models=("m",), epochs=1, run_id="r") -> list[dict]:
    return [{"kind": "gen_ai.call", "gensandbox.run_id": run_id, "gen_ai.request.model": model,
             "gensandbox.item_id": f"exam/{it.id}#{epoch}", "gensandbox.prompt_sha256": holdout.item_prompt_sha256(it)}
            for model in models for it in items for epoch in range(epochs)]


def test_a_run_check_names_swapped_missing_added_and_repeated_calls():
    items = [Item.model_validate(item(n)) for n in range(4)]
    expected = {it.id: holdout.item_prompt_bytes(it) for it in items}  # old events: plain sha256
    good = run_events(items, models=("a", "b"), epochs=2)
    check = holdout.check_run(good, "r", "exam", expected)
    assert check.ok and check.calls == check.matched == 16 and check.models == ["a", "b"] and check.epochs == [0, 1]
    swapped = copy.deepcopy(good)
    swapped[2]["gensandbox.prompt_sha256"] = holdout.item_prompt_sha256(Item.model_validate(item(1, "other")))
    assert holdout.check_run(swapped, "r", "exam", expected).first_problem().startswith(
        "item `q1` (model a, epoch 0) was swapped")
    missing = holdout.check_run(good[:-1], "r", "exam", expected, models=["a", "b"], epochs=2)
    assert "item `q3` (model b, epoch 1) was never called" in missing.first_problem()
    added = good + run_events([Item.model_validate(item(7))], models=("a",))
    assert "`q7`" in holdout.check_run(added, "r", "exam", expected).first_problem()
    twice = holdout.check_run(good + good[:1], "r", "exam", expected)
    assert "called twice" in twice.first_problem() and "1 called twice" in twice.counts()
    assert "no model call" in holdout.check_run([], "r", "exam", expected).first_problem()


def test_prompt_hashes_are_the_ledgers_and_custody_samples_keep_no_content():
    it = Item.model_validate(item(3))
    facts = CallFacts(source="run", provider="openai", requested_model="m", model="m", started_at="t",
                      latency_s=0.1, input_tokens=1, output_tokens=1, cost_usd=0.0, price_table="p",
                      prompt=[{"role": m.role, "content": m.content} for m in it.chat_messages()], response_text="a")
    assert holdout.item_prompt_sha256(it) == call_event(facts, "hashes")["gensandbox.prompt_sha256"]
    sample = SampleRecord(run_id="r", model="m", suite="exam", item_id="q3", category="c", language="en",
                          request={"model": "m", "messages": facts.prompt, "max_tokens": 5}, response_text=f"{SECRET}",
                          finish_reason="stop", input_tokens=1, output_tokens=1, latency_s=0.1, cost_usd=0.0,
                          score=1.0, scorer={"name": "regex", "args": {"pattern": SECRET}},
                          reason=f"matches /{SECRET}/")
    redacted = holdout.redact_sample(sample)
    assert SECRET not in json.dumps(redacted.__dict__) and redacted.score == 1.0
    assert redacted.request["prompt_sha256"] == holdout.item_prompt_sha256(it)
    refusal = holdout.redact_sample(sample.__class__(**{**sample.__dict__, "scorer": {
        "name": "refusal", "args": {"expect": "comply"}}, "reason": "complied (expected to comply)"}))
    assert refusal.reason == "complied (expected to comply)" and refusal.scorer["args"] == {"expect": "comply"}


# ---- through the command line ----


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def committed(home, tmp_path, upstream, capsys):
    """A suite of 10 items committed, then run with custody under a config that asks for full-content ledgers."""
    config = write_config(tmp_path, upstream.url, {"echo": "echo"}, extra='[ledger]\nprivacy = "full"\n')
    suite = write_suite(tmp_path, "exam", [item(n) for n in range(10)])
    code, out, err = cli(capsys, "holdout", "commit", suite, "-c", config)
    assert code == 0, err
    assert "committed 10 items of suite exam" in out and "exam.commitment.json" in out
    code, out, err = cli(capsys, "holdout", "run", "--opening", "exam.opening.json", "-m", "echo", "-c", config,
                         "--run-id", "h1")
    assert code == 0, err
    assert "custody run h1" in out
    return config, suite


def test_commit_run_reveal_verify_keeps_custody_and_verifies(committed, home, tmp_path, capsys):
    config, _ = committed
    opening, commitment = tmp_path / "exam.opening.json", tmp_path / "exam.commitment.json"
    assert opening.stat().st_mode & 0o777 == 0o600
    assert SECRET not in commitment.read_text() and json.loads(opening.read_text())["runs"][0]["run_id"] == "h1"
    from gensandbox.ledger.sqlite import SQLiteLedger

    backend = SQLiteLedger(home / "ledger.db")
    lines = list(backend.lines())
    backend.close()
    assert not any(SECRET.encode() in line for line in lines)
    calls = [orjson.loads(line) for line in lines if b'"gen_ai.call"' in line]
    assert len(calls) == 10 and {c["gensandbox.privacy"] for c in calls} == {"hashes"}
    database = sqlite3.connect(home / "gensandbox.db")
    assert not any(SECRET in statement for statement in database.iterdump())
    settings = json.loads(database.execute("SELECT settings FROM runs WHERE run_id = 'h1'").fetchone()[0])
    assert settings["holdout"]["root"] == json.loads(commitment.read_text())["root"]

    code, out, _ = cli(capsys, "holdout", "reveal", "--opening", opening, "-o", "revealed.json")
    assert code == 0 and "revealed 10 items" in out and "--run h1" in out
    assert "runs" not in json.loads((tmp_path / "revealed.json").read_text())
    code, out, err = cli(capsys, "holdout", "verify", "--commitment", commitment, "--revealed", "revealed.json",
                         "--run", "h1", "-c", config)
    assert code == 0, err
    assert out.startswith("OK: the 10 revealed items are the committed ones") and "10 calls" in out

    # A verifier elsewhere: the exported ledger and the operator's public key, nothing from this store.
    assert cli(capsys, "ledger", "export", "-o", "ledger.jsonl", "-c", config)[0] == 0
    assert cli(capsys, "ledger", "public-key", "-o", "operator.pub")[0] == 0
    code, out, err = cli(capsys, "holdout", "verify", "--commitment", commitment, "--revealed", "revealed.json",
                         "--run", "h1", "--ledger", "ledger.jsonl", "--public-key", "operator.pub")
    assert code == 0 and "used exactly those items" in out, err
    from gensandbox.store import SQLiteStore
    from gensandbox.store.audits import AuditStore

    titles = [a.title for a in AuditStore(SQLiteStore(home / "gensandbox.db")).list("holdout")]
    assert any(t.startswith("committed 10 items") for t in titles) and sum(t.startswith("OK:") for t in titles) == 2


def test_a_swapped_item_or_a_run_on_other_items_is_named(committed, tmp_path, capsys):
    config, _ = committed
    cli(capsys, "holdout", "reveal", "--opening", "exam.opening.json", "-o", "revealed.json")
    revealed = json.loads((tmp_path / "revealed.json").read_text())
    forged = copy.deepcopy(revealed)
    forged["items"][3] = {"salt": holdout.new_salt(), "item": item(3, "an easier question, yes")}
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    code, _, err = cli(capsys, "holdout", "verify", "--commitment", "exam.commitment.json", "--revealed",
                       "forged.json", "--run", "h1", "-c", config)
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("MISMATCH: revealed item 4 (`q3`) is not the committed item 4")

    # A second commitment whose q3 differs, run as h2: the first commitment's reveal does not cover h2.
    other = write_suite(tmp_path, "exam", [item(n, "an easier question, yes" if n == 3 else None) for n in range(10)])
    assert cli(capsys, "holdout", "commit", other, "-o", "other.json", "-c", config)[0] == 0
    assert cli(capsys, "holdout", "run", "--opening", "other.opening.json", "-m", "echo", "-c", config,
               "--run-id", "h2")[0] == 0
    code, _, err = cli(capsys, "holdout", "verify", "--commitment", "exam.commitment.json", "--revealed",
                       "revealed.json", "--run", "h2", "-c", config)
    assert code == 1 and err.count("\n") == 1
    assert "run h2: item `q3` (model echo, epoch 0) was swapped" in err and "9 of 10 calls match" in err


def test_mistakes_get_one_line(committed, tmp_path, capsys):
    config, suite = committed
    code, _, err = cli(capsys, "holdout", "commit", suite, "-c", config)
    assert code == 1 and "already exists" in err and err.count("\n") == 1
    code, _, err = cli(capsys, "holdout", "reveal", "--opening", "missing.json", "-o", "r.json")
    assert code == 1 and "opening missing.json not found" in err and err.count("\n") == 1
    (tmp_path / "bad.json").write_text("{not json")
    code, _, err = cli(capsys, "holdout", "verify", "--commitment", "bad.json", "--revealed", "bad.json")
    assert code == 1 and "is not valid JSON" in err and err.count("\n") == 1
    (tmp_path / "other.json").write_text('{"scheme": "something-else"}')
    code, _, err = cli(capsys, "holdout", "run", "--opening", "other.json", "-m", "echo", "-c", config)
    assert code == 1 and "not a gensandbox-holdout-v1 file" in err
    edited = json.loads((tmp_path / "exam.opening.json").read_text())
    edited["items"][0]["item"]["target"] = "no"
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    code, _, err = cli(capsys, "holdout", "run", "--opening", "edited.json", "-m", "echo", "-c", config)
    assert code == 1 and "were edited after the commitment" in err
    cli(capsys, "holdout", "reveal", "--opening", "exam.opening.json", "-o", "revealed.json")
    code, _, err = cli(capsys, "holdout", "verify", "--commitment", "exam.commitment.json", "--revealed",
                       "revealed.json", "--run", "h1", "--ledger", "ledger.jsonl")
    assert code == 1 and "--public-key" in err and err.count("\n") == 1
    code, _, err = cli(capsys, "rerun", "h1", "-c", config)
    assert code == 1 and "not found" in err  # a custody run cannot be repeated outside custody


@pytest.mark.slow
def test_custody_of_a_suite_evaluated_on_an_embedded_model(home, tmp_path, capsys):
    from tests.helpers import SMALL_ITEMS as ITEMS

    suite = write_suite(tmp_path, "exam", ITEMS)
    assert cli(capsys, "holdout", "commit", suite)[0] == 0
    opening = tmp_path / "exam.opening.json"
    code, _, err = cli(capsys, "holdout", "run", "--opening", opening, "-m", "local/qwen2.5-coder-0.5b-instruct",
                       "--run-id", "exam-qwen")
    assert code == 0, err
    revealed = tmp_path / "revealed.json"
    assert cli(capsys, "holdout", "reveal", "--opening", opening, "-o", revealed)[0] == 0
    code, out, err = cli(capsys, "holdout", "verify", "--commitment", tmp_path / "exam.commitment.json",
                         "--revealed", revealed, "--run", "exam-qwen")
    assert code == 0 and "OK: the 3 revealed items are the committed ones" in out, err
    assert "대한민국의 수도" not in (home / "ledger.db").read_bytes().decode("utf-8", "replace")


def test_the_commitment_publishes_the_count_and_time_but_not_the_suite_name(committed, tmp_path, capsys):
    config, _ = committed
    commitment = json.loads((tmp_path / "exam.commitment.json").read_text())
    assert set(commitment) == {"scheme", "root", "items", "created_at", "leaves"} and commitment["items"] == 10
    assert "exam" not in json.dumps(commitment)
    assert json.loads((tmp_path / "exam.opening.json").read_text())["suite_name"] == "exam"  # private until reveal
    cli(capsys, "holdout", "reveal", "--opening", "exam.opening.json", "-o", "revealed.json")
    # A commitment made before the name was kept private still carries it, and it must still match.
    (tmp_path / "old.json").write_text(json.dumps({**commitment, "suite_name": "exam"}))
    (tmp_path / "renamed.json").write_text(json.dumps({**commitment, "suite_name": "quiz"}))
    code, out, err = cli(capsys, "holdout", "verify", "--commitment", "old.json", "--revealed", "revealed.json",
                         "--run", "h1", "-c", config)
    assert code == 0 and out.startswith("OK: the 10 revealed items are the committed ones"), err
    code, _, err = cli(capsys, "holdout", "verify", "--commitment", "renamed.json", "--revealed", "revealed.json")
    assert code == 1 and "the revealed suite is `exam`, the committed one `quiz`" in err
