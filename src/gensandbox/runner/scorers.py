"""Scorers: small async callables behind one Protocol, rebuilt from (name, args) alone.

Every scorer sees the answer text and the item's target(s) and returns a value in [0, 1] with a
reason a person can read. Answers are normalised first (Unicode NFKC, case-folded, whitespace
collapsed, surrounding quotes and punctuation stripped) so "Paris." and "paris" agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

Target = str | list[str] | None


@dataclass(frozen=True)
class Score:
    value: float
    reason: str


class Scorer(Protocol):
    name: str
    args: dict

    async def __call__(self, answer: str, target: Target) -> Score: ...


_EDGE_PUNCTUATION = " \t\n\"'`“”‘’.,!?;:()[]{}<>「」『』。、·-*"


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(text.split()).strip(_EDGE_PUNCTUATION)


def targets_of(target: Target) -> list[str]:
    if target is None:
        return []
    return [target] if isinstance(target, str) else list(target)


@dataclass(frozen=True)
class _FunctionScorer:
    """A pure scoring function plus the arguments it was configured with."""

    name: str
    function: Callable[..., Score]
    args: dict = field(default_factory=dict)

    async def __call__(self, answer: str, target: Target) -> Score:
        return self.function(answer, target, **self.args)


def exact(answer: str, target: Target) -> Score:
    got = normalise(answer)
    for wanted in targets_of(target):
        if got == normalise(wanted):
            return Score(1.0, f"equals {wanted!r}")
    return Score(0.0, f"{_short(answer)!r} is not {_alternatives(target)}")


def includes(answer: str, target: Target) -> Score:
    got = normalise(answer)
    for wanted in targets_of(target):
        if normalise(wanted) and normalise(wanted) in got:
            return Score(1.0, f"contains {wanted!r}")
    return Score(0.0, f"does not contain {_alternatives(target)}")


def regex(answer: str, target: Target, pattern: str, ignore_case: bool = False) -> Score:
    flags = re.IGNORECASE if ignore_case else 0
    if re.search(pattern, answer.strip(), flags):
        return Score(1.0, f"matches /{pattern}/")
    return Score(0.0, f"does not match /{pattern}/")


_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?")


def last_number(text: str) -> float | None:
    found = _NUMBER.findall(unicodedata.normalize("NFKC", text))
    return float(found[-1].replace(",", "")) if found else None


def numeric(answer: str, target: Target, tolerance: float = 0.0) -> Score:
    got = last_number(answer)
    if got is None:
        return Score(0.0, "no number in the answer")
    for wanted in targets_of(target):
        if abs(got - float(wanted)) <= tolerance:
            return Score(1.0, f"{got:g} = {wanted}")
    return Score(0.0, f"{got:g} ≠ {_alternatives(target)}")


# "The answer is (c)", "Answer: B", "정답은 B입니다", "답: C"
_EXPLICIT_CHOICE = re.compile(
    r"(?:answer|정답|답)\s*(?:is|은|는|:|=|：)?\s*[(\[]?([a-e])(?![a-z])", re.IGNORECASE
)
_LEADING_CHOICE = re.compile(r"^\s*[(\[]?([A-E])[)\].:]")
_STANDALONE_CHOICE = re.compile(r"(?<![A-Za-z])([A-E])(?![A-Za-z])")


def extract_choice(answer: str) -> str | None:
    text = unicodedata.normalize("NFKC", answer)
    for pattern in (_EXPLICIT_CHOICE, _LEADING_CHOICE):
        match = pattern.search(text)
        if match:
            return match.group(1).upper()
    letters = set(_STANDALONE_CHOICE.findall(text))  # "B" alone counts; "A or B" is no answer
    return letters.pop() if len(letters) == 1 else None


def choice(answer: str, target: Target) -> Score:
    got = extract_choice(answer)
    if got is None:
        return Score(0.0, "no option letter found in the answer")
    wanted = [t.strip().upper() for t in targets_of(target)]
    return Score(1.0 if got in wanted else 0.0, f"chose {got}, correct {'/'.join(wanted)}")


SCORERS: dict[str, Callable[..., Score]] = {
    "exact": exact,
    "includes": includes,
    "regex": regex,
    "numeric": numeric,
    "choice": choice,
}


def build_scorer(name: str, args: dict | None = None) -> Scorer:
    """Rebuild a scorer from its record; raises ValueError with what is allowed."""
    if name not in SCORERS:
        raise ValueError(f"unknown scorer {name!r}; available: {', '.join(SCORERS)}")
    args = dict(args or {})
    if name == "regex":
        if "pattern" not in args:
            raise ValueError("the regex scorer needs args.pattern")
        re.compile(args["pattern"])
    return _FunctionScorer(name, SCORERS[name], args)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _alternatives(target: Target) -> str:
    return " / ".join(repr(t) for t in targets_of(target)) or "(no target)"
