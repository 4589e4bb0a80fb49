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

Modules: options (finding the prompt's options), choices (reading which option an answer gives), values (reading
a number or a short answer).
"""

from gensandbox.runner.extraction.choices import read_choice, target_index
from gensandbox.runner.extraction.options import HANGUL_LABELS, LETTERS, Options, Reading, find_options
from gensandbox.runner.extraction.values import NumberReading, read_number, short_answer_readings

__all__ = ["HANGUL_LABELS", "LETTERS", "NumberReading", "Options", "Reading", "find_options", "read_choice",
           "read_number", "short_answer_readings", "target_index"]
