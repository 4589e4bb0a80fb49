"""`gensandbox run --sweep reasoning=…`, `show --reasoning` and the report's thinking section: on the loopback
upstream (echo answers with the prompt), and on the embedded Qwen model (slow)."""

import json
import sqlite3
from importlib import resources

import pytest

from gensandbox.cli.app import main
from tests.helpers import write_config, write_suite

SETTINGS = ["direct", "step", "vote-3"]


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_reasoning_sweep_on_the_upstream(home, tmp_path, upstream, recorder, capsys):
    config = write_config(tmp_path, upstream.url, {"echo": "echo"})
    suite = write_suite(tmp_path)
    report = tmp_path / "r.html"
    code, _, err = cli(capsys, "run", "-c", config, "-m", "echo", "-s", suite, "--sweep",
                       "reasoning=direct,step,vote-3", "--run-id", "sweep", "--report", report)
    assert code == 0, err
    assert len(recorder.requests) == 4 * (1 + 1 + 3)  # vote-3 asks three times per item
    code, out, _ = cli(capsys, "show", "sweep", "--reasoning", "--json", "-c", config)
    rows = {row["model"]: row for row in json.loads(out)["reasoning"]}
    assert [(rows[f"echo@reasoning={s}"]["base_model"], rows[f"echo@reasoning={s}"]["setting"]) for s in SETTINGS] \
        == [("echo", s) for s in SETTINGS]
    assert all(row["n"] == 4 and row["cost_per_item_usd"] > 0 for row in rows.values())
    vote, direct = rows["echo@reasoning=vote-3"], rows["echo@reasoning=direct"]
    assert vote["cost_per_item_usd"] > 2.5 * direct["cost_per_item_usd"]  # three calls' tokens, summed
    step = rows["echo@reasoning=step"]
    assert step["reasoning_tokens_mean"] > 0 and step["first_answer_p50_s"] == step["latency_p50_s"]
    assert direct["reasoning_tokens_mean"] == 0 and direct["accuracy_per_1k_reasoning_tokens"] is None
    html = report.read_text()
    assert 'id="reasoning"' in html and 'id="reasoning-cost-chart"' in html and 'id="reasoning-tokens-chart"' in html
    assert "Thinking: what it costs and what it buys" in html and 'id="reasoning-table"' in html
    code, out, _ = cli(capsys, "show", "sweep", "--reasoning", "-c", config)
    assert code == 0 and "Reasoning economics" in out and "vote-3" in out


def test_settings_never_share_cached_answers(home, tmp_path, upstream, recorder, capsys):
    config = write_config(tmp_path, upstream.url, {"echo": "echo"})
    suite = write_suite(tmp_path)
    assert cli(capsys, "run", "-c", config, "-m", "echo", "-s", suite, "--sweep", "reasoning=max_tokens:50",
               "--run-id", "one")[0] == 0
    assert cli(capsys, "run", "-c", config, "-m", "echo", "-s", suite, "--sweep", "reasoning=max_tokens:60",
               "--run-id", "two")[0] == 0
    assert len(recorder.requests) == 8 and {r["max_tokens"] for r in recorder.requests} == {50, 60}
    assert cli(capsys, "run", "-c", config, "-m", "echo", "-s", suite, "--sweep", "reasoning=max_tokens:60",
               "--run-id", "three")[0] == 0
    assert len(recorder.requests) == 8  # the same setting again: every answer from the cache
    identities = sqlite3.connect(home / "gensandbox.db").execute(
        "SELECT settings FROM runs WHERE run_id = 'one'").fetchone()[0]
    assert json.loads(identities)["manifest"]["model_identities"]["echo@reasoning=max_tokens:50"]["sweep"] == \
        "max_tokens:50"


def test_report_in_korean_and_without_a_sweep(home, tmp_path, upstream, capsys):
    config = write_config(tmp_path, upstream.url, {"echo": "echo"})
    suite = write_suite(tmp_path)
    assert cli(capsys, "run", "-c", config, "-m", "echo", "-s", suite, "--sweep", "reasoning=direct,step",
               "--run-id", "ko")[0] == 0
    assert cli(capsys, "report", "ko", "-c", config, "--lang", "ko", "-o", tmp_path / "ko.html")[0] == 0
    assert "생각하기: 드는 비용과 얻는 것" in (tmp_path / "ko.html").read_text()
    assert cli(capsys, "run", "-c", config, "-m", "echo", "-s", suite, "--run-id", "plain", "--report",
               tmp_path / "plain.html")[0] == 0
    assert 'id="reasoning"' not in (tmp_path / "plain.html").read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["--sweep", "reasoning=ponder"], "unknown reasoning setting `ponder`"),
    (["--sweep", "temperature=0,1"], "--sweep takes DIMENSION=SETTING"),
    (["--resume", "x", "--sweep", "reasoning=step"], "drop --models"),
])
def test_sweep_errors_are_one_line(home, tmp_path, upstream, capsys, args, message):
    config = write_config(tmp_path, upstream.url, {"echo": "echo"})
    run_args = ["-m", "echo", "-s", write_suite(tmp_path)] if "--resume" not in args else []
    code, _, err = cli(capsys, "run", "-c", config, *run_args, *args)
    assert code == 1 and message in err and "Traceback" not in err


def arithmetic_items(count: int) -> list[dict]:
    lines = (resources.files("gensandbox") / "data" / "suites" / "basics-en.jsonl").read_text("utf-8").splitlines()
    return [item for line in lines if (item := json.loads(line))["category"] == "arithmetic"][:count]


@pytest.mark.slow
def test_the_embedded_model_direct_step_and_vote(home, tmp_path, capsys):
    suite = write_suite(tmp_path, "arithmetic", arithmetic_items(4))
    code, _, err = cli(capsys, "run", "-m", "local/qwen2.5-coder-0.5b-instruct", "-s", suite, "--sweep",
                       "reasoning=direct,step,vote-3", "--run-id", "local-sweep", "--report", tmp_path / "r.html")
    assert code == 0, err
    code, out, _ = cli(capsys, "show", "local-sweep", "--reasoning", "--json")
    rows = {row["setting"]: row for row in json.loads(out)["reasoning"]}
    assert set(rows) == set(SETTINGS) and all(row["n"] == 4 and row["errors"] == 0 for row in rows.values())
    # Tokens, not dollars: a local model's cost is measured seconds, which a busy machine stretches at random.
    tokens = {setting: row["output_tokens_per_item"] for setting, row in rows.items()}
    assert tokens["vote-3"] > tokens["step"] > tokens["direct"], tokens
    assert all(row["cost_per_item_usd"] > 0 for row in rows.values())
    assert 'id="reasoning-cost-chart"' in (tmp_path / "r.html").read_text()
