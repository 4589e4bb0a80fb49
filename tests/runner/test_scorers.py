import pytest

from gensandbox.runner.extraction import read_choice, read_number
from gensandbox.runner.scorers import build_scorer, normalise


async def score(name: str, answer: str, target, **args) -> float:
    return (await build_scorer(name, args)(answer, target)).value


def test_normalise_folds_case_width_space_and_edge_punctuation():
    assert normalise("  \"Paris.\"  ") == "paris"
    assert normalise("ＳＥＯＵＬ") == "seoul"
    assert normalise("New   York\n") == "new york"


@pytest.mark.parametrize("answer, target, expected", [
    ("Paris.", "Paris", 1.0),
    ("paris", ["Lyon", "Paris"], 1.0),
    ("The capital is Paris", "Paris", 1.0),  # read without its answer frame, as a grader reads it (runner/extraction/)
    ("Paris or Lyon", "Paris", 0.0),
    ("Paris is not the capital", "Paris", 0.0),
])
async def test_exact(answer, target, expected):
    assert await score("exact", answer, target) == expected


@pytest.mark.parametrize("answer, target, expected", [
    ("The capital of France is Paris.", "Paris", 1.0),
    ("서울입니다.", ["서울", "Seoul"], 1.0),
    ("수도는 부산이 아닙니다", "서울", 0.0),
])
async def test_includes(answer, target, expected):
    assert await score("includes", answer, target) == expected


@pytest.mark.parametrize("text, number", [
    ("3+5=8", 8.0), ("The answer is 1,250 won.", 1250.0), ("-4 degrees", -4.0), ("정답: 36개", 36.0),
    ("３６", 36.0), ("about 2.5 hours", 2.5), ("no digits", None),
])
def test_last_number(text, number):
    assert read_number(text).value == number


async def test_numeric_with_tolerance():
    assert await score("numeric", "roughly 3.14", "3.14159", tolerance=0.01) == 1.0
    assert await score("numeric", "3", "3.14159") == 0.0
    assert (await build_scorer("numeric")("no idea", "4")).reason == "no number in the answer"


@pytest.mark.parametrize("answer, letter", [
    ("B", "B"), ("(C) Jeju", "C"), ("정답은 B입니다", "B"), ("The answer is (c)", "C"), ("Answer: d", "D"),
    ("답: A", "A"), ("I think it's D because of the passage.", "D"), ("B) 학교", "B"), ("모르겠습니다", None),
    ("A or B", None),
])
def test_extract_choice_copes_with_free_text(answer, letter):
    assert read_choice(answer).letter == letter


async def test_choice_scores_the_letter():
    assert await score("choice", "정답은 B입니다.", "B") == 1.0
    assert await score("choice", "The answer is (c)", "B") == 0.0


async def test_regex_honours_case_flag():
    assert await score("regex", "HELLO WORLD", None, pattern=r"^[A-Z ]+$") == 1.0
    assert await score("regex", "hello", None, pattern=r"^HELLO$", ignore_case=True) == 1.0
    assert await score("regex", "hello", None, pattern=r"^HELLO$") == 0.0


def test_scorers_are_rebuilt_from_name_and_args():
    scorer = build_scorer("numeric", {"tolerance": 0.5})
    assert (scorer.name, scorer.args) == ("numeric", {"tolerance": 0.5})


def test_unknown_scorer_and_bad_args_are_clear():
    with pytest.raises(ValueError, match="unknown scorer 'fuzzy'; available: exact, includes"):
        build_scorer("fuzzy")
    with pytest.raises(ValueError, match="needs args.pattern"):
        build_scorer("regex")
