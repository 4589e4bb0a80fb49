"""Answer extraction: which option, or which number, an answer gives — read the way a careful grader reads it.

Every scorer that reads an option or a number uses this module, so one written policy decides every score
(README, "How answers are read"). For multiple choice, in order:

1. The prompt's options are found first (`find_options`): lettered (A. / (A) / A) …), numbered (1. / (1) /
   ① / 1번 …) or Korean-labelled ((가) / 가. …). Their count bounds every label below.
2. The **last explicit answer statement** wins ("the answer is (c)", "Answer: B", "I'd go with D",
   "C is correct", "정답은 2번", "답: B", "B가 정답입니다", "나를 선택합니다") over letters mentioned while
   reasoning. A statement that hedges ("the answer is A or B") or negates ("정답은 A가 아닙니다") gives no answer.
3. Otherwise an answer that *is* a label: "B", "b", "(C)", "B.", "B) 학교", "C: Jeju", "2", "2번", "③",
   "option 3", "(나)".
4. Otherwise a refusal gives no answer, and so does hedging between labels ("A or B", "A 또는 B").
5. Otherwise the labels mentioned in prose, less the ruled-out ones ("not A", "A is wrong", "A는 틀렸"):
   exactly one gives the answer; several give none.
6. Otherwise the answer may be one option's own text ("서울", "The answer is Paris").

Letters count in any case where they cannot be a word: a lower-case "a" is taken only where it cannot be
the article. Option numbers count when the prompt numbered or lettered its options and the number is in
range; bare digits inside prose never do (they may be quantities), but "3번", "③", "(3)" and "option 3" do.
Korean labels count only when the prompt used them, and only where they cannot be a particle (bracketed,
alone, leading, or in an explicit statement). A bare number that is one option's number and another
option's text is ambiguous: no answer.

For numbers (`read_number`): the last explicit answer statement ("답: 36개", "the answer is 1,250") wins,
else the last number in the text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gensandbox.runner.refusals import is_refusal

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
        values = {_as_float(option) for option in options.texts}
        if any({_as_float(a), _as_float(b)} <= values for a, b in _NUMBERS_HEDGED.findall(text)):
            return Reading(None, "the answer hedges between two options' values")
        value = read_number(text).value
        hits = [i for i, option in enumerate(options.texts) if value is not None and _as_float(option) == value]
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
        return NumberReading(_as_float(explicit[-1]), "the explicit answer")
    found = [match.group(0) for match in _NUMBER.finditer(text)
             if not _NUMBER_RULED_OUT_BEFORE.search(text[:match.start()])
             and not _NUMBER_RULED_OUT_AFTER.match(text[match.end():])]
    if found:
        return NumberReading(_as_float(found[-1]), "the last number")
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


def _as_float(number: str) -> float:
    return float(number.replace(",", "").rstrip("."))
