"""The library API as a Python program uses it: gensandbox.evaluate, then gensandbox.verify_ledger, on the real
embedded model through llama.cpp and on a scripted loopback upstream, with the records `gensandbox run` makes."""

import json

import pytest

import gensandbox
from gensandbox.cli.app import main
from tests.helpers import SMALL_ITEMS, write_config, write_suite

ITEMS = SMALL_ITEMS[:2]  # Paris and 서울: the embedded Qwen answers both at temperature 0


@pytest.mark.slow
def test_evaluate_on_the_embedded_model_records_what_the_cli_shows(home, tmp_path, capsys):
    suite = write_suite(tmp_path, "capitals", ITEMS)
    result = gensandbox.evaluate(["local/qwen2.5-coder-0.5b-instruct"], [str(suite)], run_id="api")
    assert (result.run_id, result.status) == ("api", "finished")
    (row,) = result.rows
    assert row.key == ("local/qwen2.5-coder-0.5b-instruct", "capitals") and row.n == 2 and row.score == 1.0
    assert capsys.readouterr().out == ""  # the library prints nothing
    assert main(["show", "api", "--json"]) == 0
    (shown,) = json.loads(capsys.readouterr().out)["results"]
    assert shown["n"] == 2 and shown["score"] == row.score
    verdict = gensandbox.verify_ledger()
    assert verdict.ok and verdict.verdict.records >= 2 and verdict.missing == {}


def test_evaluate_refuses_what_it_cannot_do_in_the_cli_s_words(home, tmp_path, upstream):
    config = write_config(tmp_path, upstream.url, {"echo": "echo"})
    suite = write_suite(tmp_path, "s", ITEMS)
    first = gensandbox.evaluate(["echo"], [str(suite)], config=config, run_id="r", max_cost_usd=1.0)
    assert first.status == "finished" and first.rows[0].n == 2 and first.rows[0].cost_usd > 0
    with pytest.raises(gensandbox.UserError, match="already finished; `gensandbox rerun r`"):
        gensandbox.evaluate(config=config, resume="r")
    with pytest.raises(gensandbox.UserError, match="--resume continues a run exactly as it was"):
        gensandbox.evaluate(["echo"], config=config, resume="r")
    with pytest.raises(TypeError, match="unknown settings: epoch"):
        gensandbox.evaluate(["echo"], config=config, epoch=2)
