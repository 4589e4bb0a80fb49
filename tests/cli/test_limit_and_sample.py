"""`gensandbox run --limit N` and `--sample N --seed S`: a quick look at some items of each suite, streamed,
estimated, recorded and reproduced; and `gensandbox traffic --since`, read like the other commands' dates."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from gensandbox.cli.app import main
from gensandbox.config import load_config
from gensandbox.ledger.requests import RequestRecord
from gensandbox.ledger.writer import open_backend
from gensandbox.runner.selection import Selection
from gensandbox.runner.suite import resolve_suite
from tests.helpers import request_event, write_config, write_suite

ITEMS = [{"id": f"q{n:02}", "language": "en", "category": "c", "target": f"x{n}", "scorer": "includes",
          "messages": [{"role": "user", "content": f"x{n}"}]} for n in range(20)]


@pytest.fixture
def setup(home, tmp_path, upstream):
    config = write_config(tmp_path, upstream.url, {"echo-a": "echo", "echo-b": "echo"})
    return config, write_suite(tmp_path, "twenty", ITEMS), write_suite(tmp_path, "four")


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def items_of(home, run_id: str) -> dict[str, list[str]]:
    """suite -> item ids the run stored (one model, one epoch), in id order."""
    rows = sqlite3.connect(home / "gensandbox.db").execute(
        "SELECT suite, item_id FROM samples WHERE run_id = ? AND model = 'echo-a' ORDER BY suite, item_id", (run_id,))
    found: dict[str, list[str]] = {}
    for suite, item in rows:
        found.setdefault(suite, []).append(item)
    return found


def test_limit_takes_the_first_items_of_each_suite(setup, home, capsys, upstream, recorder):
    config, twenty, four = setup
    code, out, err = cli(capsys, "run", "-c", str(config), "-m", "echo-a,echo-b", "-s", f"{twenty},{four}",
                         "--limit", "3", "--run-id", "lim")
    assert code == 0, err
    assert "(2 models × 2 suites = 12 calls;" in out
    assert "limited to the first 3 items of each suite (--limit 3): not a full evaluation" in out
    assert items_of(home, "lim") == {"four": ["e1", "e2", "k1"], "twenty": ["q00", "q01", "q02"]}
    assert len(recorder.requests) == 12
    shown = json.loads(cli(capsys, "show", "lim", "--json", "-c", str(config))[1])
    assert shown["selection"] == {"limit": 3} and {row["n"] for row in shown["results"]} == {3}


def test_limit_above_the_suite_size_takes_the_whole_suite(setup, home, capsys):
    config, _, four = setup
    assert cli(capsys, "run", "-c", str(config), "-m", "echo-a", "-s", str(four), "--limit", "50",
               "--run-id", "all")[0] == 0
    assert items_of(home, "all") == {"four": ["e1", "e2", "k1", "k2"]}


def test_a_sample_is_the_same_for_the_same_seed_and_differs_for_another(setup, home, capsys):
    config, twenty, four = setup
    for run_id, seed in (("s7", "7"), ("s7-again", "7"), ("s8", "8")):
        code, out, err = cli(capsys, "run", "-c", str(config), "-m", "echo-a", "-s", f"{twenty},{four}",
                             "--sample", "5", "--seed", seed, "--run-id", run_id)
        assert code == 0, err
        assert f"a seeded sample of 5 items (seed {seed}) of each suite (--sample 5 --seed {seed})" in out
    first, again, other = items_of(home, "s7"), items_of(home, "s7-again"), items_of(home, "s8")
    assert first == again and first["twenty"] != other["twenty"]
    assert len(first["twenty"]) == 5 and set(first["twenty"]) < {item["id"] for item in ITEMS}
    assert first["four"] == ["e1", "e2", "k1", "k2"]  # 5 of 4 items: all of them


def test_the_sample_is_streamed_and_stops_reading_after_its_last_item(home, tmp_path):
    suite = resolve_suite(str(write_suite(tmp_path, "twenty", ITEMS)), load_config(None))
    read = []

    def counting():
        for item in suite.read():
            read.append(item.id)
            yield item

    selection = Selection(sample=3, seed=1)
    positions = sorted(selection.positions(20))
    taken = [item.id for item in selection.apply(counting(), 20)]
    assert taken == [f"q{p:02}" for p in positions]
    assert len(read) == positions[-1] + 1  # nothing after the last sampled item was read
    read.clear()
    assert [item.id for item in Selection(limit=2).apply(counting(), 20)] == ["q00", "q01"] and len(read) == 2
    limited = suite.with_selection(Selection(limit=2)).with_mutators(["jamo"])
    assert limited.count == 4 and [item.id for item in limited.iter_items()] == ["q00", "q00~jamo", "q01", "q01~jamo"]


def test_the_cost_estimate_counts_only_the_items_taken(setup, capsys):
    config, twenty, _ = setup
    estimates = {}
    for flags in (["--limit", "2"], ["--sample", "2"], []):
        code, out, err = cli(capsys, "run", "-c", str(config), "-m", "echo-a", "-s", str(twenty), "--max-cost", "1",
                             *flags)
        assert code == 0, err
        estimates[" ".join(flags)] = re.search(r"estimate: at most \$\S+ for (\d+) calls", out).group(1)
    assert estimates == {"--limit 2": "2", "--sample 2": "2", "": "20"}


def test_rerun_and_resume_take_the_same_items(setup, home, capsys):
    config, twenty, _ = setup
    assert cli(capsys, "run", "-c", str(config), "-m", "echo-a", "-s", str(twenty), "--sample", "4", "--seed", "3",
               "--run-id", "orig")[0] == 0
    code, out, err = cli(capsys, "rerun", "orig", "--run-id", "again", "-c", str(config))
    assert code == 0, err
    assert "a seeded sample of 4 items (seed 3) of each suite" in out
    assert "reproduced: all 4 scores are identical to run orig" in out
    assert items_of(home, "again") == items_of(home, "orig")

    # An interrupted limited run: its unfinished items are the limited ones, not the rest of the suite.
    db = sqlite3.connect(home / "gensandbox.db")
    assert cli(capsys, "run", "-c", str(config), "-m", "echo-a", "-s", str(twenty), "--limit", "3",
               "--run-id", "cut")[0] == 0
    with db:
        db.execute("DELETE FROM samples WHERE run_id = 'cut' AND item_id = 'q01'")
        db.execute("UPDATE runs SET status = 'interrupted' WHERE run_id = 'cut'")
    code, out, err = cli(capsys, "run", "--resume", "cut", "-c", str(config))
    assert code == 0, err
    assert "resuming run cut: 2 of 3 items already done" in out
    assert items_of(home, "cut") == {"twenty": ["q00", "q01", "q02"]}
    code, _, err = cli(capsys, "run", "--resume", "cut", "--limit", "5", "-c", str(config))
    assert code == 1 and err.startswith("error: --resume continues a run exactly as it was (its items too); drop ")


@pytest.mark.parametrize("lang, sentence", [
    ("en", "A seeded sample of 2 items (seed 5) of each suite (<code>--sample 2 --seed 5</code>)"),
    ("ko", "각 평가 세트에서 시드 5로 무작위 추출한 2개 문항의 표본입니다(<code>--sample 2 --seed 5</code>)"),
])
def test_the_report_says_the_run_was_sampled(setup, capsys, tmp_path, lang, sentence):
    config, twenty, _ = setup
    assert cli(capsys, "run", "-c", str(config), "-m", "echo-a", "-s", str(twenty), "--sample", "2", "--seed", "5",
               "--run-id", "r")[0] == 0
    assert cli(capsys, "report", "r", "-o", str(tmp_path / "r.html"), "--lang", lang, "-c", str(config))[0] == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert f'<p class="method" id="selection">{sentence}' in html


@pytest.mark.parametrize("limit, lang, sentence", [
    (1, "en", "Limited to the first item of each suite (<code>--limit 1</code>)"),
    (3, "en", "Limited to the first 3 items of each suite (<code>--limit 3</code>)"),
    (3, "ko", "각 평가 세트의 처음 3개 문항으로 제한한 실행입니다(<code>--limit 3</code>)"),
])
def test_the_report_says_the_run_was_limited(setup, capsys, tmp_path, limit, lang, sentence):
    config, twenty, _ = setup
    assert cli(capsys, "run", "-c", str(config), "-m", "echo-a", "-s", str(twenty), "--limit", str(limit),
               "--run-id", "r", "--report", str(tmp_path / "en.html"))[0] == 0
    assert cli(capsys, "report", "r", "-o", str(tmp_path / "r.html"), "--lang", lang, "-c", str(config))[0] == 0
    assert f'<p class="method" id="selection">{sentence}' in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_a_full_run_says_nothing_about_a_selection(setup, capsys, tmp_path):
    config, _, four = setup
    code, out, _ = cli(capsys, "run", "-c", str(config), "-m", "echo-a", "-s", str(four), "--run-id", "full",
                       "--report", str(tmp_path / "r.html"))
    assert code == 0 and "not a full evaluation" not in out
    assert 'id="selection"' not in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "selection" not in json.loads(cli(capsys, "show", "full", "--json", "-c", str(config))[1])


@pytest.mark.parametrize("args, message", [
    (["--limit", "0"], "Error: Invalid value for '--limit': Input should be greater than or equal to 1"),
    (["--sample", "0"], "Error: Invalid value for '--sample': Input should be greater than or equal to 1"),
    (["--limit", "2", "--sample", "2"], "Error: --limit and --sample cannot be used together: take the first N "
                                        "items or a sample of N"),
])
def test_bad_limits_are_usage_errors(home, capsys, args, message):
    code, out, err = cli(capsys, "run", *args)
    assert code == 2 and out == ""
    assert err.splitlines() == ["Usage: gensandbox run [OPTIONS]", "Try 'gensandbox run --help' for help.", "",
                                message]


def test_traffic_since_filters_by_time_and_refuses_what_is_not_a_date(home, capsys):
    ledger = open_backend(load_config(None).ledger_url)

    def request(created_at: str, key_id: str) -> dict:
        return request_event(RequestRecord(created_at, key_id, "m", "fixed", "only model", "m", 200, 10, 5, 0.25, 0.5,
                                           False, None))

    ledger.append([request("2026-11-28T23:30:00+00:00", "key_old"), request("2026-11-29T00:30:00+00:00", "key_new")])
    ledger.close()

    def keys_since(since: str) -> list[str]:
        code, out, err = cli(capsys, "traffic", "--json", "--since", since)
        assert code == 0, err
        return [row["key_id"] for row in json.loads(out)["traffic"]]

    assert keys_since("2026-11-29") == ["key_new"]
    assert keys_since("2026-11-29T08:00+09:00") == ["key_new", "key_old"]  # 23:00 UTC the day before
    assert keys_since("2026-11-29T00:31") == []
    for bad in ("yesterday", "2026-13-45", "29/11/2026"):
        code, out, err = cli(capsys, "traffic", "--since", bad)
        assert (code, out) == (1, "")
        assert err == f"error: --since '{bad}' is not a date or time; use e.g. 2026-11-01 or 2026-11-01T09:00\n"
