"""HAE-RAE Bench 1.1 and 1.0 (HAERAE-HUB/HAE_RAE_BENCH_*) rows → items, in either of two row forms.

The query form (1.1): `query` holds the whole prompt, options included, with `options`, `answer`, `category`.
The column form: `question` and one column per option, `a`..`e` as the 1.0 CSVs publish them (answer a
letter such as "b"; an empty `e` means four options) or `A`..`E` as third-party copies have them.
The variants accepted are listed in the package docstring.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gensandbox.runner.benchmarks._choice import (
    check_options,
    choice_item,
    options_and_answer,
    parse_options,
    split_inline_options,
)
from gensandbox.runner.benchmarks._rows import Row, row_id, rows_of

# The trailing "### 정답:" cue is dropped: the prompt ends with the letter-only instruction instead.
_ANSWER_CUE = re.compile(r"\s*(?:#+[ \t]*)?(?:정답|answer)[ \t]*[:：][ \t]*$", re.IGNORECASE)


# The 1.0 files are named by task (data/HAERAE-Bench-v1-HI.csv); the category names are those of 1.1.
_V1_FILE = re.compile(r"HAERAE-Bench-v1-([A-Z]+)", re.IGNORECASE)
_V1_TASKS = {"HI": "history", "KGK": "general_knowledge", "LW": "loan_words", "RC": "reading_comprehension",
             "RW": "rare_words", "SN": "standard_nomenclature"}


def load(path: Path) -> Iterator[dict]:
    for row in rows_of(path):
        letters = column_letters(row.data)
        query, raw_options = _query_and_options(row, letters)
        stem, options = _stem_and_options(row, query, parse_options(row, raw_options))
        options = check_options(row, options)
        value = row.require("answer")
        # In the column form a one-letter answer is a column's letter ("b"), never an option's text.
        letter = letters is not None and len(str(value).strip()) == 1
        options, answer = options_and_answer(row, options, value, numbers=True, texts=not letter)
        yield choice_item(row_id(row, "haerae"), _category(row), stem, options, answer)


def column_letters(keys) -> str | None:
    """"abcde" or "ABCDE" when the row is in the column form (question plus a column per option); else None."""
    if "query" in keys or "question" not in keys:
        return None
    return next((letters for letters in ("abcde", "ABCDE") if set(letters[:4]) <= set(keys)), None)


def _query_and_options(row: Row, letters: str | None) -> tuple[str, Any]:
    """The query without its answer cue, and the options as stored (parsed later)."""
    if letters is not None:
        query, options = row.text("question"), _column_options(row, letters)
    else:
        query, options = row.text("query"), row.get("options")
    return _ANSWER_CUE.sub("", query).rstrip(), options


def _column_options(row: Row, letters: str) -> list[str]:
    """The option columns up to the last filled one (an empty `e` means four options); a gap is an error."""
    values = [row.optional_text(letter) for letter in letters if letter in row.data]
    while values and not values[-1]:
        values.pop()
    if "" in values:
        gap = letters[values.index("")]
        raise row.fail(f"option `{gap}` is empty but a later option is not; fill it or move the options up")
    return values


def _category(row: Row) -> str:
    category = row.optional_text("category", "categories")
    if category:
        return category
    task = _V1_FILE.search(row.file_name)
    return _V1_TASKS.get(task.group(1).upper(), task.group(1)) if task else "haerae"


def _stem_and_options(row: Row, query: str, options: list[str] | None) -> tuple[str, list[str]]:
    """The question without its inline options, and the options (from `options`, else from the query)."""
    split = split_inline_options(query)
    if options is not None:
        return (split[0] if split is not None else query), options
    if split is None:
        raise row.fail("no `options`, and none found in `query` as (A) … (B) …")
    return split
