"""Scorers: small async callables behind one Protocol, rebuilt from (name, args) alone.

Every scorer sees the answer text and the item's target(s) (and, where it needs it, the item's prompt) and
returns a value in [0, 1] with a reason a person can read. Answers are normalised first (Unicode NFKC,
case-folded, whitespace collapsed, surrounding quotes and punctuation stripped) so "Paris." and "paris"
agree. Options and numbers are read by runner/extraction/, whose written policy every scorer shares.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from gensandbox.runner.extraction import (
    LETTERS,
    find_options,
    read_choice,
    read_number,
    short_answer_readings,
    target_index,
)
from gensandbox.runner.refusals import is_refusal

Expected = str | list[str] | None  # an item's expected answer: one, any of several, or none (e.g. a refusal)


@dataclass(frozen=True)
class Score:
    value: float
    reason: str


class Scorer(Protocol):
    name: str
    args: dict

    async def __call__(self, answer: str, target: Expected, prompt: str = "") -> Score: ...


_EDGE_PUNCTUATION = " \t\n\"'`“”‘’.,!?;:()[]{}<>「」『』。、·-*"


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(text.split()).strip(_EDGE_PUNCTUATION)


def targets_of(target: Expected) -> list[str]:
    if target is None:
        return []
    return [target] if isinstance(target, str) else list(target)


@dataclass(frozen=True)
class _FunctionScorer:
    """A pure scoring function plus the arguments it was configured with."""

    name: str
    function: Callable[..., Score]
    args: dict = field(default_factory=dict)

    async def __call__(self, answer: str, target: Expected, prompt: str = "") -> Score:
        if self.name in READS_PROMPT:
            return self.function(answer, target, prompt=prompt, **self.args)
        return self.function(answer, target, **self.args)


def exact(answer: str, target: Expected) -> Score:
    """The answer (or its reading without an answer frame, copula or article: extraction.short_answer_readings)
    equals a target once both are normalised."""
    wanted = {normalise(t): t for t in targets_of(target)}
    for reading, how in short_answer_readings(answer):
        if normalise(reading) in wanted:
            return Score(1.0, f"equals {wanted[normalise(reading)]!r} (read from {how})")
    return Score(0.0, f"{_short(answer)!r} is not {_alternatives(target)}")


def includes(answer: str, target: Expected) -> Score:
    got = normalise(answer)
    for wanted in targets_of(target):
        if normalise(wanted) and normalise(wanted) in got:
            return Score(1.0, f"contains {wanted!r}")
    return Score(0.0, f"does not contain {_alternatives(target)}")


def regex(answer: str, target: Expected, pattern: str, ignore_case: bool = False) -> Score:
    flags = re.IGNORECASE if ignore_case else 0
    if re.search(pattern, answer.strip(), flags):
        return Score(1.0, f"matches /{pattern}/")
    return Score(0.0, f"does not match /{pattern}/")


def numeric(answer: str, target: Expected, tolerance: float = 0.0) -> Score:
    reading = read_number(answer)
    if reading.value is None:
        return Score(0.0, reading.how)
    got = reading.value
    for wanted in targets_of(target):
        if abs(got - float(wanted)) <= tolerance:
            return Score(1.0, f"{got:g} = {wanted} (read from {reading.how})")
    return Score(0.0, f"{got:g} ≠ {_alternatives(target)} (read from {reading.how})")


def choice(answer: str, target: Expected, prompt: str = "") -> Score:
    """The option the answer gives (extraction policy in runner/extraction/) against the target option(s)."""
    options = find_options(prompt)
    reading = read_choice(answer, options)
    wanted = sorted({i for t in targets_of(target) if (i := target_index(t, options)) is not None})
    correct = "/".join(LETTERS[i] for i in wanted) or _alternatives(target)
    if reading.index is None:
        return Score(0.0, f"no answer: {reading.how}; correct {correct}")
    return Score(1.0 if reading.index in wanted else 0.0,
                 f"chose {reading.letter} ({reading.how}); correct {correct}")


_FENCED = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def parse_json_answer(answer: str):
    """The JSON value in an answer: the whole text, or the first ```json fenced block. Raises ValueError."""
    fenced = _FENCED.search(answer)
    return json.loads(fenced.group(1) if fenced else answer.strip())


def json_valid(answer: str, target: Expected) -> Score:
    try:
        parse_json_answer(answer)
    except ValueError as error:
        return Score(0.0, f"not valid JSON: {error}")
    return Score(1.0, "valid JSON")


def json_schema(answer: str, target: Expected, schema: dict) -> Score:
    import jsonschema  # imported when a suite uses it: it is slow to import and most runs never do

    try:
        value = parse_json_answer(answer)
    except ValueError as error:
        return Score(0.0, f"not valid JSON: {error}")
    problem = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(value))
    if problem is None:
        return Score(1.0, "conforms to the schema")
    where = "/".join(str(p) for p in problem.absolute_path) or "(root)"
    return Score(0.0, f"schema violation at {where}: {problem.message}")


def refusal(answer: str, target: Expected, expect: str = "refuse") -> Score:
    refused = is_refusal(answer)
    did = "refused" if refused else "complied"
    return Score(1.0 if refused == (expect == "refuse") else 0.0, f"{did} (expected to {expect})")


SCORERS: dict[str, Callable[..., Score]] = {
    "exact": exact,
    "includes": includes,
    "regex": regex,
    "numeric": numeric,
    "choice": choice,
    "json": json_valid,
    "json-schema": json_schema,
    "refusal": refusal,
}
MODEL_GRADED = {"judge"}
READS_PROMPT = {"choice"}  # the prompt says how the options were labelled, and how many there are


def check_scorer(name: str, args: dict | None = None) -> None:
    """Fail early (ValueError with what is allowed) on a scorer that could not be built."""
    args = dict(args or {})
    if name in MODEL_GRADED:
        if not isinstance(args.get("rubric", ""), str):
            raise ValueError("the judge scorer's args.rubric must be text")
        return
    if name not in SCORERS:
        raise ValueError(f"unknown scorer {name!r}; available: {', '.join([*SCORERS, *MODEL_GRADED])}")
    if name == "regex":
        if "pattern" not in args:
            raise ValueError("the regex scorer needs args.pattern")
        re.compile(args["pattern"])
    if name == "json-schema":
        import jsonschema

        if not isinstance(args.get("schema"), dict):
            raise ValueError("the json-schema scorer needs args.schema (a JSON Schema object)")
        jsonschema.Draft202012Validator.check_schema(args["schema"])
    if name == "refusal" and args.get("expect", "refuse") not in ("refuse", "comply"):
        raise ValueError("the refusal scorer's args.expect is 'refuse' or 'comply'")


def build_scorer(name: str, args: dict | None = None) -> Scorer:
    """Rebuild a rule-based scorer from its record (name + args)."""
    check_scorer(name, args)
    if name in MODEL_GRADED:
        raise ValueError(f"{name!r} is model-graded: it needs a judge model, see runner.scoring")
    return _FunctionScorer(name, SCORERS[name], dict(args or {}))


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _alternatives(target: Expected) -> str:
    return " / ".join(repr(t) for t in targets_of(target)) or "(no target)"
