"""docs/regenerate.py: README.md's command outputs come from real runs, between markers it can find."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
spec = importlib.util.spec_from_file_location("regenerate", ROOT / "docs" / "regenerate.py")
regenerate = importlib.util.module_from_spec(spec)
sys.modules["regenerate"] = regenerate  # dataclasses look their module up while the file is executed
spec.loader.exec_module(regenerate)


def test_the_readme_has_one_marker_pair_for_everything_the_script_writes():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert regenerate.missing_markers(text, list(regenerate.SECTIONS)) == []


def test_marked_blocks_and_words_are_replaced_and_nothing_else():
    text = ("intro\n<!-- generated:tour -->\n```\nold table\n```\n<!-- /generated:tour -->\nmiddle "
            "<!-- generated:variant-ratios -->at twice the cost<!-- /generated:variant-ratios --> end\n")
    text = regenerate.replace_marked(text, "tour", "\n```\nnew table\n```\n")
    text = regenerate.replace_marked(text, "variant-ratios", "at 0.5× the cost")
    assert text == ("intro\n<!-- generated:tour -->\n```\nnew table\n```\n<!-- /generated:tour -->\nmiddle "
                    "<!-- generated:variant-ratios -->at 0.5× the cost<!-- /generated:variant-ratios --> end\n")
    with pytest.raises(KeyError):
        regenerate.replace_marked(text, "holdout", "x")


def test_borders_and_progress_bars_are_left_out():
    output = ("run id: r  (1 models × 1 suites = 6 calls)\nqwen · mini ━━━━━━━━━━ 6/6 0:00:03\nRun r\n┏━━━┳━━━┓\n"
              "┃ model ┃ n ┃\n┡━━━╇━━━┩\n│ qwen │ 6 │\n└───┴───┘\n† base model\n")
    assert regenerate.kept_lines(output) == ["run id: r  (1 models × 1 suites = 6 calls)", "┃ model ┃ n ┃",
                                             "│ qwen │ 6 │", "† base model"]


def test_money_is_written_plainly_with_two_significant_digits():
    assert [regenerate.usd(v) for v in (0.0000099, 0.000123, 0.0214, None)] == ["$0.0000099", "$0.00012",
                                                                               "$0.021", "–"]


@pytest.mark.slow
def test_the_holdout_section_runs_the_real_commands(home):
    done = subprocess.run([sys.executable, str(ROOT / "docs" / "regenerate.py"), "--only", "holdout", "--print"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("<!-- generated:holdout -->\n```\n$ gensandbox holdout commit mini.jsonl\n")
    assert "OK: the 6 revealed items are the committed ones" in done.stdout
    assert "MISMATCH: revealed item 3 (`ko3`) is not the committed item 3" in done.stdout


@pytest.mark.slow
def test_the_python_example_runs_as_written(home, capsys):
    """The README's "Use it from Python" block, executed: the embedded model through llama.cpp, the ledger."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Use it from Python"):]
    start = section.index("```python\n") + len("```python\n")
    block = section[start:section.index("\n```", start)]
    exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - the documented example, run as a user would
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("('local/qwen2.5-coder-0.5b-instruct', 'basics-ko') ")
    assert printed[1].endswith(" finished") and printed[2].startswith("True ") and printed[2].endswith(" {}")
