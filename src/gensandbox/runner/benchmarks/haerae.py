"""HAE-RAE Bench 1.1 and 1.0 (HAERAE-HUB/HAE_RAE_BENCH_*) rows → items: query, options, answer, category.

`query` holds the whole prompt, options included; the variants accepted are listed in the package docstring.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gensandbox.runner.benchmarks._choice import (
    answer_index,
    check_options,
    choice_item,
    parse_options,
    split_inline_options,
)
from gensandbox.runner.benchmarks._rows import Row, row_id, rows_of

# The trailing "### 정답:" cue is dropped: the prompt ends with the letter-only instruction instead.
_ANSWER_CUE = re.compile(r"\s*(?:#+[ \t]*)?(?:정답|answer)[ \t]*[:：][ \t]*$", re.IGNORECASE)


def load(path: Path) -> Iterator[dict]:
    for row in rows_of(path):
        query, raw_options = _query_and_options(row)
        stem, options = _stem_and_options(row, query, parse_options(row, raw_options))
        options = check_options(row, options)
        answer = answer_index(row, row.require("answer"), options, numbers=True, texts=True)
        category = row.optional_text("category", "categories") or "haerae"
        yield choice_item(row_id(row, "haerae"), category, stem, options, answer)


def _query_and_options(row: Row) -> tuple[str, Any]:
    """The query without its answer cue, and the options as stored (parsed later)."""
    if not row.has("query") and row.has("question") and row.has("A"):
        # The third-party CSV form: question, A..E, answer, categories; unused letters are left empty.
        query = row.text("question")
        options: Any = [row.get(letter) for letter in "ABCDE" if row.optional_text(letter)]
    else:
        query = row.text("query")
        options = row.get("options")
    return _ANSWER_CUE.sub("", query).rstrip(), options


def _stem_and_options(row: Row, query: str, options: list[str] | None) -> tuple[str, list[str]]:
    """The question without its inline options, and the options (from `options`, else from the query)."""
    split = split_inline_options(query)
    if options is not None:
        return (split[0] if split is not None else query), options
    if split is None:
        raise row.fail("no `options`, and none found in `query` as (A) … (B) …")
    return split
