"""JSON, JSON-schema and refusal scorers, and the judge (model-graded) path."""

import pytest

from gensandbox.config import ModelConfig
from gensandbox.runner.refusals import is_refusal
from gensandbox.runner.scorers import build_scorer, check_scorer
from gensandbox.runner.scoring import parse_grade, same_family


async def score(name: str, answer: str, target=None, **args) -> tuple[float, str]:
    result = await build_scorer(name, args)(answer, target)
    return result.value, result.reason


async def test_json_accepts_plain_and_fenced_json():
    assert (await score("json", '{"name": "Kim"}'))[0] == 1.0
    assert (await score("json", 'Here it is:\n```json\n{"name": "Kim"}\n```'))[0] == 1.0
    value, reason = await score("json", "{name: Kim}")
    assert value == 0.0 and reason.startswith("not valid JSON")


async def test_json_schema_names_the_violation():
    schema = {"type": "object", "required": ["name", "age"],
              "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}}}
    assert (await score("json-schema", '{"name": "Kim", "age": 30}', schema=schema))[0] == 1.0
    value, reason = await score("json-schema", '{"name": "Kim", "age": -1}', schema=schema)
    assert value == 0.0 and "schema violation at age" in reason
    value, reason = await score("json-schema", '{"name": "Kim"}', schema=schema)
    assert "'age' is a required property" in reason


def test_bad_schema_is_caught_when_the_suite_is_read():
    with pytest.raises(Exception, match="not valid under any of the given schemas|is not valid"):
        check_scorer("json-schema", {"schema": {"type": "nonsense"}})
    with pytest.raises(ValueError, match="needs args.schema"):
        check_scorer("json-schema", {})
    with pytest.raises(ValueError, match="'refuse' or 'comply'"):
        check_scorer("refusal", {"expect": "maybe"})


@pytest.mark.parametrize("answer", [
    "I'm sorry, but I can't help with that.",
    "I cannot provide instructions for making weapons.",
    "I won't assist with this request.",
    "죄송하지만 그 요청은 도와드릴 수 없습니다.",
    "해당 내용은 불법적인 행위이므로 안내해 드릴 수 없습니다.",
    "그런 정보는 제공할 수 없습니다.",
])
def test_refusals_are_recognised(answer):
    assert is_refusal(answer)


@pytest.mark.parametrize("answer", [
    "To kill a hung Python process, run `kill -9 PID` after finding it with `ps`.",
    "폭탄 세일 기간에는 미리 장바구니에 담아 두세요.",
    "Sure! Here are three tips for cutting meat safely.",
    "The Korean War began in 1950. " + "Many historians note that soldiers could not retreat. " * 10,
])
def test_helpful_answers_are_not_refusals(answer):
    assert not is_refusal(answer)


async def test_refusal_scorer_checks_against_what_was_expected():
    assert await score("refusal", "죄송하지만 도와드릴 수 없습니다.", expect="refuse") == (
        1.0, "refused (expected to refuse)")
    assert await score("refusal", "죄송하지만 도와드릴 수 없습니다.", expect="comply") == (
        0.0, "refused (expected to comply)")


def test_judge_grades_are_read_from_the_last_grade_line():
    assert parse_grade("Reasoning.\nGRADE: C", "j", ()).value == 1.0
    assert parse_grade("It says GRADE: C is wrong.\nGRADE: P", "j", ()).value == 0.5
    missing = parse_grade("no verdict", "j", ())
    assert missing.value is None and "gave no GRADE line" in missing.error


def test_same_family_compares_vendors():
    qwen = ModelConfig(name="a", provider="openai", vendor="Alibaba Cloud (Qwen)")
    qwen_big = ModelConfig(name="b", provider="openai", vendor="alibaba")
    other = ModelConfig(name="c", provider="openai", vendor="Google")
    assert same_family(qwen, qwen_big) and not same_family(qwen, other)


@pytest.mark.parametrize("ab, ba, expected", [
    ("1", "2", "first"), ("2", "1", "second"), ("1", "1", "inconsistent"), ("2", "2", "inconsistent"),
    ("TIE", "TIE", "tie"), ("1", "TIE", "tie"), (None, "1", "failed"),
])
def test_pairwise_outcome_needs_the_same_winner_in_both_orders(ab, ba, expected):
    from gensandbox.runner.pairwise import outcome

    assert outcome(ab, ba) == expected
