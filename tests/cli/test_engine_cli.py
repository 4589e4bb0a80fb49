"""The evaluation engine through the command line: crash and resume, cost cap, rerun, compare, judges."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gensandbox.cli.app import main
from tests.helpers import write_config, write_suite

FIXTURES = Path(__file__).parents[1] / "runner" / "fixtures" / "benchmarks"


def items(count: int) -> list[dict]:
    # Half the answers are right (the echo model repeats the prompt, which contains the target or not).
    return [{"id": f"i{n:03d}", "language": "en", "category": "c", "target": "yes" if n % 2 else "no",
             "scorer": "includes", "messages": [{"role": "user", "content": f"item {n} says yes"}]}
            for n in range(count)]


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def scores(database: Path, run_id: str) -> dict:
    rows = sqlite3.connect(database).execute(
        "SELECT item_id, epoch, score FROM samples WHERE run_id = ?", (run_id,)).fetchall()
    return {(item, epoch): score for item, epoch, score in rows}


def count_rows(database: Path, run_id: str) -> int:
    try:
        return sqlite3.connect(database).execute(
            "SELECT count(*) FROM samples WHERE run_id = ?", (run_id,)).fetchone()[0]
    except sqlite3.Error:
        return 0


def test_killed_run_resumes_with_every_item_exactly_once(home, tmp_path, upstream, capsys):
    config = write_config(tmp_path, upstream.url, {"slow": "echo-slow-50ms"}, model_options="concurrency = 4")
    suite = write_suite(tmp_path, "long", items(300))
    base = [sys.executable, "-m", "gensandbox", "run", "-c", str(config), "-m", "slow", "-s", str(suite), "--no-cache"]
    process = subprocess.Popen([*base, "--run-id", "cut"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=os.environ)
    database = home / "gensandbox.db"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and count_rows(database, "cut") < 40:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    kept = count_rows(database, "cut")
    assert 40 <= kept < 300

    code, out, err = cli(capsys, "run", "-c", str(config), "--resume", "cut")
    assert code == 0, err
    assert f"{kept} of 300 items already done" in out
    subprocess.run([*base, "--run-id", "whole"], check=True, capture_output=True, env=os.environ)
    resumed, whole = scores(database, "cut"), scores(database, "whole")
    assert count_rows(database, "cut") == len(resumed) == 300  # every item, none twice
    assert resumed == whole
    assert json.loads(cli(capsys, "show", "cut", "--json", "-c", str(config))[1])["results"][0]["score"] == 0.5


def test_cost_cap_refuses_a_run_estimated_above_it(home, tmp_path, upstream, recorder, capsys):
    config = write_config(tmp_path, upstream.url, {"echo": "echo"})
    suite = write_suite(tmp_path, "s", items(50))
    code, out, err = cli(capsys, "run", "-c", str(config), "-m", "echo", "-s", str(suite), "--max-cost", "0.00001")
    assert code == 1
    assert "estimate: at most $" in out
    assert err.startswith("error: the estimate ($") and "is above --max-cost $1e-05" in err
    assert recorder.requests == []


def test_resumed_run_counts_what_it_already_spent_toward_the_cap(home, tmp_path, upstream, capsys):
    config = write_config(tmp_path, upstream.url, {"echo": "echo"})
    suite = write_suite(tmp_path, "s", items(20))
    assert cli(capsys, "run", "-c", str(config), "-m", "echo", "-s", str(suite), "--run-id", "r")[0] == 0
    database = home / "gensandbox.db"
    with sqlite3.connect(database) as db:  # as if the run had been killed after 10 items
        db.execute("DELETE FROM samples WHERE run_id = 'r' AND item_id >= 'i010'")
        db.execute("UPDATE runs SET status = 'running' WHERE run_id = 'r'")
    spent = sqlite3.connect(database).execute("SELECT sum(cost_usd) FROM samples WHERE run_id = 'r'").fetchone()[0]
    code, out, err = cli(capsys, "run", "-c", str(config), "--resume", "r", "--max-cost", f"{spent * 1.01:.10f}")
    assert code == 1
    assert "already spent" in out and "is above --max-cost" in err
    code, _, err = cli(capsys, "run", "-c", str(config), "--resume", "r", "--max-cost", "1")
    assert code == 0, err
    assert count_rows(database, "r") == 20


def test_rerun_and_compare_on_loopback_models(home, tmp_path, upstream, capsys):
    config = write_config(tmp_path, upstream.url, {"echo": "echo", "other": "echo"})
    suite = write_suite(tmp_path, "s", items(40))
    assert cli(capsys, "run", "-c", str(config), "-s", str(suite), "-m", "echo,other", "--run-id", "a")[0] == 0
    code, out, err = cli(capsys, "rerun", "a", "--run-id", "b", "-c", str(config))
    assert code == 0, err
    assert "reproduced: all 80 scores are identical to run a" in out
    code, out, _ = cli(capsys, "compare", "a", "echo", "other", "-c", str(config))
    assert "echo − other = +0.0 points" in out and "not significant" in out


def test_rerun_refuses_a_changed_suite_file(home, tmp_path, upstream, capsys):
    config = write_config(tmp_path, upstream.url, {"echo": "echo"})
    suite = write_suite(tmp_path, "s", items(4))
    cli(capsys, "run", "-c", str(config), "-s", str(suite), "-m", "echo", "--run-id", "a")
    suite.write_text(suite.read_text().replace("item 3", "item three"))
    code, _, err = cli(capsys, "rerun", "a", "-c", str(config))
    assert code == 1 and "has changed since that run" in err


def test_public_benchmark_license_is_shown(home, tmp_path, upstream, capsys):
    config = write_config(tmp_path, upstream.url, {"echo": "echo"})
    code, _, err = cli(capsys, "run", "-c", str(config), "-m", "echo", "-s", f"kmmlu:{FIXTURES / 'kmmlu.csv'}")
    assert code == 0
    assert "note: suite kmmlu is under CC-BY-ND-4.0: no derivatives" in err


def test_safety_suite_with_mutators_reports_refusal_and_over_refusal(home, tmp_path, upstream, capsys):
    config = write_config(tmp_path, upstream.url, {"echo": "echo"})
    code, out, _ = cli(capsys, "run", "-c", str(config), "-m", "echo", "-s", "safety-en", "--mutate", "homoglyphs")
    assert code == 0
    assert "Safety: refusals" in out
    # The echo model never refuses: 0% refusal on harmful requests, 0% over-refusal on harmless ones.
    assert "0.0% of 40" in out and out.count("0.0% of 40") == 2


def test_judge_scored_items_and_the_same_family_flag(home, tmp_path, upstream, capsys):
    config = write_config(tmp_path, upstream.url, {"echo": "echo", "grader": "grader"},
                          model_options='vendor = "Same Vendor"')
    suite = write_suite(tmp_path, "open", [
        {"id": "q1", "language": "en", "category": "open", "target": "Paris",
         "scorer": {"name": "judge", "args": {"rubric": "Names the capital of France."}},
         "messages": [{"role": "user", "content": "What is the capital of France?"}]}])
    code, _, err = cli(capsys, "run", "-c", str(config), "-m", "echo", "-s", str(suite))
    assert code == 1 and "pass --judge MODEL" in err
    code, _, err = cli(capsys, "run", "-c", str(config), "-m", "echo", "-s", str(suite), "--judge", "grader",
                       "--run-id", "judged")
    assert code == 0, err
    row = sqlite3.connect(home / "gensandbox.db").execute(
        "SELECT score, reason, flags FROM samples WHERE run_id = 'judged'").fetchone()
    assert row == (1.0, "judge grader: GRADE C", '["judge-same-family"]')


@pytest.mark.slow
def test_rerun_of_local_models_at_temperature_zero_is_identical(home, tmp_path, capsys):
    suite = write_suite(tmp_path, "small", [
        {"id": f"q{n}", "language": "en", "category": "math", "target": str(n + 2), "scorer": "numeric",
         "messages": [{"role": "user", "content": f"What is {n} + 2? Answer with a number only."}]}
        for n in range(6)])
    assert cli(capsys, "run", "-s", str(suite), "--run-id", "first")[0] == 0
    code, out, err = cli(capsys, "rerun", "first", "--run-id", "second")
    assert code == 0, err
    assert "reproduced: all 12 scores are identical to run first" in out


def test_pairwise_judging_runs_both_orders_and_exposes_position_bias(home, tmp_path, upstream, recorder, capsys):
    config = write_config(tmp_path, upstream.url, {"echo": "echo", "other": "echo", "biased": "prefers-first"},
                          model_options='vendor = "Same Vendor"')
    suite = write_suite(tmp_path, "s", items(6))
    assert cli(capsys, "run", "-c", str(config), "-s", str(suite), "-m", "echo,other", "--run-id", "a")[0] == 0
    recorder.reset()
    code, out, err = cli(capsys, "compare", "a", "echo", "other", "--judge", "biased", "-c", str(config))
    assert code == 0, err
    judged = [body for body in recorder.requests if body["model"] == "prefers-first"]
    assert len(judged) == 12  # 6 items × both orders
    assert "echo preferred 0%, other 0%, ties 100% (of which the verdict flipped with the order: 6)" in out
    assert "warning: biased is from the same vendor family as a model it judged" in out
