"""A number or a short answer, read without the words around it (the policy is in this package's docstring)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# --- reading a number -----------------------------------------------------------------------------------

_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?")
_EXPLICIT_NUMBER = re.compile(
    r"(?:(?:final\s+|correct\s+)?answer(?:\s+(?:is|would be|should be))?|(?:최종\s*)?(?:정답|답)(?:은|는|이)?)"
    r"\s*[:=：]?\s*(?:is\s+)?(?:about\s+|약\s*)?[$₩]?\s*(" + _NUMBER.pattern + ")",
    re.IGNORECASE)


@dataclass(frozen=True)
class NumberReading:
    value: float | None
    how: str


def read_number(answer: str) -> NumberReading:
    """The number an answer gives: its last explicit answer statement, else its last number that it does not rule
    out ("120 minutes (not 100)" → 120). Exponents of units ("25 cm²") are not numbers of their own."""
    text = unicodedata.normalize("NFKC", _UNIT_EXPONENT.sub("", answer)).replace("−", "-")
    explicit = _EXPLICIT_NUMBER.findall(text)
    if explicit:
        return NumberReading(as_float(explicit[-1]), "the explicit answer")
    found = [match.group(0) for match in _NUMBER.finditer(text)
             if not _NUMBER_RULED_OUT_BEFORE.search(text[:match.start()])
             and not _NUMBER_RULED_OUT_AFTER.match(text[match.end():])]
    if found:
        return NumberReading(as_float(found[-1]), "the last number")
    return NumberReading(None, "no number in the answer")


_UNIT_EXPONENT = re.compile(r"(?<=[A-Za-z])[\u00b2\u00b3\u00b9\u2070-\u2079]+")
_NUMBER_RULED_OUT_BEFORE = re.compile(r"(?:\bnot|\bisn't|\bnor)\s*$", re.IGNORECASE)
_NUMBER_RULED_OUT_AFTER = re.compile(r"^\s*\S{0,4}?\s*(?:이|가|은|는)?\s*아[니닌닙]")


# --- reading a short answer -----------------------------------------------------------------------------

_ANSWER_FRAME = re.compile(
    r"^(?:(?:the\s+)?(?:final\s+|correct\s+)?answer\s*(?:is|:)|(?:최종\s*)?(?:정답|답)\s*(?:은|는|:)|it's|it\s+is"
    r"|(?:the\s+)?(?:\w+\s+){1,3}(?:is|are|was)|.{1,20}?(?:은|는))\s+", re.IGNORECASE)
_COPULA = re.compile(r"\s*(?:입니다|이에요|예요|이다|이요|요)?\s*[.!。]*$")
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)


def short_answer_readings(answer: str) -> list[tuple[str, str]]:
    """(text, how) readings of a short answer, the answer as it is first: without an answer frame ("The capital is
    Rome.", "정답은 이성계입니다."), a Korean copula, a leading article, or what follows a comma ("Green, of
    course."). A scorer passes when any reading equals a target; a reading never adds words."""
    text = unicodedata.normalize("NFKC", answer).strip()
    readings = [(text, "the answer as it is")]
    framed = _ANSWER_FRAME.sub("", text, count=1)
    if framed != text and not re.match(r"(?i)not\b|아[니닌닙]", framed):
        readings.append((framed, "the answer without its frame"))
    for candidate, how in list(readings):
        plain = _ARTICLE.sub("", _COPULA.sub("", candidate))
        if plain != candidate:
            readings.append((plain, f"{how}, without its copula or article"))
        head, comma, _ = plain.partition(",")
        if comma and head.strip():
            readings.append((head.strip(), f"{how}, up to its first comma"))
    return readings


def as_float(number: str) -> float:
    return float(number.replace(",", "").rstrip("."))
