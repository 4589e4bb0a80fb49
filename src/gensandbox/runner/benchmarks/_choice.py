"""Multiple-choice items shared by the layouts: the prompt, the options and the answer's letter.

A prompt lists the options as lines "A. …", "B. …" and ends with an instruction in the item's language to
answer with the letter only; the target is the correct letter, scored by "choice".

Options published with their own letters ("[A] : 서울", "(A) 서울", "A. 서울") would show the letter twice,
so the letters are dropped, but only when every option carries its own letter, in order, followed by a
separator, and the answer still names one option afterwards. A bracketed letter that is part of the text,
as in CLIcK's "[A]에서 …" (a reference to passage section [A]), has no separator and is kept: dropping it
would change what the option says.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from gensandbox.runner.benchmarks._rows import Row

INSTRUCTIONS = {"ko": "정답의 알파벳만 답하세요.", "en": "Answer with the letter only."}

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
WHOLE_NUMBER = re.compile(r"(\d+)(?:\.0+)?")  # "2", and "2.0" as pandas exports write integers

_LETTER_ANSWER = re.compile(r"[(\[]?([A-Za-z])[)\]]?\.?")
_OPTION_MARK = re.compile(r"\(([A-Z])\)")
_OPTIONS_HEADER = re.compile(r"(?im)^[ \t]*(?:#+[ \t]*)?(?:선택지|options?|choices?)[ \t]*[:：]?")
# "(A) x", "[A] x", "[A] : x", "[C] :x", "A. x", "A) x": a letter mark, then a colon or whitespace.
_LETTER_PREFIX = re.compile(r"\s*(?:\(([A-Z])\)|\[([A-Z])\]|([A-Z])[.)])(?:\s*[:：]\s*|\s+)")
_EMPTY_OPTIONS = ("nan", "none", "null", "[]")  # how exports spell an empty cell


def choice_item(item_id: str, category: str, stem: str, options: list[str], answer: int, language: str = "ko") -> dict:
    lines = [stem.strip(), ""]
    # One line per option, so a multi-line option cannot be mistaken for the next letter.
    lines += [f"{LETTERS[i]}. {' '.join(option.splitlines()).strip()}" for i, option in enumerate(options)]
    lines += ["", INSTRUCTIONS[language]]
    return {
        "id": item_id,
        "language": language,
        "category": category,
        "messages": [{"role": "user", "content": "\n".join(lines)}],
        "target": LETTERS[answer],
        "scorer": "choice",
    }


def check_options(row: Row, options: list[str]) -> list[str]:
    if len(options) < 2:
        raise row.fail(f"needs at least 2 options, found {len(options)}")
    if len(options) > len(LETTERS):
        raise row.fail(f"has {len(options)} options; at most {len(LETTERS)} can be lettered")
    return options


def options_and_answer(
    row: Row, options: list[str], value: Any, *, numbers: bool, texts: bool
) -> tuple[list[str], int]:
    """The options to show, their own letter prefixes dropped when that is safe, and the answer's index.

    `value` may itself carry a prefix ("[B] : 부산"): its text must then be option B's.
    """
    shown = _without_letter_prefixes(options) or options
    if texts and isinstance(value, str):
        index = _text_index(value.strip(), options)  # exactly as published, prefix and all
        if index is None:
            index = _prefixed_answer_index(row, value.strip(), shown)
        if index is not None:
            return shown, index
    return shown, answer_index(row, value, shown, numbers=numbers, texts=texts)


def _without_letter_prefixes(options: list[str]) -> list[str] | None:
    """["[A] : x", "[B] : y"] → ["x", "y"] when every option carries its own letter, in order; else None."""
    marks = [_letter_prefix(option) for option in options]
    if not options or any(mark is None or mark[0] != LETTERS[i] for i, mark in enumerate(marks)):
        return None
    return [mark[1] for mark in marks]


def _letter_prefix(text: str) -> tuple[str, str] | None:
    """("B", "부산") for "[B] : 부산"; None when `text` does not start with a separated letter mark."""
    match = _LETTER_PREFIX.match(text)
    if match is None:
        return None
    return next(group for group in match.groups() if group), text[match.end():].strip()


def _prefixed_answer_index(row: Row, answer: str, options: list[str]) -> int | None:
    mark = _letter_prefix(answer)
    if mark is None:
        return None
    index = _text_index(mark[1], options)
    if index is not None and LETTERS[index] != mark[0]:
        raise row.fail(f"`answer` {answer!r} is marked {mark[0]} but its text is option {LETTERS[index]}; "
                       "fix the letter or the text")
    return index


def answer_index(row: Row, value: Any, options: list[str], *, numbers: bool, texts: bool) -> int:
    """Index of the correct option from a letter ("B", "(B)"), a 1-based number, or the option's text."""
    n = len(options)
    shown = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()
    if texts:
        index = _text_index(shown, options)
        if index is not None:
            return index
    letter = _LETTER_ANSWER.fullmatch(shown)
    if letter and not isinstance(value, (int, float)):
        index = LETTERS.index(letter.group(1).upper())
        if index < n:
            return index
    number = WHOLE_NUMBER.fullmatch(shown)
    if numbers and number and not isinstance(value, bool):
        index = int(number.group(1)) - 1
        if 0 <= index < n:
            return index
    allowed = [f"A-{LETTERS[n - 1]}"]
    if numbers:
        allowed.insert(0, f"1-{n}")
    if texts:
        allowed.append("the text of one of the options")
    raise row.fail(f"`answer` must be {' or '.join(allowed)}, got {shown!r}")


def _text_index(answer: str, options: list[str]) -> int | None:
    """The option whose text is `answer`: exactly first, then ignoring case and runs of whitespace."""
    exact = [option.strip() for option in options]
    if answer in exact:
        return exact.index(answer)
    folded = [" ".join(option.split()).casefold() for option in options]
    wanted = " ".join(answer.split()).casefold()
    return folded.index(wanted) if wanted in folded else None


def parse_options(row: Row, value: Any) -> list[str] | None:
    """A list of options from a list, a Python/JSON list in a string, "a|b|c", or "(A) … (B) …"; None if empty."""
    if value is None:
        return None
    if isinstance(value, str):
        value = _options_in_text(row, value.strip())
        if value is None:
            return None
    elif not isinstance(value, list):
        raise row.fail(f"`options` must be a list, got {type(value).__name__}")
    return [str(option).strip() for option in value] or None


def _options_in_text(row: Row, text: str) -> list | tuple | None:
    if not text or text.lower() in _EMPTY_OPTIONS:
        return None
    if text.startswith("["):
        return _literal_list(row, text)
    if _OPTION_MARK.search(text):
        split = split_inline_options(text)
        if split is None:
            raise row.fail("cannot read the lettered options in `options`")
        return split[1]
    if "|" in text:
        return text.split("|")
    if "\n" in text:
        return [line for line in text.splitlines() if line.strip()]
    raise row.fail(f"cannot read `options` {text[:40]!r}; expected a list")


def _literal_list(row: Row, text: str) -> list | tuple:
    # Python's repr first: CSV copies of HAE-RAE hold lists as "['a', 'b']", which is not JSON.
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            raise row.fail("`options` looks like a list but cannot be read") from None
    if not isinstance(parsed, (list, tuple)):
        raise row.fail("`options` looks like a list but is not one")
    return parsed


def split_inline_options(text: str) -> tuple[str, list[str]] | None:
    """Split "stem ### 선택지: (A) x (B) y" (or a bare run of "(A) … (B) …") into the stem and the options."""
    # The options come last, and the stem may hold an earlier header or "(A)": try the last header first,
    # then the other headers, then the last "(A)".
    cuts = [(header.start(), header.end()) for header in reversed(list(_OPTIONS_HEADER.finditer(text)))]
    start = text.rfind("(A)")
    if start >= 0:
        cuts.append((start, start))
    for stem_end, block_start in cuts:
        parts = _OPTION_MARK.split(text[block_start:])
        letters, bodies = parts[1::2], parts[2::2]
        if parts[0].strip() or len(letters) < 2 or "".join(letters) != LETTERS[: len(letters)]:
            continue
        return text[:stem_end].rstrip(), [body.strip() for body in bodies]
    return None
