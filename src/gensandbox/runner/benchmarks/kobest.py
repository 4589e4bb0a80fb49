"""KoBEST rows → items, one task per file, told from the row's fields, in either published form.

Two forms are published: the JSONL of skt/kobest_v1 on Hugging Face (lower-case fields, 0-based `label`) and
the TSVs of the SKT-LSL/KoBEST_datarepo GitHub release, which that dataset's script converts (their own
headers; COPA's `Answer` is 1 or 2; BoolQ's and WiC's answers are TRUE/FALSE in any case). Each form's
fields are matched by their published names, so a row is read the way its authors meant it; _FIELDS maps
them, and the package docstring says where each header was checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from gensandbox.runner.benchmarks._choice import WHOLE_NUMBER, choice_item
from gensandbox.runner.benchmarks._rows import Row, row_id, rows_of

_NO_YES = ["아니오", "예"]  # in label order: 0 = no, 1 = yes
_COPA_ASKS = {"원인": "원인으로", "cause": "원인으로", "결과": "결과로", "effect": "결과로"}

# task → the field of each role: (skt/kobest_v1 JSONL name, KoBEST_datarepo TSV name).
_FIELDS = {
    "boolq": {"paragraph": ("paragraph", "Text"), "question": ("question", "Question"), "label": ("label", "Answer")},
    "copa": {"premise": ("premise", "sentence"), "question": ("question", "question"),
             "alternative_1": ("alternative_1", "1"), "alternative_2": ("alternative_2", "2"),
             "label": ("label", "Answer")},
    "hellaswag": {"context": ("context", "context"),
                  **{f"ending_{n}": (f"ending_{n}", f"choice{n}") for n in range(1, 5)}, "label": ("label", "label")},
    "sentineg": {"sentence": ("sentence", "Text"), "label": ("label", "Label")},
    "wic": {"word": ("word", "Target"), "context_1": ("context_1", "SENTENCE1"),
            "context_2": ("context_2", "SENTENCE2"), "label": ("label", "ANSWER")},
}
HF, TSV = 0, 1


def load(path: Path) -> Iterator[dict]:
    for row in rows_of(path):
        yield _item(row)


def task_of(keys: Iterable[str]) -> tuple[str, int] | None:
    """(task, HF or TSV) from a row's field names; None if they are no KoBEST task's.

    COPA is told by its alternatives (`alternative_1`, or the TSV's `1` and `2`) or its `question`, so a COPA
    TSV, which also has a `sentence`, is never taken for SentiNeg, whose only fields are a sentence and a label.
    """
    keys = {_answer_alias(key) for key in keys}
    if keys & {"premise", "alternative_1", "alternative_2"}:
        return "copa", HF
    if {"1", "2"} <= keys or {"sentence", "question"} <= keys:
        return "copa", TSV
    if "choice1" in keys:
        return "hellaswag", TSV
    if "ending_1" in keys or ("context" in keys and "context_1" not in keys):
        return "hellaswag", HF
    if keys & {"word", "context_1"}:
        return "wic", HF
    if keys & {"Target", "SENTENCE1"}:
        return "wic", TSV
    if "paragraph" in keys:
        return "boolq", HF
    if {"Text", "Question"} <= keys:
        return "boolq", TSV
    if "sentence" in keys:
        return "sentineg", HF
    if {"Text", "Label"} <= keys:
        return "sentineg", TSV
    return None


def _answer_alias(key: str) -> str:
    # The 2021 NIKL release of the same TSVs heads BoolQ's answers "Answer(FALSE = 0, TRUE = 1)".
    return "Answer" if key.startswith("Answer(") else key


def recognised(keys: Iterable[str]) -> bool:
    """Whether the field names hold every field of one KoBEST task in one form (for layout detection)."""
    keys = {_answer_alias(key) for key in keys}
    found = task_of(keys)
    return found is not None and all(names[found[1]] in keys for names in _FIELDS[found[0]].values())


def _item(row: Row) -> dict:
    task, form = _task(row)
    names = {role: _column(row, pair[form]) for role, pair in _FIELDS[task].items()}
    stem, options = _PROMPTS[task](row, names)
    first = 1 if (task, form) == ("copa", TSV) else 0  # the TSV numbers COPA's alternatives 1 and 2
    return choice_item(row_id(row, "kobest"), task, stem, options, _label(row, names["label"], len(options), first))


def _task(row: Row) -> tuple[str, int]:
    found = task_of(key for key, value in row.data.items() if value is not None)
    if found is None:
        raise row.fail(
            "cannot tell the KoBEST task from the fields "
            f"({', '.join(sorted(row.data)) or 'none'}); expected boolq (paragraph, question, label), "
            "copa (premise, question, alternative_1, alternative_2, label), hellaswag (context, ending_1..ending_4, "
            "label), sentineg (sentence, label) or wic (word, context_1, context_2, label), or the "
            "KoBEST_datarepo TSV headers of those tasks"
        )
    return found


def _boolq(row: Row, names: dict) -> tuple[str, list[str]]:
    return f"{row.text(names['paragraph'])}\n\n질문: {row.text(names['question'])}", _NO_YES


def _copa(row: Row, names: dict) -> tuple[str, list[str]]:
    premise, asked = row.text(names["premise"]), row.text(names["question"])
    if asked.lower() not in _COPA_ASKS:
        raise row.fail(f"`{names['question']}` must be 원인 or 결과, got {asked!r}")
    stem = f"{premise}\n\n위 문장의 {_COPA_ASKS[asked.lower()]} 가장 알맞은 것은?"
    return stem, [row.text(names["alternative_1"]), row.text(names["alternative_2"])]


def _hellaswag(row: Row, names: dict) -> tuple[str, list[str]]:
    stem = f"다음 내용에 이어질 문장으로 가장 알맞은 것은?\n\n{row.text(names['context'])}"
    return stem, [row.text(names[f"ending_{n}"]) for n in range(1, 5)]


def _sentineg(row: Row, names: dict) -> tuple[str, list[str]]:
    return f"다음 문장은 긍정인가요, 부정인가요?\n\n문장: {row.text(names['sentence'])}", ["부정", "긍정"]


def _wic(row: Row, names: dict) -> tuple[str, list[str]]:
    stem = (
        f"다음 두 문장에서 '{row.text(names['word'])}'이(가) 같은 뜻으로 쓰였나요?\n\n"
        f"문장 1: {row.text(names['context_1'])}\n문장 2: {row.text(names['context_2'])}"
    )
    return stem, _NO_YES


_PROMPTS = {"boolq": _boolq, "copa": _copa, "hellaswag": _hellaswag, "sentineg": _sentineg, "wic": _wic}


def _column(row: Row, name: str) -> str:
    """The row's own spelling of `name` ("Answer(FALSE = 0, TRUE = 1)" for "Answer"); `name` if absent."""
    return next((key for key in row.data if _answer_alias(key) == name), name)


def _label(row: Row, name: str, n: int, first: int = 0) -> int:
    """The option index from the label `name`: a number counted from `first`, a numeric string, or (for the
    yes/no tasks) true/false in any case."""
    value = row.require(name)
    yes_no = n == 2 and not first
    if isinstance(value, bool):
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and WHOLE_NUMBER.fullmatch(value.strip()):
        number = int(float(value.strip()))
    elif isinstance(value, str) and value.strip().lower() in ("false", "true") and yes_no:
        number = int(value.strip().lower() == "true")
    else:
        raise row.fail(f"`{name}` must be {first}-{first + n - 1}{' or true/false' if yes_no else ''}, got {value!r}")
    if not first <= number < first + n:
        raise row.fail(f"`{name}` must be {first}-{first + n - 1}, got {number}")
    return number - first
