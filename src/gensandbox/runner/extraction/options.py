"""The options a prompt offers: lettered, numbered or Korean-labelled, in lines or inline (policy: __init__)."""

from __future__ import annotations

import re
from dataclasses import dataclass

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
HANGUL_LABELS = "가나다라마바사아자차카타파하"
_CIRCLED = {chr(0x2460 + n): n + 1 for n in range(20)} | {chr(0x2776 + n): n + 1 for n in range(10)}


@dataclass(frozen=True)
class Options:
    """The options a prompt offered: how they were labelled, and their texts."""

    style: str  # "letters" | "numbers" | "hangul"
    texts: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class Reading:
    """What an answer chose: a 0-based option index (None: no answer) and how it was read."""

    index: int | None
    how: str

    @property
    def letter(self) -> str | None:
        return None if self.index is None else LETTERS[self.index]


# --- the prompt's options -------------------------------------------------------------------------------

_OPTION_LINE = {
    "letters": re.compile(r"^\s*(?:\(([A-Za-z])\)|\[([A-Za-z])\]|([A-Za-z])[.):])\s*(\S.*)$"),
    "numbers": re.compile(r"^\s*(?:\((\d{1,2})\)|\[(\d{1,2})\]|(\d{1,2})(?:[.)]|번[.):]?)(?!\d))\s*(\S.*)$"),
    "hangul": re.compile(rf"^\s*(?:\(([{HANGUL_LABELS}])\)|([{HANGUL_LABELS}])[.)])\s*(\S.*)$"),
}
_INLINE_MARK = {
    "letters": re.compile(r"\(([A-Z])\)\s*"),
    "numbers": re.compile(r"([\u2460-\u2473\u2776-\u277f])\s*"),
    "hangul": re.compile(rf"\(([{HANGUL_LABELS}])\)\s*"),
}


def find_options(prompt: str) -> Options | None:
    """The last block of consecutively labelled options in the prompt (lines, or one line of "(A) x (B) y")."""
    best: tuple[int, Options] | None = None
    lines = prompt.splitlines()
    for style, pattern in _OPTION_LINE.items():
        for end, texts in _line_runs(lines, style, pattern):
            if best is None or end > best[0]:
                best = (end, Options(style, tuple(texts)))
    if best is not None:
        return best[1]
    for style, mark in _INLINE_MARK.items():
        for line in reversed(lines):
            texts = _inline_options(line, style, mark)
            if texts:
                return Options(style, tuple(texts))
    return None


def _label_index(style: str, label: str) -> int:
    if style == "letters":
        return LETTERS.index(label.upper())
    if style == "hangul":
        return HANGUL_LABELS.index(label)
    return _CIRCLED[label] - 1 if label in _CIRCLED else int(label) - 1


def _line_runs(lines: list[str], style: str, pattern: re.Pattern):
    """(index of the run's last line, option texts) for each run of lines labelled first, second, … in order."""
    texts: list[str] = []
    last = -1
    for number, line in enumerate(lines):
        match = pattern.match(line)
        if match is None:
            if line.strip() and texts:  # a blank line may sit between options; text ends the run
                if len(texts) >= 2:
                    yield last, texts
                texts = []
            continue
        label, text = next(g for g in match.groups()[:-1] if g), match.group(match.lastindex)
        index = _label_index(style, label)
        if index == len(texts):
            texts.append(text.strip())
            last = number
        else:
            if len(texts) >= 2:
                yield last, texts
            texts = [text.strip()] if index == 0 else []
            last = number
    if len(texts) >= 2:
        yield last, texts


def _inline_options(line: str, style: str, mark: re.Pattern) -> list[str] | None:
    parts = mark.split(line)
    labels, bodies = parts[1::2], parts[2::2]
    if len(labels) < 2 or [_label_index(style, label) for label in labels] != list(range(len(labels))):
        return None
    return [body.strip() for body in bodies]
