"""`gensandbox run --suites LAYOUT:PATH` on each public benchmark layout, end to end, against the loopback upstream.

The model is the upstream's "grader", whose every answer ends "GRADE: C": the choice scorer reads it as
option C, so each suite's score is known in advance (the share of items whose answer is C).
"""

import json
from pathlib import Path

import pytest

from gensandbox.cli.app import main
from gensandbox.config import load_config
from gensandbox.store.opening import open_store
from tests.helpers import write_config

FIXTURES = Path(__file__).parent.parent / "runner" / "fixtures" / "benchmarks"


@pytest.fixture
def config(home, tmp_path, upstream):
    return write_config(tmp_path, upstream.url, {"always-c": "grader"})


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("layout, name, suite, n, score, license", [
    ("haerae", "HAERAE-Bench-v1-HI.csv", "HAERAE-Bench-v1-HI", 4, 0.5, "CC-BY-NC-ND-4.0"),  # C, A, B, C
    ("click", "click_csat.json", "click_csat", 5, 0.2, "none stated"),  # B, B, C, D, A
    ("kmmlu", "kmmlu.csv", "kmmlu", 3, 0.333333, "CC-BY-ND-4.0"),  # A, C, D
    ("kobest", "kobest_hellaswag.tsv", "kobest_hellaswag", 3, 0.666667, "CC-BY-SA-4.0"),  # C, C, A
    ("kobest", "kobest_hellaswag.jsonl", "kobest_hellaswag", 3, 0.333333, "CC-BY-SA-4.0"),  # C, A, D
])
def test_each_layout_runs_and_scores(config, capsys, layout, name, suite, n, score, license):
    code, out, err = run_cli(capsys, "run", "-c", str(config), "-m", "always-c", "-s", f"{layout}:{FIXTURES / name}",
                             "--run-id", "bench")
    assert code == 0, err
    assert f"note: suite {suite} is under {license}" in err  # the licence is shown before anything runs
    assert f"suite {suite}: read as " in err and f"({layout} layout) from {name}; licence {license}" in err

    code, out, _ = run_cli(capsys, "show", "bench", "--json", "-c", str(config))
    (row,) = json.loads(out)["results"]
    assert (row["model"], row["suite"], row["n"], row["errors"]) == ("always-c", suite, n, 0)
    assert row["score"] == pytest.approx(score, abs=1e-6)

    (record,) = open_store(load_config(config)).get_run("bench").suites  # what the run's manifest keeps
    assert (record["layout"], record["items"], record["path"]) == (layout, n, str(FIXTURES / name))
    assert record["license"].startswith(license) and record["license_note"]


def test_kobest_task_reaches_the_results_as_the_category(config, capsys):
    code, _, err = run_cli(capsys, "run", "-c", str(config), "-m", "always-c", "-s",
                           f"kobest:{FIXTURES / 'kobest_copa.tsv'}", "--run-id", "copa")
    assert code == 0, err
    code, out, _ = run_cli(capsys, "show", "copa", "--json", "--by", "category", "-c", str(config))
    assert [(r.get("category"), r["n"]) for r in json.loads(out)["results"]] == [("copa", 3)]


def test_suites_lists_benchmarks_named_in_config(home, tmp_path, upstream, capsys):
    extra = "".join(
        f'[[suites]]\nname = "{name}"\npath = "{FIXTURES / file}"\nlayout = "{layout}"\n\n'
        for name, file, layout in [("hrb-history", "HAERAE-Bench-v1-HI.csv", "haerae"),
                                   ("click-csat", "click_csat.json", "click"),
                                   ("kmmlu-sample", "kmmlu.csv", "kmmlu"),
                                   ("kobest-wic", "kobest_wic.tsv", "kobest")])
    config = write_config(tmp_path, upstream.url, {"always-c": "grader"}, extra=extra)
    code, out, err = run_cli(capsys, "suites", "-c", str(config))
    assert code == 0, err
    header, *lines = [[cell.strip() for cell in line.split("│" if "│" in line else "┃")[1:-1]]
                      for line in out.splitlines() if line.count("│") > 2 or line.count("┃") > 2]
    listed = {cells[0]: dict(zip(header, cells, strict=True)) for cells in lines}
    for name, items, layout, license in [("hrb-history", "4", "haerae", "CC-BY-NC-ND-4.0"),
                                         ("click-csat", "5", "click", "none stated"),
                                         ("kmmlu-sample", "3", "kmmlu", "CC-BY-ND-4.0"),
                                         ("kobest-wic", "3", "kobest", "CC-BY-SA-4.0")]:
        row = listed[name]
        assert (row["items"], row.get("layout", layout)) == (items, layout), row
        assert row["license"].startswith(license) and not row.get("problem"), row


def test_a_downloaded_folder_runs_as_one_suite(config, capsys, tmp_path):
    """CLIcK comes as a folder of JSON files (Dataset/**/*.json), KoBEST's release as one TSV per task: the folder
    is one suite, its items' ids prefixed with their file's path, so rows of different files never collide."""
    dataset = tmp_path / "CLIcK" / "Dataset"
    (dataset / "Culture").mkdir(parents=True)
    (dataset / "Culture" / "Textual_CSAT.json").write_bytes((FIXTURES / "click_csat.json").read_bytes())
    (dataset / "click.json").write_bytes((FIXTURES / "click.json").read_bytes())
    (dataset / "README.md").write_text("not a data file")
    code, _, err = run_cli(capsys, "run", "-c", str(config), "-m", "always-c", "-s", f"click:{dataset}",
                           "--run-id", "folder")
    assert code == 0, err
    assert "suite Dataset: read as CLIcK (click layout) from Dataset; licence none stated" in err
    store = open_store(load_config(config))
    samples = list(store.samples("folder"))
    assert len(samples) == 5 + len(json.loads((FIXTURES / "click.json").read_text()))
    assert {s.item_id.split("/")[0] for s in samples} == {"Culture", "click"}
    assert any(s.item_id.startswith("Culture/Textual_CSAT/") for s in samples)

    tasks = tmp_path / "KoBEST" / "v1.0"
    for task in ("boolq", "copa", "wic"):
        (tasks / task).mkdir(parents=True)
        (tasks / task / "train.tsv").write_bytes((FIXTURES / f"kobest_{task}.tsv").read_bytes())
    code, _, err = run_cli(capsys, "run", "-c", str(config), "-m", "always-c", "-s", f"kobest:{tasks}",
                           "--run-id", "kobest")
    assert code == 0, err
    code, out, _ = run_cli(capsys, "show", "kobest", "--json", "--by", "category", "-c", str(config))
    assert {r["category"] for r in json.loads(out)["results"]} == {"boolq", "copa", "wic"}

    (dataset / "click.json").write_text("[]")  # the folder changed: a rerun must refuse it
    code, _, err = run_cli(capsys, "rerun", "folder", "-c", str(config))
    assert code == 1 and "has changed since that run" in err
