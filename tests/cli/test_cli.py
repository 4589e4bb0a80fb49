"""The `gensandbox` command end to end, against the loopback upstream."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from gensandbox.cli.app import main
from tests.helpers import write_config, write_suite
from tests.upstream import unused_port


@pytest.fixture
def setup(home, tmp_path, upstream):
    config = write_config(tmp_path, upstream.url, {"echo-a": "echo", "anthropic-b": "echo"})
    return config, write_suite(tmp_path)


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_run_show_runs_and_report(setup, capsys, tmp_path):
    config, suite = setup
    code, out, err = run_cli(capsys, "run", "-c", str(config), "-m", "echo-a,anthropic-b", "-s", str(suite),
                             "--run-id", "first")
    assert code == 0, err
    assert "run id: first" in out
    assert "echo-a" in out and "75.0%" in out

    code, out, _ = run_cli(capsys, "show", "first", "--json", "-c", str(config))
    shown = json.loads(out)
    assert shown["run_id"] == "first"
    assert [r["model"] for r in shown["results"]] == ["anthropic-b", "echo-a"]
    row = shown["results"][1]
    assert set(row) >= {"model", "suite", "n", "score", "ci_low", "ci_high", "latency_p50_s", "input_tokens",
                        "output_tokens", "cost_usd"}
    assert (row["suite"], row["n"], row["score"]) == ("echo-suite", 4, 0.75)
    assert row["ci_low"] <= 0.75 <= row["ci_high"]
    assert row["cost_usd"] > 0

    code, out, _ = run_cli(capsys, "runs", "-c", str(config))
    assert "first" in out and "finished" in out

    code, out, _ = run_cli(capsys, "report", "first", "-o", str(tmp_path / "r.html"), "-c", str(config))
    assert code == 0 and (tmp_path / "r.html").read_text().count("echo-a") >= 3


def test_run_writes_report_when_asked(setup, capsys, tmp_path):
    config, suite = setup
    code, out, _ = run_cli(capsys, "run", "-c", str(config), "-m", "echo-a", "-s", str(suite),
                           "--report", str(tmp_path / "out" / "rep.html"))
    assert code == 0
    assert out.strip().endswith(str(tmp_path / "out" / "rep.html"))


@pytest.mark.parametrize("args, message", [
    (["run", "-m", "gpt-9"], "error: unknown model `gpt-9`; known models:"),
    (["run", "-s", "basics-fr"], "error: unknown suite `basics-fr`"),
    (["run", "-s", "missing.jsonl"], "error: suite `missing`: file missing.jsonl not found"),
    (["run", "-c", "nope.toml"], "error: config file nope.toml not found"),
    (["show", "no-such-run"], "error: no run `no-such-run`"),
    (["report", "no-such-run"], "error: no run `no-such-run`"),
])
def test_bad_input_is_one_clear_line(home, capsys, args, message):
    code, out, err = run_cli(capsys, *args)
    assert code == 1
    assert err.startswith(message)
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_config_is_one_line_naming_the_key(home, capsys, tmp_path):
    (tmp_path / "gensandbox.toml").write_text('[run]\nmodel = ["x"]\n')
    code, _, err = run_cli(capsys, "runs")
    assert code == 1
    assert err.startswith("error: gensandbox.toml: unknown key `run.model`; allowed here: models, suites")


def test_duplicate_run_id_keeps_the_first_run(setup, capsys):
    config, suite = setup
    assert run_cli(capsys, "run", "-c", str(config), "-m", "echo-a", "-s", str(suite), "--run-id", "x")[0] == 0
    code, _, err = run_cli(capsys, "run", "-c", str(config), "-m", "echo-a", "-s", str(suite), "--run-id", "x")
    assert code == 1 and "run id `x` already exists" in err
    assert json.loads(run_cli(capsys, "show", "x", "--json", "-c", str(config))[1])["results"][0]["n"] == 4


def test_unreachable_endpoint_records_failures_with_a_summary(home, capsys, tmp_path):
    config = write_config(tmp_path, f"http://127.0.0.1:{unused_port()}", {"gone": "echo"})
    code, out, err = run_cli(capsys, "run", "-c", str(config), "-m", "gone", "-s", str(write_suite(tmp_path)))
    assert code == 0
    assert "gone on echo-suite: 4 of 4 items failed; first error: cannot reach http://127.0.0.1:" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("command, args, message", [
    ("run", ["--bogus"], "No such option: --bogus"),
    ("run", ["--epochs", "0"], "Invalid value for '--epochs': Input should be greater than or equal to 1"),
    ("run", ["--temperature", "5"], "Invalid value for '--temperature': Input should be less than or equal to 2"),
    ("run", ["--executor", "slurm"], "Invalid value for '--executor': Value error, 'slurm' is not one of 'local', "
                                     "'ray'."),
    ("ledger verify", ["--export", "x"], "No such option: --export"),
    ("show", [], "Missing argument 'run_id'."),
])
def test_usage_errors_are_clicks_own_message(home, capsys, command, args, message):
    """Typer's Click raises usage errors from sub-commands too: each is Click's message under the usage line, exit 2,
    never reported as our bug."""
    code, out, err = run_cli(capsys, *command.split(), *args)
    assert (code, out) == (2, "")
    usage, *rest = err.splitlines()
    assert usage.startswith(f"Usage: gensandbox {command} [OPTIONS]")
    assert rest == [f"Try 'gensandbox {command} --help' for help.", "", f"Error: {message}"]


def test_installed_command_prints_no_traceback(home):
    result = subprocess.run([sys.executable, "-m", "gensandbox", "run", "-m", "nope"], capture_output=True,
                            text=True, env=os.environ)
    assert result.returncode == 1
    assert result.stderr.startswith("error: unknown model `nope`")
    assert "Traceback" not in result.stderr


def test_interrupted_run_keeps_finished_items(home, tmp_path, upstream, recorder):
    """Deterministic on a busy machine: the upstream answers 20 calls, then holds the rest until the run is signalled,
    so the run can neither finish first nor be caught before it has stored anything."""
    items = [{"id": f"i{n}", "language": "en", "category": "c", "target": "x", "scorer": "includes",
              "messages": [{"role": "user", "content": f"x {n}"}]} for n in range(400)]
    config = write_config(tmp_path, upstream.url, {"held": "held-after-20"}, model_options="concurrency = 2")
    suite = write_suite(tmp_path, "long", items)
    process = subprocess.Popen([sys.executable, "-m", "gensandbox", "run", "-c", str(config), "-m", "held",
                                "-s", str(suite), "--run-id", "cut"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=os.environ)
    database = home / "gensandbox.db"
    try:
        deadline = time.monotonic() + 120
        while _samples(database) < 20 or recorder.answered.get("held-after-20", 0) <= 20:
            assert process.poll() is None and time.monotonic() < deadline, \
                f"the run stopped or stalled early: {process.stderr.read() if process.poll() is not None else ''}"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        recorder.release.set()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "interrupted: finished items are kept; continue with: gensandbox run --resume cut" in err
    assert _samples(database) == 20  # exactly the answered calls; the held ones were in flight
    status = sqlite3.connect(database).execute("SELECT status FROM runs WHERE run_id='cut'").fetchone()[0]
    assert status == "interrupted"


def _samples(database) -> int:
    try:
        return sqlite3.connect(database).execute("SELECT count(*) FROM samples").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_help_does_not_import_the_engine():
    """`gensandbox --help` must stay instant: the CLI imports numpy, aiohttp and pydantic only to run a command."""
    code = ("import sys, gensandbox.cli.app; "
            "print(sorted(m for m in ('numpy', 'aiohttp', 'pydantic', 'jinja2', 'llama_cpp') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_show_by_category_and_language(setup, capsys):
    config, suite = setup
    assert run_cli(capsys, "run", "-c", str(config), "-m", "echo-a", "-s", str(suite), "--run-id", "r")[0] == 0
    _, out, _ = run_cli(capsys, "show", "r", "--json", "--by", "language", "-c", str(config))
    rows = {row["language"]: row for row in json.loads(out)["results"]}
    assert (rows["en"]["n"], rows["en"]["score"], rows["ko"]["score"]) == (2, 1.0, 0.5)
    assert rows["ko"]["ci_low"] <= 0.5 <= rows["ko"]["ci_high"]
    _, out, _ = run_cli(capsys, "show", "r", "--by", "category", "-c", str(config))
    assert "category" in out and "arithmetic" in out


def test_a_bad_suite_stops_before_anything_is_stored(home, capsys, tmp_path, upstream):
    config = write_config(tmp_path, upstream.url, {"echo-a": "echo"})
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "language": "en", "category": "c", "messages": [], "target": "x", "scorer": "exact"}\n')
    code, _, err = run_cli(capsys, "run", "-c", str(config), "-m", "echo-a", "-s", str(bad))
    assert code == 1 and err.startswith("error: bad.jsonl line 1: `messages`")
    assert "No runs yet" in run_cli(capsys, "runs", "-c", str(config))[1]
