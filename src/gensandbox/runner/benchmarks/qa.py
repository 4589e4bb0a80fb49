"""qa-jsonl rows → items: {"question", "answer"} (or "q"/"a"), optional id, category and language.

The answer may be a string or a list of accepted strings; items are scored with "includes".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from gensandbox.runner.benchmarks._rows import Row, row_id, rows_of

# Syllables, jamo and compatibility jamo: any of them makes an unlabelled question Korean.
_HANGUL = re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")


def load(path: Path) -> Iterator[dict]:
    for row in rows_of(path):
        question = row.text("question", "q")
        target = _target(row)
        yield {
            "id": row_id(row, "qa-jsonl"),
            "language": _language(row, question),
            "category": row.optional_text("category") or "qa-jsonl",
            "messages": [{"role": "user", "content": question}],
            "target": target,
            "scorer": "includes",
        }


def _target(row: Row) -> str | list[str]:
    value = row.require("answer", "a")
    if isinstance(value, list):
        answers = [str(answer).strip() for answer in value if str(answer).strip()]
        if not answers:
            raise row.fail("`answer` is an empty list")
        return answers if len(answers) > 1 else answers[0]
    if isinstance(value, dict):
        raise row.fail("`answer` must be text or a list of texts, got an object")
    answer = str(value).strip()
    if not answer:
        raise row.fail("`answer` is empty")
    return answer


def _language(row: Row, question: str) -> str:
    language = row.optional_text("language").lower()
    if not language:
        return "ko" if _HANGUL.search(question) else "en"
    if len(language) < 2:
        raise row.fail(f"`language` must be a language code such as ko or en, got {language!r}")
    return language
