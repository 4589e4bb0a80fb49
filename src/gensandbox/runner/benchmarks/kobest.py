"""KoBEST (skt/kobest_v1) rows → items, one task per file, told from the row's fields.

The fields of each task, and where they were checked, are listed in the package docstring.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from gensandbox.runner.benchmarks._choice import WHOLE_NUMBER, choice_item
from gensandbox.runner.benchmarks._rows import Row, row_id, rows_of

_NO_YES = ["아니오", "예"]  # in label order: 0 = no, 1 = yes
_COPA_ASKS = {"원인": "원인으로", "cause": "원인으로", "결과": "결과로", "effect": "결과로"}


def load(path: Path) -> Iterator[dict]:
    for row in rows_of(path):
        yield _item(row)


def _item(row: Row) -> dict:
    task = _task(row)
    item_id = row_id(row, "kobest")
    if task == "boolq":
        stem = f"{row.text('paragraph')}\n\n질문: {row.text('question')}"
        return choice_item(item_id, task, stem, _NO_YES, _label(row, 2))
    if task == "copa":
        stem = _copa_stem(row)
        options = [row.text("alternative_1"), row.text("alternative_2")]
        return choice_item(item_id, task, stem, options, _label(row, 2))
    if task == "hellaswag":
        stem = f"다음 내용에 이어질 문장으로 가장 알맞은 것은?\n\n{row.text('context')}"
        options = [row.text(f"ending_{n}") for n in range(1, 5)]
        return choice_item(item_id, task, stem, options, _label(row, 4))
    if task == "sentineg":
        stem = f"다음 문장은 긍정인가요, 부정인가요?\n\n문장: {row.text('sentence')}"
        return choice_item(item_id, task, stem, ["부정", "긍정"], _label(row, 2))
    word = row.text("word")
    stem = (
        f"다음 두 문장에서 '{word}'이(가) 같은 뜻으로 쓰였나요?\n\n"
        f"문장 1: {row.text('context_1')}\n문장 2: {row.text('context_2')}"
    )
    return choice_item(item_id, task, stem, _NO_YES, _label(row, 2))


def _task(row: Row) -> str:
    # `context` alone is hellaswag's; wic's two contexts are `context_1` and `context_2`.
    if row.has("alternative_1") or row.has("premise"):
        return "copa"
    if row.has("ending_1") or (row.has("context") and not row.has("context_1")):
        return "hellaswag"
    if row.has("word") or row.has("context_1"):
        return "wic"
    if row.has("paragraph"):
        return "boolq"
    if row.has("sentence"):
        return "sentineg"
    raise row.fail(
        "cannot tell the KoBEST task from the fields "
        f"({', '.join(sorted(row.data)) or 'none'}); expected boolq (paragraph, question, label), "
        "copa (premise, question, alternative_1, alternative_2, label), hellaswag (context, ending_1..ending_4, "
        "label), sentineg (sentence, label) or wic (word, context_1, context_2, label)"
    )


def _copa_stem(row: Row) -> str:
    premise, asked = row.text("premise"), row.text("question")
    if asked.lower() not in _COPA_ASKS:
        raise row.fail(f"`question` must be 원인 or 결과, got {asked!r}")
    return f"{premise}\n\n위 문장의 {_COPA_ASKS[asked.lower()]} 가장 알맞은 것은?"


def _label(row: Row, n: int) -> int:
    """The 0-based `label` as an option index, given as a number, a numeric string (CSV) or true/false."""
    value = row.require("label")
    if isinstance(value, bool):
        index = int(value)
    elif isinstance(value, int):
        index = value
    elif isinstance(value, float) and value.is_integer():
        index = int(value)
    elif isinstance(value, str) and WHOLE_NUMBER.fullmatch(value.strip()):
        index = int(float(value.strip()))
    elif isinstance(value, str) and value.strip().lower() in ("false", "true"):
        index = int(value.strip().lower() == "true")
    else:
        raise row.fail(f"`label` must be a number 0-{n - 1}, got {value!r}")
    if not 0 <= index < n:
        raise row.fail(f"`label` must be 0-{n - 1}, got {index}")
    return index
