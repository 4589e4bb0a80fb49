"""`gensandbox run` with variants, `gensandbox variant list|show|export|import|compare`, and their one-line errors,
on the loopback upstream (echo as the base model, its /v1/embeddings for retrieval)."""

import json
import sqlite3
from pathlib import Path

import orjson
import pytest

from gensandbox.cli.app import main
from gensandbox.ledger.sqlite import SQLiteLedger
from gensandbox.runner import PairedComparison
from gensandbox.runner.variant_compare import verdict
from tests.helpers import write_config, write_suite
from tests.variant_docs import write_variant_config

ITEMS = [  # the echo model repeats the question; only the variant's retrieved passage holds the target
    {"id": "k1", "language": "ko", "category": "policy", "target": "14일", "scorer": "includes",
     "messages": [{"role": "user", "content": "환불은 며칠 안에 가능한가요?"}]},
    {"id": "k2", "language": "ko", "category": "shipping", "target": "5일", "scorer": "includes",
     "messages": [{"role": "user", "content": "제주도 배송은 며칠 걸리나요?"}]},
    {"id": "k3", "language": "ko", "category": "shipping", "target": "2일", "scorer": "includes",
     "messages": [{"role": "user", "content": "다른 지역 배송은 며칠인가요?"}]},
    {"id": "k4", "language": "ko", "category": "policy", "target": "영수증이 필요합니다", "scorer": "includes",
     "messages": [{"role": "user", "content": "환불할 때 영수증이 필요한가요?"}]},
    {"id": "e1", "language": "en", "category": "policy", "target": "seven years", "scorer": "includes",
     "messages": [{"role": "user", "content": "How long does the warranty last?"}]},
    {"id": "e2", "language": "en", "category": "support", "target": "9 am", "scorer": "includes",
     "messages": [{"role": "user", "content": "When does support answer calls?"}]},
    {"id": "e3", "language": "en", "category": "support", "target": "B2", "scorer": "includes",
     "messages": [{"role": "user", "content": "Where do visitors park for free?"}]},
    {"id": "e4", "language": "en", "category": "support", "target": "level B2", "scorer": "includes",
     "messages": [{"role": "user", "content": "Is parking free for visitors?"}]},
]
ROUTED = '\n[[variants]]\nname = "routed"\nbase = "route:pair"\nsystem = "Be kind."\n\n' \
         '[[routes]]\nname = "pair"\npolicy = "fallback"\nmodels = ["echo"]\n'


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def answers(home: Path, run_id: str, model: str) -> dict[str, str]:
    rows = sqlite3.connect(home / "gensandbox.db").execute(
        "SELECT item_id, response_text FROM samples WHERE run_id = ? AND model = ?", (run_id, model)).fetchall()
    return dict(rows)


def ledger_events(home: Path) -> list[dict]:
    backend = SQLiteLedger(home / "ledger.db")
    try:
        return [event for line in backend.lines() if (event := orjson.loads(line))["kind"] == "gen_ai.call"]
    finally:
        backend.close()


def version_in(text: str) -> str:
    return text.split(" version ")[1].split()[0]


def test_run_a_variant_beside_its_base(home, tmp_path, upstream, capsys):
    config = write_variant_config(tmp_path, upstream.url)
    suite = write_suite(tmp_path, "shop-suite", ITEMS)
    code, out, err = cli(capsys, "run", "-c", config, "-m", "variant:shop,echo", "-s", suite, "--run-id", "v1")
    assert code == 0, err
    code, out, _ = cli(capsys, "show", "v1", "--json", "-c", config)
    scores = {row["model"]: row["score"] for row in json.loads(out)["results"]}
    assert scores == {"variant:shop": 1.0, "echo": 0.0}
    report = tmp_path / "v1.html"
    assert cli(capsys, "report", "v1", "-o", report, "-c", config)[0] == 0
    from gensandbox.config import load_config
    from gensandbox.reports import build_view
    from gensandbox.store import open_store

    store = open_store(load_config(config))
    pairs = [(c.first, c.second) for c in build_view(store.get_run("v1"), store).comparisons]
    assert pairs == [("variant:shop", "echo")]  # the variant beside its base, with the paired test
    version = version_in(cli(capsys, "variant", "show", "shop", "-c", config)[1])
    events = ledger_events(home)
    variant_events = [e for e in events if e["gen_ai.request.model"] == "variant:shop"]
    assert len(variant_events) == len(ITEMS)
    assert all(e["gensandbox.variant"] == "shop" and e["gensandbox.variant_version"] == version
               for e in variant_events)
    assert not any("gensandbox.variant" in e for e in events if e["gen_ai.request.model"] == "echo")
    code, out, err = cli(capsys, "rerun", "v1", "--run-id", "v2", "-c", config)
    assert code == 0 and "reproduced: all 16 scores are identical to run v1" in out, err
    (tmp_path / "docs" / "환불.md").write_text("환불은 30일 이내에 가능합니다.", encoding="utf-8")
    code, _, err = cli(capsys, "rerun", "v1", "-c", config)
    assert code == 1 and f"variant `shop` was version {version} but its documents or definition now make" in err


def test_compare_says_retrieval_helps_overall_and_per_group(home, tmp_path, upstream, capsys):
    config = write_variant_config(tmp_path, upstream.url)
    suite = write_suite(tmp_path, "shop-suite", ITEMS)
    code, out, err = cli(capsys, "variant", "compare", "shop", "-c", config, "-s", suite)
    assert code == 0, err
    assert "variant:shop vs echo" in out and "category: shipping" in out and "language: ko" in out
    assert "variant:shop on echo: helps. variant:shop − echo = +100.0 points" in out
    assert "no measurable difference" in out  # 2 shipping items alone cannot show it


def test_verdicts_need_the_interval_and_the_test_to_agree():
    def paired(difference, low, high, p):
        return PairedComparison("v", "b", 10, 0.5, 0.5, difference, low, high, p)

    assert verdict(paired(0.2, 0.1, 0.3, 0.01)) == "helps"
    assert verdict(paired(-0.2, -0.3, -0.1, 0.01)) == "hurts"
    assert verdict(paired(0.2, 0.1, 0.3, 0.2)) == "no measurable difference"
    assert verdict(paired(0.05, -0.1, 0.2, 0.5)) == "no measurable difference"


def test_export_then_import_elsewhere_gives_the_same_version_and_answers(home, tmp_path, upstream, capsys,
                                                                         monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    config = write_variant_config(here, upstream.url)
    suite = write_suite(tmp_path, "shop-suite", ITEMS)
    assert cli(capsys, "run", "-c", config, "-m", "variant:shop", "-s", suite, "--run-id", "before")[0] == 0
    code, out, err = cli(capsys, "variant", "export", "variant:shop", "-o", tmp_path / "shop.json", "-c", config)
    assert code == 0, err
    exported_version = version_in(out)

    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "home").mkdir(parents=True)
    monkeypatch.setenv("GENSANDBOX_HOME", str(elsewhere / "home"))
    other = write_config(elsewhere, upstream.url, {"echo": "echo", "bigrams": "bigrams"})
    code, out, err = cli(capsys, "variant", "import", tmp_path / "shop.json", "-c", other)
    assert code == 0, err
    assert version_in(out) == exported_version and "note:" not in out
    assert (elsewhere / "home" / "variants" / "shop" / "docs" / "parking.pdf").is_file()
    assert version_in(cli(capsys, "variant", "show", "shop", "-c", other)[1]) == exported_version
    assert cli(capsys, "run", "-c", other, "-m", "variant:shop", "-s", suite, "--run-id", "after")[0] == 0
    assert answers(elsewhere / "home", "after", "variant:shop") == answers(home, "before", "variant:shop")

    code, _, err = cli(capsys, "variant", "import", tmp_path / "shop.json", "-c", other)
    assert code == 1 and err.strip() == "error: variant `shop` was imported before; pass --force to replace it"
    code, out, err = cli(capsys, "variant", "import", tmp_path / "shop.json", "--base", "bigrams", "--force",
                         "-c", other)
    assert code == 0, err
    assert version_in(out) != exported_version and "re-based from echo to bigrams" in out
    (row,) = [line for line in cli(capsys, "variant", "list", "-c", other)[1].splitlines() if "variant:shop" in line]
    assert [cell.strip() for cell in row.split("│")][1:4] == ["variant:shop", "bigrams", version_in(out)]


def test_import_needs_a_base_that_exists_here(home, tmp_path, upstream, capsys):
    (tmp_path / "source").mkdir()
    config = write_variant_config(tmp_path / "source", upstream.url)
    assert cli(capsys, "variant", "export", "shop", "-o", tmp_path / "shop.json", "-c", config)[0] == 0
    code, _, err = cli(capsys, "variant", "import", tmp_path / "shop.json")  # no config: only the local models
    assert code == 1
    assert err.startswith("error: the variant's base `echo` is not a model here; pass --base MODEL")


@pytest.mark.parametrize(("variant", "args", "message"), [
    ("", ["run", "-m", "variant:nope"], "error: unknown variant `nope`; known variants: shop; add [[variants]]"),
    (ROUTED, ["run", "-m", "variant:routed"], "error: variant `routed` is based on the route `route:pair`, which "
     "only the gateway serves; to run it, pick one model: variant:routed@MODEL"),
    ('\n[[variants]]\nname = "lost"\nbase = "echo"\nretrieval = {folder = "missing"}\n', ["run", "-m",
     "variant:lost"], "error: documents folder"),
    ('\n[[variants]]\nname = "odd"\nbase = "echo"\npost_process = ["shout"]\n', ["variant", "list"],
     "`variants[1].post_process[0]`: Input should be 'strip-reasoning', 'extract-json', 'first-line' or 'strip' "
     "(got 'shout')"),
])
def test_one_line_errors(home, tmp_path, upstream, capsys, variant, args, message):
    config = write_variant_config(tmp_path, upstream.url, extra=variant)
    suite = write_suite(tmp_path, "shop-suite", ITEMS[:1])
    code, _, err = cli(capsys, *args, "-c", config, *(["-s", suite] if args[0] == "run" else []))
    assert code == 1
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_a_route_based_variant_runs_on_one_of_its_models(home, tmp_path, upstream, capsys):
    config = write_variant_config(tmp_path, upstream.url, extra=ROUTED)
    suite = write_suite(tmp_path, "shop-suite", ITEMS[:2])
    code, _, err = cli(capsys, "run", "-c", config, "-m", "variant:routed@echo", "-s", suite, "--run-id", "r")
    assert code == 0, err
    assert set(answers(home, "r", "variant:routed@echo")) == {"k1", "k2"}
