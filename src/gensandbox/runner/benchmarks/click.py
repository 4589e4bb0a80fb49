"""CLIcK (EunsuKim/CLIcK) rows → items: {id, paragraph, question, choices, answer}, `answer` a choice's text.

Some CSAT items publish their choices and answer as "[A] : …"; those letters are dropped (see _choice), while
"[A]에서 …"-style references to passage sections stay. See the package docstring for the sources.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from gensandbox.runner.benchmarks._choice import check_options, choice_item, options_and_answer, parse_options
from gensandbox.runner.benchmarks._rows import Row, row_id, rows_of

_TRAILING_NUMBERS = re.compile(r"(?:_\d+)+$")  # "CSAT_korean_22_3" → "CSAT_korean"


def load(path: Path) -> Iterator[dict]:
    for row in rows_of(path):
        question = row.text("question")
        paragraph = row.optional_text("paragraph")
        options = check_options(row, parse_options(row, row.require("choices")) or [])
        options, answer = options_and_answer(row, options, row.require("answer"), numbers=False, texts=True)
        item_id = row_id(row, "click")
        stem = f"{paragraph}\n\n{question}" if paragraph else question
        yield choice_item(item_id, _category(row) or "click", stem, options, answer)


def _category(row: Row) -> str:
    category = row.optional_text("category")
    if not category and row.has("id"):
        category = _TRAILING_NUMBERS.sub("", str(row.get("id")).strip())
    return category
