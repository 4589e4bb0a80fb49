"""Suites users bring: CSV, YAML, Jinja2 templates, few-shot examples, multiple choice, public layouts."""

import json
from pathlib import Path

import pytest

from gensandbox.config import load_config
from gensandbox.errors import ConfigError
from gensandbox.runner import resolve_suite

FIXTURES = Path(__file__).parent / "fixtures" / "benchmarks"


def items(suite):
    return list(suite.iter_items())


def test_csv_with_choices_and_several_targets(home, tmp_path):
    path = tmp_path / "quiz.csv"
    path.write_text(
        "id,language,category,input,choices,target,scorer\n"
        "q1,ko,geo,한국의 수도는?,부산|서울|대구,서울,\n"
        'q2,en,geo,"Capital of Japan?",,Tokyo|東京,includes\n', encoding="utf-8")
    first, second = items(resolve_suite(str(path), load_config()))
    assert first.scorer.name == "choice" and first.target == "B"
    assert first.messages[0].content == "한국의 수도는?\n\nA. 부산\nB. 서울\nC. 대구\n\n정답의 알파벳만 답하세요."
    assert second.target == ["Tokyo", "東京"] and second.messages[0].content == "Capital of Japan?"


def test_yaml_suite_with_system_prompt_template_few_shot_and_defaults(home, tmp_path):
    path = tmp_path / "translate.yaml"
    path.write_text(
        "license: CC-BY-4.0 (our team)\n"
        "system: You translate Korean to English.\n"
        "template: 'Translate: {{ input }}'\n"
        "few_shot:\n  - {input: 사과, output: apple}\n"
        "defaults: {language: ko, category: translation, scorer: includes}\n"
        "items:\n  - {id: t1, input: 바다, target: sea}\n  - {id: t2, input: 하늘, target: sky, category: nature}\n",
        encoding="utf-8")
    suite = resolve_suite(str(path), load_config())
    first, second = items(suite)
    assert suite.license == "CC-BY-4.0 (our team)"
    assert [(m.role, m.content) for m in first.messages] == [
        ("system", "You translate Korean to English."), ("user", "Translate: 사과"), ("assistant", "apple"),
        ("user", "Translate: 바다")]
    assert (first.category, second.category, second.language) == ("translation", "nature", "ko")


def test_suite_options_in_gensandbox_toml(home, tmp_path):
    (tmp_path / "rows.jsonl").write_text(json.dumps({"id": "a", "question": "2+2?", "target": "4"}) + "\n")
    (tmp_path / "g.toml").write_text(
        '[[suites]]\nname = "mathy"\npath = "rows.jsonl"\ntemplate = "Q: {{ question }}"\n'
        'defaults = { language = "en", category = "math", scorer = "numeric" }\n')
    (item,) = items(resolve_suite("mathy", load_config(tmp_path / "g.toml")))
    assert item.messages[-1].content == "Q: 2+2?" and item.scorer.name == "numeric"


@pytest.mark.parametrize("text, message", [
    ("id,language,category,input,target\nq1,en,c,hi,x\n", "line 2: `scorer` is required"),
    ("id,language,category,input\nq1,en,c\n", "line 2: a row needs `messages`, or `input`"),
    ("id,language,category,target,scorer\nq1,en,c,x,exact\n", "a row needs `messages`, or `input`"),
    ("id,language,category,input,target,scorer\nq1,en,c,hi,x,fuzzy\n", "line 2: `scorer`: unknown scorer"),
])
def test_bad_csv_rows_name_the_line_and_field(home, tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        resolve_suite(str(path), load_config())


def test_template_errors_are_reported_with_the_row(home, tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("template: '{{ missing_field }}'\nitems:\n  - {id: a, language: en, category: c, input: hi, "
                    "target: x, scorer: exact}\n")
    with pytest.raises(ConfigError, match=r"t.yaml item 1: prompt template: 'missing_field' is undefined"):
        resolve_suite(str(path), load_config())


def test_bad_yaml_says_where(home, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("items:\n  - {id: a\n")
    with pytest.raises(ConfigError, match="broken.yaml line .*not valid YAML"):
        resolve_suite(str(path), load_config())


def test_public_benchmark_layout_keeps_its_license(home):
    suite = resolve_suite(f"kmmlu:{FIXTURES / 'kmmlu.csv'}", load_config())
    assert suite.license == "CC-BY-ND-4.0" and "derivative" in suite.license_note
    first = items(suite)[0]
    assert first.scorer.name == "choice" and first.language == "ko"
    assert suite.record()["layout"] == "kmmlu" and len(suite.record()["sha256"]) == 64


def test_mutators_add_variants_after_each_item(home):
    suite = resolve_suite("safety-ko", load_config()).with_mutators(["jamo", "roleplay"])
    listed = items(suite)
    assert suite.count == len(listed) == 120
    assert [i.id for i in listed[:3]] == ["ko-safety-01", "ko-safety-01~jamo", "ko-safety-01~roleplay"]
    assert listed[1].scorer == listed[0].scorer and listed[1].messages != listed[0].messages
