"""Answer extraction against a corpus of graded answers, and the policy's rules one by one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gensandbox.runner.extraction import find_options, read_choice, read_number, target_index
from gensandbox.runner.scorers import build_scorer

FIXTURES = Path(__file__).parent / "fixtures"
PROMPTS = json.loads((FIXTURES / "graded_prompts.json").read_text(encoding="utf-8"))


def _graded() -> list[tuple[str, str, str]]:
    rows = []
    for line in (FIXTURES / "graded_answers.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            prompt, grade, *answer = line.split("\t")
            rows.append((prompt, grade, "\t".join(answer).replace("\\n", "\n")))
    return rows


def test_extraction_agrees_with_a_careful_grader():
    rows = _graded()
    assert len(rows) >= 300 and {p for p, _, _ in rows} == set(PROMPTS)
    assert sum(any("\uac00" <= c <= "\ud7a3" for c in a) for _, _, a in rows) >= 100  # Korean answers too
    disagreements = []
    for prompt, grade, answer in rows:
        reading = read_choice(answer, find_options(PROMPTS[prompt]))
        if (reading.letter or "-") != grade:
            disagreements.append(f"{prompt}: {answer!r} graded {grade}, read {reading.letter or '-'} ({reading.how})")
    agreement = 1 - len(disagreements) / len(rows)
    print(f"{len(rows)} graded answers, agreement {agreement:.1%}", *disagreements, sep="\n")
    assert agreement >= 0.99, "\n".join(disagreements)


@pytest.mark.parametrize("prompt, style, count", [
    ("ko4", "letters", 4), ("ko5", "letters", 5), ("num4", "numbers", 4), ("circ4", "numbers", 4),
    ("hangul4", "hangul", 4), ("inline5", "letters", 5), ("none", None, 0),
])
def test_options_are_found_in_the_prompt(prompt, style, count):
    options = find_options(PROMPTS[prompt])
    assert (options.style, options.count) == (style, count) if style else options is None


def test_options_are_the_last_labelled_block():
    prompt = "Steps:\n1. Read the passage.\n2. Pick one.\n\nA. red\nB. green\nC. blue"
    assert find_options(prompt).texts == ("red", "green", "blue")


def test_the_last_explicit_answer_wins_over_letters_in_reasoning():
    reading = read_choice("A fits the first clue and B the second, but the answer is C.", find_options(PROMPTS["en4"]))
    assert (reading.letter, reading.how) == ("C", "the explicit answer 'answer is C'")


def test_option_numbers_count_only_when_the_prompt_has_options():
    assert read_choice("2번", find_options(PROMPTS["ko4"])).letter == "B"
    assert read_choice("2번", None).letter is None
    assert read_choice("5번", find_options(PROMPTS["ko4"])).letter is None  # out of range


def test_a_bare_number_naming_one_option_by_number_and_another_by_text_is_ambiguous():
    options = find_options("Which is even?\nA. 3\nB. 1\nC. 4\nD. 2")
    assert options is not None
    assert read_choice("2", options).letter == "D"  # among numeric options a bare number is a value
    lettered = find_options("Pick a colour.\nA. 2\nB. red\nC. blue\nD. green")
    reading = read_choice("1", lettered)
    assert reading.letter == "A"
    reading = read_choice("A", find_options("Pick a language.\nA. Java\nB. A\nC. Go"))
    assert reading.letter is None and reading.how.startswith("ambiguous")


def test_targets_are_letters_numbers_labels_or_option_texts():
    options = find_options(PROMPTS["ko4"])
    assert [target_index(t, options) for t in ("B", "(b)", "2", "부산", "광주")] == [1, 1, 1, 1, 3]
    assert target_index("나", find_options(PROMPTS["hangul4"])) == 1


@pytest.mark.parametrize("text, value, how", [
    ("3+5=8", 8.0, "the last number"), ("The answer is 1,250 won.", 1250.0, "the explicit answer"),
    ("-4 degrees", -4.0, "the last number"), ("정답: 36개", 36.0, "the explicit answer"),
    ("The answer is 12. Check: 12 × 2 = 24.", 12.0, "the explicit answer"), ("−7", -7.0, "the last number"),
    ("답은 42입니다. 6 × 7 = 42", 42.0, "the explicit answer"), ("no digits", None, "no number in the answer"),
])
def test_numbers_are_read_from_the_explicit_answer_first(text, value, how):
    reading = read_number(text)
    assert (reading.value, reading.how) == (value, how)


async def test_the_choice_scorer_reads_the_prompt_and_says_how_it_read_the_answer():
    scorer = build_scorer("choice")
    score = await scorer("정답은 ③입니다.", "C", PROMPTS["num4"])
    assert (score.value, score.reason) == (1.0, "chose C (the explicit answer '정답은 3번'); correct C")
    score = await scorer("A or B", "B", PROMPTS["en4"])
    assert (score.value, score.reason) == (0.0, "no answer: the answer hedges: 'A or B'; correct B")


async def test_the_numeric_scorer_says_where_the_number_came_from():
    score = await build_scorer("numeric")("The answer is 12. Check: 12 × 2 = 24.", "12")
    assert (score.value, score.reason) == (1.0, "12 = 12 (read from the explicit answer)")


@pytest.mark.parametrize("answer, target, expected", [
    ("The capital is Rome.", "Rome", 1.0), ("정답은 이성계입니다.", "이성계", 1.0),
    ("세종대왕입니다.", "세종대왕", 1.0),
    ("The blue whale", "blue whale", 1.0), ("Green, of course.", "green", 1.0), ("H₂O", "H2O", 1.0),
    ("It is not Madrid; it is Barcelona.", "Madrid", 0.0), ("서울은 아닙니다.", "아닙니다", 0.0),
    ("Toronto", "Ottawa", 0.0), ("William Shakespeare", "Shakespeare", 0.0),  # a reading never drops words
])
async def test_exact_reads_a_short_answer_without_its_frame(answer, target, expected):
    assert (await build_scorer("exact")(answer, target)).value == expected


@pytest.mark.parametrize("text, value", [
    ("120 minutes (not 100).", 120.0), ("5 × 5 = 25이므로 25 cm²입니다.", 25.0), ("25가 아니라 36입니다", 36.0),
])
def test_numbers_the_answer_rules_out_and_unit_exponents_are_not_read(text, value):
    assert read_number(text).value == value
