import json

import pytest

from gensandbox.config import load_config
from gensandbox.errors import ConfigError, NotFoundError
from gensandbox.runner import builtin_suite_names, resolve_suite
from gensandbox.runner.scorers import check_scorer

CATEGORIES = {"knowledge", "arithmetic", "reading", "instruction"}


@pytest.mark.parametrize("name, language", [("basics-en", "en"), ("basics-ko", "ko")])
def test_built_in_suites_follow_the_schema(home, name, language):
    suite = resolve_suite(name, load_config())
    items = list(suite.iter_items())
    assert len(items) == suite.count >= 40
    assert set(suite.categories) == CATEGORIES
    assert {item.language for item in items} == {language}
    for item in items:
        assert item.id.startswith(f"{language}-")
        assert item.messages[-1].role == "user" and item.messages[-1].content.strip()
        check_scorer(item.scorer.name, item.scorer.args)
        if item.scorer.name != "regex":
            assert item.target, item.id
    per_category = {c: sum(1 for i in items if i.category == c) for c in CATEGORIES}
    assert min(per_category.values()) >= 10


def test_korean_suite_is_written_in_hangul(home):
    suite = resolve_suite("basics-ko", load_config())
    items = list(suite.iter_items())
    hangul = sum(1 for item in items if any("가" <= ch <= "힣" for ch in item.messages[-1].content))
    assert hangul == len(items)


def test_built_in_names(home):
    assert {"basics-en", "basics-ko"} <= set(builtin_suite_names())


def item(**overrides) -> str:
    base = {"id": "x1", "language": "en", "category": "knowledge",
            "messages": [{"role": "user", "content": "Capital of France?"}], "target": "Paris",
            "scorer": "includes"}
    return json.dumps(base | overrides)


def test_a_user_suite_by_path(home, tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text(item() + "\n\n" + item(id="x2", scorer={"name": "regex", "args": {"pattern": "^P"}}) + "\n")
    suite = resolve_suite(str(path), load_config())
    items = list(suite.iter_items())
    assert (suite.name, suite.count, len(items)) == ("mine", 2, 2)
    assert items[1].scorer.args == {"pattern": "^P"}
    assert len(suite.sha256) == 64


@pytest.mark.parametrize("lines, message", [
    (["{not json"], r"mine.jsonl line 1: not valid JSON"),
    ([item(), item(scorer="fuzzy")], r"line 2: `scorer`: unknown scorer 'fuzzy'"),
    ([item(), item()], r"line 2: duplicate item id `x1`"),
    ([item(messages=[])], r"line 1: `messages`: List should have at least 1 item"),
    ([item(colour="red")], r"unknown key `colour`; allowed here: id, language"),
    ([item(scorer={"name": "regex", "args": {"pattern": "("}})], r"line 1: `scorer`"),
    ([], r"has no items"),
])
def test_suite_errors_say_which_line_and_why(home, tmp_path, lines, message):
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=message):
        resolve_suite(str(path), load_config())


def test_unknown_suite_and_missing_file(home, tmp_path):
    known = "agent-risk-en, agent-risk-ko, basics-en, basics-ko"  # sorted: the agent suites come first
    with pytest.raises(NotFoundError, match=f"unknown suite `basics-fr`; known suites: {known}"):
        resolve_suite("basics-fr", load_config())
    with pytest.raises(NotFoundError, match="suite `gone`: file .*gone.jsonl not found"):
        resolve_suite(str(tmp_path / "gone.jsonl"), load_config())


def test_config_suite_path_is_relative_to_the_config_file(home, tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "own.jsonl").write_text(item() + "\n")
    (tmp_path / "g.toml").write_text('[[suites]]\nname = "own"\npath = "s/own.jsonl"\n')
    suite = resolve_suite("own", load_config(tmp_path / "g.toml"))
    assert suite.count == 1
