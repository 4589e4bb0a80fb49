"""KMMLU (HAERAE-HUB/KMMLU) rows → items: `question,answer,A,B,C,D,Category,Human Accuracy`.

`answer` is 1-4, or a "1.0"-style float or a letter A-D; see the package docstring for the sources.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from gensandbox.runner.benchmarks._choice import answer_index, choice_item
from gensandbox.runner.benchmarks._rows import row_id, rows_of


def load(path: Path) -> Iterator[dict]:
    for row in rows_of(path):
        question = row.text("question")
        options = [row.text(letter, allow_empty=True) for letter in "ABCD"]
        answer = answer_index(row, row.require("answer"), options, numbers=True, texts=False)
        category = row.optional_text("Category", "category") or "kmmlu"
        yield choice_item(row_id(row, "kmmlu"), category, question, options, answer)
