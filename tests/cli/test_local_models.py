"""`gensandbox run` on the real embedded models (slow: llama.cpp on the CPU)."""

import json

import pytest

from gensandbox.cli.app import main
from tests.helpers import SMALL_ITEMS as ITEMS
from tests.helpers import write_suite


@pytest.mark.slow
def test_both_embedded_models_on_a_small_suite(home, tmp_path, capsys):
    suite = write_suite(tmp_path, "small", ITEMS)
    assert main(["run", "-s", str(suite), "--run-id", "local", "--report", str(tmp_path / "r.html")]) == 0
    capsys.readouterr()
    assert main(["show", "local", "--json"]) == 0
    results = {r["model"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    qwen, gemma = results["local/qwen2.5-coder-0.5b-instruct"], results["local/gemma-3-270m"]
    assert qwen["n"] == gemma["n"] == 3
    assert qwen["score"] == 1.0  # Paris, 서울, 8: measured deterministic at temperature 0
    assert qwen["cost_usd"] > 0 and qwen["latency_p50_s"] > 0 and qwen["output_tokens"] > 0
    html = (tmp_path / "r.html").read_text()
    assert "local/gemma-3-270m" in html and "base model, completion-style" in html


@pytest.mark.slow
def test_any_gguf_file_by_path(home, tmp_path, capsys):
    suite = write_suite(tmp_path, "small", ITEMS[:1])
    gguf = next((home / "models").glob("qwen*.gguf"), None)
    if gguf is None:  # the cache is filled by the first local run of the session
        assert main(["run", "-m", "local/qwen2.5-coder-0.5b-instruct", "-s", str(suite)]) == 0
        gguf = next((home / "models").glob("qwen*.gguf"))
    assert main(["run", "-m", f"local:{gguf}", "-s", str(suite), "--run-id", "by-path"]) == 0
    capsys.readouterr()
    main(["show", "by-path", "--json"])
    (row,) = json.loads(capsys.readouterr().out)["results"]
    assert (row["model"], row["score"]) == (f"local:{gguf}", 1.0)
