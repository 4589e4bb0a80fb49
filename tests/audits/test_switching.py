"""The switching audit on loopback models whose prices, tokenizers and features are known, on a suite and on
traffic recorded through a live gateway; and on the two embedded local models."""

import json

import openai
import pytest

from gensandbox.audits.switching import korean_characters, parse_date_range
from gensandbox.cli.audit import audit_switching
from gensandbox.config import load_config
from gensandbox.errors import UserError
from gensandbox.gateway import create_app
from gensandbox.store import SQLiteStore
from gensandbox.store.audits import AuditStore
from tests.helpers import write_config, write_suite
from tests.upstream import BackgroundServer

ITEMS = [{"id": f"i{n}", "language": "ko" if n % 2 else "en", "category": "c", "target": "yes",
          "scorer": "includes", "messages": [{"role": "user", "content": f"item {n} says yes"}]} for n in range(6)]


def configure(tmp_path, upstream, extra: str = ""):
    path = write_config(tmp_path, upstream.url, {"echo": "echo", "pricey": "echo", "judge": "grader"}, extra=extra)
    text = path.read_text()
    # "pricey" costs 50x per input token and declares what it offers; "echo" declares nothing.
    text = text.replace('name = "pricey"\nprovider = "openai"\nmodel = "echo"\n'
                        f'base_url = "{upstream.url}/v1"\nprice_per_million_input_tokens = 1.0',
                        'name = "pricey"\nprovider = "openai"\nmodel = "echo"\n'
                        f'base_url = "{upstream.url}/v1"\nprice_per_million_input_tokens = 50.0\n'
                        'features = ["stream"]\ncontext_window = 5')
    path.write_text(text)
    return path


def test_a_suite_workload_measures_quality_cost_and_tokenizers(home, tmp_path, upstream, capsys):
    config = configure(tmp_path, upstream)
    suite = write_suite(tmp_path, "six", ITEMS)
    audit_switching(config, "echo", "pricey", None, str(suite), None, 200, None, as_json=False)
    out = capsys.readouterr().out
    assert "switching from echo to pricey keeps 100% of quality at" in out
    (record,) = AuditStore(SQLiteStore(home / "gensandbox.db")).list("switching")
    alt = record.result["alternatives"][0]
    assert alt["quality_kept"] == 1.0 and alt["prompt_token_ratio"] == 1.0
    # The upstream counts a prompt's tokens as its words + 3: 50x the input price, output priced the same.
    assert 10 < alt["cost_ratio"] < 50
    ko = alt["tokenizer"]["per_1000_korean_chars"]
    from gensandbox.audits.switching import calibration_texts

    texts = calibration_texts()
    assert ko == pytest.approx(1000 * len(texts["ko"].split()) / korean_characters(texts["ko"]))
    assert alt["tokenizer"]["per_1000_english_words"] == pytest.approx(1000.0)
    assert alt["missing_features"] == [] and alt["unknown_features"] == []


def test_recorded_traffic_is_replayed_and_graded_by_a_judge(home, tmp_path, upstream, capsys):
    config_path = configure(tmp_path, upstream, extra='[ledger]\nprivacy = "full"\ncheckpoint_interval_s = 0.1\n')
    config = load_config(config_path)
    server = BackgroundServer(create_app(config, SQLiteStore(config.database_path)), lifespan="on").start()
    try:
        api = openai.OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0)
        for n in range(3):
            api.chat.completions.create(model="echo", messages=[{"role": "user", "content": f"주문 {n} 확인"}],
                                        extra_headers={"x-gensandbox-session": "shop"})
        list(api.chat.completions.create(model="echo", stream=True, messages=[{"role": "user", "content": "hi"}],
                                         extra_headers={"x-gensandbox-session": "shop"}))
    finally:
        server.stop()
    capsys.readouterr()
    audit_switching(config_path, "echo", "pricey", "shop", None, "judge", 200, None, as_json=True)
    report = json.loads(capsys.readouterr().out)
    assert report["items"] == 4 and report["features_used"] == ["stream"]
    alt = report["alternatives"][0]
    assert alt["quality_kept"] == 1.0  # the grader finds every answer as good as the recorded one
    assert alt["missing_features"] == [] and alt["context_too_small"]  # 6-token prompts, a 5-token window
    # The same traffic by date range; the audit's own evaluation calls are not traffic and are not replayed.
    audit_switching(config_path, "echo", "pricey", "2026-01-01..2099-12-31", None, "judge", 200, None, True)
    assert json.loads(capsys.readouterr().out)["items"] == 4
    with pytest.raises(UserError, match="no recorded calls served by pricey"):
        audit_switching(config_path, "pricey", "echo", "2026-01-01..2099-12-31", None, "judge", 200, None, False)


def test_hash_only_traffic_and_bad_input_are_explained(home, tmp_path, upstream):
    config = configure(tmp_path, upstream)
    with pytest.raises(UserError, match="--to"):
        audit_switching(config, "echo", "echo", None, "x", None, 200, None, False)
    with pytest.raises(UserError, match="--workload SESSION"):
        audit_switching(config, "echo", "pricey", None, None, None, 200, None, False)
    with pytest.raises(UserError, match="--judge"):
        audit_switching(config, "echo", "pricey", "s", None, None, 200, None, False)
    with pytest.raises(UserError, match="2026-11-01..2026-11-29"):
        parse_date_range("yesterday..today")
    assert parse_date_range("2026-11-01..2026-11-29")[1].startswith("2026-11-29T23:59:59")


@pytest.mark.slow
def test_switching_between_the_embedded_models(home, tmp_path, capsys):
    """Both tokenizers measured by llama.cpp itself: Korean costs each of them more tokens per character than
    English costs per word, and the two tokenizers differ."""
    from tests.helpers import SMALL_ITEMS as LOCAL_ITEMS

    suite = write_suite(tmp_path, "small", LOCAL_ITEMS)
    audit_switching(None, "local/qwen2.5-coder-0.5b-instruct", "local/gemma-3-270m", None, str(suite), None, 200,
                    None, as_json=True)
    report = json.loads(capsys.readouterr().out)
    qwen, (gemma,) = report["current_tokenizer"], report["alternatives"]
    assert qwen["how"] == gemma["tokenizer"]["how"] == "own tokenizer (llama.cpp)"
    assert qwen["per_1000_korean_chars"] != gemma["tokenizer"]["per_1000_korean_chars"]
    assert gemma["quality_kept"] is not None and gemma["cost_ratio"] > 0
    assert gemma["missing_features"] == []  # a suite uses no API features


def test_the_run_report_and_the_dashboard_show_the_audit(home, tmp_path, upstream, capsys):
    from gensandbox.cli.app import main
    from tests.ui.conftest import dashboard_client

    config = configure(tmp_path, upstream)
    suite = write_suite(tmp_path, "six", ITEMS)
    audit_switching(config, "echo", "pricey", None, str(suite), None, 200, None, as_json=True)
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    report = tmp_path / "r.html"
    assert main(["report", run_id, "-o", str(report), "-c", str(config)]) == 0
    html = report.read_text()
    assert 'id="audits"' in html and "switching from echo to pricey keeps 100% of quality" in html
    assert "Every model (the current one included) answered the same workload" in html
    page = dashboard_client(load_config(config)).get("/audits?lang=en").text
    assert "switching from echo to pricey" in page
