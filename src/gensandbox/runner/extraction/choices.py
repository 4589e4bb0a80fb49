"""Which option an answer gives, read as a careful grader reads it (the policy is in this package's docstring)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gensandbox.runner.extraction.options import _CIRCLED, HANGUL_LABELS, LETTERS, Options, Reading
from gensandbox.runner.extraction.values import as_float, read_number
from gensandbox.runner.refusals import is_refusal

# --- the answer's labels --------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Label:
    index: int
    start: int
    end: int
    text: str


def _clean(answer: str) -> str:
    # Circled digits become "N번" before NFKC would turn them into bare digits (which prose never counts).
    text = "".join(f"{_CIRCLED[c]}번" if c in _CIRCLED else c for c in answer)
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("−", "-")
    return re.sub(r"\*\*|__|`", "", text).strip()


_NUMBER_LABEL = r"(?:(?:option|choice|number|no\.?|#)\s*(\d{1,2})(?!\d)|\((\d{1,2})\)|(\d{1,2})\s*번)"
_LETTER_LABEL = r"(?:[(\[]([A-Za-z])[)\]]|(?<![A-Za-z'])([A-Za-z])(?![A-Za-z0-9'-]))"
_HANGUL_LABEL = rf"(?:\(([{HANGUL_LABELS}])\))"


class _Labels:
    """Finds the labels an answer mentions, within the options the prompt offered."""

    def __init__(self, options: Options | None):
        self.options = options
        self.count = options.count if options else 5  # without options: A-E, as lettered suites use
        self.numbers = options is not None and options.style in ("letters", "numbers")
        self.hangul = options is not None and options.style == "hangul"
        parts = [_LETTER_LABEL] + ([_NUMBER_LABEL] if self.numbers else []) + ([_HANGUL_LABEL] if self.hangul else [])
        self.pattern = re.compile("|".join(parts), re.IGNORECASE)

    def all(self, text: str, *, prose: bool) -> list[_Label]:
        found = []
        for match in self.pattern.finditer(text):
            label = self._label(match, text, prose=prose)
            if label is not None:
                found.append(label)
        return found

    def _label(self, match: re.Match, text: str, *, prose: bool) -> _Label | None:
        bracketed, bare, *rest = match.groups()
        numbers = rest[:3] if self.numbers else []
        hangul = rest[-1] if self.hangul else None
        if bracketed or bare:
            letter = bracketed or bare
            if bare and not _letter_can_be_label(letter, text, match.end(), prose=prose):
                return None
            index = LETTERS.index(letter.upper())
        elif hangul:
            index = HANGUL_LABELS.index(hangul)
        else:
            index = int(next(n for n in numbers if n)) - 1
        if not 0 <= index < self.count:
            return None
        return _Label(index, match.start(), match.end(), match.group(0))

    def whole(self, text: str) -> _Label | None:
        """The answer is nothing but a label, or opens with one: "B", "(b)", "B.", "C: Jeju", "2번", "나."."""
        text = text.strip()
        lead = _LEADING_LABEL.match(text)
        if lead is None:
            return None
        label = lead.group(1)
        if label.isdigit():
            index = int(label) - 1 if self.numbers else -1
        elif label in HANGUL_LABELS:
            index = HANGUL_LABELS.index(label) if self.hangul else -1
        else:
            index = LETTERS.index(label.upper())
        shown = text[: lead.end()].rstrip(".:,- ")
        return _Label(index, 0, len(shown), shown) if 0 <= index < self.count else None


# An opening label, then the end, punctuation, " - ", a bracket, 입니다, or (after 번) the option's text.
_LEADING_LABEL = re.compile(
    rf"^(?:(?:option|choice|선택지|보기)\s*)?[(\[]?([A-Za-z]|\d{{1,2}}|[{HANGUL_LABELS}])[)\]]?(?:\s*번(?:\s+|$))?"
    r"(?:[.):,]|\s*$|\s+-\s|(?<=\s)|\s+(?=\()|(?=입니다|이다|예요|이에요))", re.IGNORECASE)


# Words after which a capital "A" is a label, not the article: "A is correct", "A seems right".
_LABEL_VERBS = {"is", "was", "seems", "looks", "appears", "would", "could", "should", "must", "fits", "matches",
                "and", "or", "nor", "vs", "because", "since", "as", "but", "then", "too", "also"}


def _letter_can_be_label(letter: str, text: str, end: int, *, prose: bool) -> bool:
    following = re.match(r"\s+([A-Za-z]+)", text[end:])
    if letter in "aA" and following and following.group(1).islower() and following.group(1) not in _LABEL_VERBS:
        return False  # the article: "a tricky question", "A good answer is B"
    if prose and letter.islower():
        return False  # lower-case letters in running text are words ("i", "a"); bare or explicit ones still count
    return not (prose and letter == "I" and following is not None and following.group(1).islower())


# --- explicit statements, hedges and negations ----------------------------------------------------------

# One label where a statement names its answer; the lookaheads keep "answer is apparently…" or "정답은 가능…"
# from reading a word's first letter or syllable as a label.
_LABEL_SLOT = (r"((?:option|choice|선택지|보기)?\s*[(\[]?(?:[A-Za-z](?![A-Za-z0-9])|\d{1,2}(?![\d.,]\d)|["
               + HANGUL_LABELS + r"](?=$|[^가-힣]|입니|이다|이에|예요|번))[)\]]?\s*번?)")
_EXPLICIT = [re.compile(p, re.IGNORECASE) for p in (
    r"(?:final\s+|correct\s+|right\s+|best\s+|my\s+)?answer(?:\s+(?:is|would be|should be|will be|must be))?"
    r"\s*(?:[:=：]|is)?\s*" + _LABEL_SLOT,
    r"(?:the\s+)?(?:correct|right|best)\s+(?:option|choice|one)\s+(?:is|would be)\s*" + _LABEL_SLOT,
    r"\bi(?:'d|\s+would|'ll|\s+will)?\s+(?:choose|pick|select|go\s+with|say)\s*" + _LABEL_SLOT,
    r"\b(?:it's|it\s+is)\s+" + _LABEL_SLOT + r"(?=\s*(?:[.!,)]|$))",
    _LABEL_SLOT + r"\s+(?:is|would be|must be)\s+(?:the\s+)?(?:correct|right|best|answer|true)",
    r"(?:최종\s*)?(?:정답|답)\s*(?:은|는|이|:|=|：)?\s*" + _LABEL_SLOT,
    _LABEL_SLOT + r"\s*(?:이|가|은|는)?\s*(?:정답|답|맞|옳)",
    _LABEL_SLOT + r"\s*(?:을|를)\s*(?:선택|고르|골라|고를)",
)]
# A second label joined to the first ("A or B", "B/C", "A나 B", "A와 B", "A, B"): no single answer.
_HEDGE = re.compile(r"^\s*번?\s*(?:,?\s*(?:or|and|또는|혹은|아니면|및)\s+|\s*/\s*|(?:이나|나|와|과)\s+|,\s*"
                    r"(?=\S+\s*(?:$|,|or\b|and\b|또는|및)))" + _LABEL_SLOT, re.IGNORECASE)
_NEGATED_AFTER = re.compile(
    r"^\s*(?:번)?\s*(?:(?:is|was|would be|seems|looks)\s+(?:not|wrong|incorrect|false|a distractor)|isn't|can't be"
    r"|(?:이|가|은|는|도)?\s*(?:아[니닌닙냐]|틀|오답|(?:정)?답이\s*아[니닌닙]|제외|빼))", re.IGNORECASE)
_NEGATED_BEFORE = re.compile(r"(?:\bnot|\bexcept|\brule\s+out|\beliminate|\bexclude|\bnor|\bneither)\s*$",
                             re.IGNORECASE)


def _explicit_statements(text: str, labels: _Labels) -> list[_Label]:
    found: list[_Label] = []
    for pattern in _EXPLICIT:
        for match in pattern.finditer(text):
            slot = next(i for i in range(1, (match.lastindex or 1) + 1) if match.group(i))
            inside = labels.all(match.group(slot), prose=False) or \
                [label for label in [labels.whole(match.group(slot))] if label]
            if len(inside) == 1:
                start = match.start(slot)
                found.append(_Label(inside[0].index, start, match.end(slot), match.group(0)))
    return sorted(found, key=lambda label: label.end)


def _hedged(text: str, label: _Label) -> bool:
    # Any label-shaped partner counts, in range or not: "Vitamin D or K" hedges as much as "D or B".
    return _HEDGE.match(text[label.end:]) is not None


def _negated(text: str, label: _Label) -> bool:
    return bool(_NEGATED_AFTER.match(text[label.end:]) or _NEGATED_BEFORE.search(text[:label.start]))


# --- reading a choice -----------------------------------------------------------------------------------

def read_choice(answer: str, options: Options | None = None) -> Reading:
    """The option an answer gives, by the policy in this module's docstring."""
    text = _clean(answer)
    if not text:
        return Reading(None, "the answer is empty")
    labels = _Labels(options)
    statements = _explicit_statements(text, labels)
    if statements:
        last = statements[-1]
        if _hedged(text, last):
            return Reading(None, f"the answer hedges: {_quote(text[last.start:last.end + 12])}")
        if _negated(text, last):
            return Reading(None, f"the answer rules out its only option: {_quote(last.text)}")
        return Reading(last.index, f"the explicit answer {_quote(last.text)}")
    by_text = _option_by_text(text, options)
    whole = labels.whole(text)
    if whole is not None and _numeric(options) and _BARE_NUMBER.fullmatch(text):
        whole = None  # among numeric options a bare number is a value ("7"), not an option's number
    if whole is not None and not _hedged(text, whole):
        if by_text is not None and by_text != whole.index:
            return Reading(None, f"ambiguous: {_quote(text)} is option {LETTERS[whole.index]}'s label and "
                                 f"option {LETTERS[by_text]}'s text")
        return Reading(whole.index, f"the answer is the label {_quote(whole.text)}")
    if by_text is not None:
        return Reading(by_text, f"the text of option {LETTERS[by_text]}")
    return _read_prose(text, labels, options)


def _read_prose(text: str, labels: _Labels, options: Options | None) -> Reading:
    if is_refusal(text):
        return Reading(None, "the answer refuses")
    mentioned = labels.all(text, prose=True)
    for label in mentioned:
        if _hedged(text, label):
            return Reading(None, f"the answer hedges: {_quote(text[label.start:label.end + 12])}")
    kept = {label.index for label in mentioned if not _negated(text, label)}
    if len(kept) == 1:
        index = kept.pop()
        return Reading(index, f"the only option it names, {LETTERS[index]}")
    if len(kept) > 1:
        return Reading(None, f"several options ({', '.join(LETTERS[i] for i in sorted(kept))}) and no explicit answer")
    return _read_option_text(text, options)


def _read_option_text(text: str, options: Options | None) -> Reading:
    """No label at all: the answer may still state one option's content ("조선을 건국한 인물은 이성계입니다")."""
    if options is None:
        return Reading(None, "no option found in the answer")
    if _numeric(options):
        values = {as_float(option) for option in options.texts}
        if any({as_float(a), as_float(b)} <= values for a, b in _NUMBERS_HEDGED.findall(text)):
            return Reading(None, "the answer hedges between two options' values")
        value = read_number(text).value
        hits = [i for i, option in enumerate(options.texts) if value is not None and as_float(option) == value]
        how = f"its final number, option {LETTERS[hits[0]]}'s value" if len(hits) == 1 else ""
    else:
        said = _fold(text)
        hits = [i for i, option in enumerate(options.texts) if len(_fold(option)) >= 2 and _fold(option) in said
                and not _NEGATED_AFTER.match(said[said.index(_fold(option)) + len(_fold(option)):])]
        how = f"it states option {LETTERS[hits[0]]}'s text" if len(hits) == 1 else ""
    if len(hits) == 1:
        return Reading(hits[0], how)
    return Reading(None, "no option found in the answer" if not hits else "it states several options' texts")


_NUMBERS_HEDGED = re.compile(r"(-?\d+(?:\.\d+)?)\s*(?:or|and|또는|혹은|이나|나|와|과|,|/)\s*(-?\d+(?:\.\d+)?)",
                             re.IGNORECASE)
_BARE_NUMBER = re.compile(r"-?\d+(?:\.\d+)?\.?")


def _numeric(options: Options | None) -> bool:
    return options is not None and all(_BARE_NUMBER.fullmatch(option.replace(",", "")) for option in options.texts)


_FRAME = re.compile(r"^(?:(?:the\s+)?(?:correct\s+)?answer\s*(?:is|:)?|(?:정답|답)\s*(?:은|는|:)?|it's|it\s+is)\s*",
                    re.IGNORECASE)
_FRAME_END = re.compile(r"\s*(?:입니다|이다|예요|이에요|요)?\s*[.!。]*$")


def _option_by_text(text: str, options: Options | None) -> int | None:
    """The one option whose text is the whole answer (after "정답은 …입니다"-style framing); None otherwise."""
    if options is None:
        return None
    said = _fold(_FRAME_END.sub("", _FRAME.sub("", text)))
    matches = [i for i, option in enumerate(options.texts) if _fold(option) == said]
    return matches[0] if len(matches) == 1 else None


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split()).strip(" .,!?\"'“”‘’")


def target_index(target: str, options: Options | None) -> int | None:
    """A multiple-choice target as an option index: a letter ("B", "(b)"), a 1-based number, a Korean label,
    or (when the options are known) an option's text."""
    text = unicodedata.normalize("NFKC", str(target)).strip().strip("()[]. ")
    if len(text) == 1 and text.upper() in LETTERS:
        return LETTERS.index(text.upper())
    if text.isdigit():
        return int(text) - 1
    if len(text) == 1 and text in HANGUL_LABELS:
        return HANGUL_LABELS.index(text)
    if options is not None:
        return _option_by_text(text, options)
    return None


def _quote(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
