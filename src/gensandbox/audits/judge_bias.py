"""Judge bias: does a judge model rate answers from its own vendor family higher than other judges do?

Several judges score the same anonymised answers from 1 to 10. For judge J and answer a,
    bias_J(a) = J's score − the mean score of the judges from *other* families,
so the answer's quality cancels out and so does J being a harsh or lenient grader in general. J's
self-preference is its mean bias on its own family's answers minus its mean bias on reference answers,
paired by question (a sign-flip permutation test and a bootstrap interval, from runner/stats.py).

Reference answers come from vendors that no judge belongs to, when there are any. Against answers from another
judge's family the comparison is contaminated: when judge K favours its own family, every other judge looks
harsh on K's answers. With exactly two judges grading only each other's families, the two estimates are the
same number, their combined self-preference, and the finding says so.

Pure functions: the model calls are in self_preference.py.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, replace

import numpy as np

from gensandbox.runner.stats import SIGNIFICANCE, paired_difference

SCORE_SYSTEM = ("You are an impartial grader. You are not told who wrote the answer; rate it on its merits "
                "only, whatever language it is in.")
# tests/upstream.py's scripted judges find the answer between "[Answer]" and "[Rubric]": keep those headers.
SCORE_TEMPLATE = (
    "[Question]\n{question}\n\n[Answer]\n{answer}\n\n[Rubric]\nRate how correct, complete and clear the answer "
    "is for the question, from 1 (useless) to 10 (excellent). Give at most one sentence of reasoning, then a "
    "last line that is exactly 'SCORE: <a whole number from 1 to 10>'."
)
_SCORE_PATTERNS = (
    re.compile(r"(?:SCORE|점수)\s*[:：=]?\s*\**\s*(10|[1-9])(?![0-9.])", re.IGNORECASE),
    re.compile(r"(?<![0-9.])(10|[1-9])\s*/\s*10(?![0-9])"),
    re.compile(r"^\s*(10|[1-9])\s*\.?\s*$", re.MULTILINE),
)

@dataclass(frozen=True)
class Answer:
    """An answer to grade; a judge sees only the question and the text."""

    answer_id: str
    question_id: str
    question: str
    text: str
    model: str  # who answered: never shown to a judge, nor are the two below
    family: str  # the answering model's vendor family key (see family_key)
    vendor: str  # for display


@dataclass(frozen=True)
class JudgeBias:
    judge: str
    family: str
    vendor: str
    reference: str  # "neutral vendors" or "other judges' vendors"
    questions: int  # questions with both an own-family and a reference answer scored
    own_answers: int
    reference_answers: int
    own_mean_bias: float | None
    reference_mean_bias: float | None
    difference: float | None  # points on the 1-10 scale: the effect size
    ci_low: float | None
    ci_high: float | None
    cohens_d: float | None  # d_z: the mean paired difference over its standard deviation
    p_value: float | None
    scored: int
    unparseable: int
    failed: int
    flagged: bool
    finding: str

    def to_dict(self) -> dict:
        return asdict(self)


def family_key(vendor: str | None, name: str) -> str:
    """The vendor's first word, case-folded (as scoring.same_family compares); the model name without a vendor."""
    return vendor.split()[0].casefold() if vendor and vendor.split() else name.casefold()


def parse_score(text: str) -> int | None:
    """The judge's score: its last 'SCORE: N' line, else a last 'N/10', else an answer that is just a number."""
    for pattern in _SCORE_PATTERNS:
        if found := pattern.findall(text):
            return int(found[-1])
    return None


def format_p(p: float | None) -> str:
    if p is None or p != p:
        return "p=–"
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def answer_biases(judge: str, judges: dict[str, str], scores: dict[tuple[str, str], int]) -> dict[str, float]:
    """bias_J(a) for every answer J scored that at least one judge from another family scored too.
    `judges`: judge → family; `scores`: (judge, answer_id) → score."""
    by_answer: dict[str, dict[str, int]] = defaultdict(dict)
    for (who, answer_id), score in scores.items():
        by_answer[answer_id][who] = score
    biases = {}
    for answer_id, given in by_answer.items():
        others = [s for who, s in given.items() if judges[who] != judges[judge]]
        if judge in given and others:
            biases[answer_id] = given[judge] - float(np.mean(others))
    return biases


def judge_bias(judge: str, vendor: str, judges: dict[str, str], answers: list[Answer],
               scores: dict[tuple[str, str], int], counts: dict[str, int], *, resamples: int = 10000,
               seed: int = 0) -> JudgeBias:
    """`counts`: scored / unparseable / failed calls for this judge."""
    family = judges[judge]
    judge_families = set(judges.values())
    neutral = [a for a in answers if a.family not in judge_families]
    reference_answers = neutral or [a for a in answers if a.family != family]
    reference = "neutral vendors" if neutral else "other judges' vendors"
    own_answers = [a for a in answers if a.family == family]
    biases = answer_biases(judge, judges, scores)
    own, ref = _by_question(own_answers, biases), _by_question(reference_answers, biases)
    shared = sorted(own.keys() & ref.keys())
    base = dict(judge=judge, family=family, vendor=vendor, reference=reference, questions=len(shared),
                own_answers=sum(a.answer_id in biases for a in own_answers),
                reference_answers=sum(a.answer_id in biases for a in reference_answers),
                scored=counts.get("scored", 0), unparseable=counts.get("unparseable", 0),
                failed=counts.get("failed", 0))
    if len(shared) < 2:
        return JudgeBias(**base, own_mean_bias=None, reference_mean_bias=None, difference=None, ci_low=None,
                         ci_high=None, cohens_d=None, p_value=None, flagged=False,
                         finding=_untestable(judge, vendor, own_answers, len(shared)))
    own_values, ref_values = [own[q] for q in shared], [ref[q] for q in shared]
    difference, low, high, p = paired_difference(own_values, ref_values, resamples=resamples, seed=seed)
    flagged = p < SIGNIFICANCE and difference > 0
    result = JudgeBias(**base, own_mean_bias=float(np.mean(own_values)), reference_mean_bias=float(np.mean(ref_values)),
                       difference=difference, ci_low=low, ci_high=high,
                       cohens_d=paired_cohens_d(own_values, ref_values), p_value=p, flagged=flagged, finding="")
    return _with_finding(result)


def paired_cohens_d(first: list[float], second: list[float]) -> float | None:
    """d_z = mean(first − second) / sd(first − second); None when every difference is the same (sd = 0)."""
    differences = np.asarray(first, dtype=float) - np.asarray(second, dtype=float)
    spread = float(np.std(differences, ddof=1)) if differences.size > 1 else 0.0
    return float(differences.mean() / spread) if spread > 0 else None


def combined_only(results: list[JudgeBias]) -> bool:
    """Two judges, each compared only against the other's family: one number, not two."""
    return len(results) == 2 and all(r.reference == "other judges' vendors" for r in results)


def _by_question(answers: list[Answer], biases: dict[str, float]) -> dict[str, float]:
    grouped: dict[str, list[float]] = defaultdict(list)
    for answer in answers:
        if answer.answer_id in biases:
            grouped[answer.question_id].append(biases[answer.answer_id])
    return {question: float(np.mean(values)) for question, values in grouped.items()}


def _untestable(judge: str, vendor: str, own_answers: list[Answer], shared: int) -> str:
    if not own_answers:
        return f"{judge}: no answers from its own family ({vendor}) to compare, so self-preference cannot be tested"
    return (f"{judge}: only {shared} question(s) have both an answer from its own family ({vendor}) and a reference "
            "answer scored by it and by another family's judge; at least 2 are needed")


def _with_finding(result: JudgeBias) -> JudgeBias:
    difference, p = result.difference, format_p(result.p_value)
    interval = f"95% CI {result.ci_low:+.1f} to {result.ci_high:+.1f}, {p}"
    if result.flagged:
        text = (f"{result.judge} rates its own family's ({result.vendor}) answers {difference:.1f} points higher "
                f"than judges from other vendors do ({interval}): self-preference")
    elif result.p_value is not None and result.p_value < SIGNIFICANCE:
        text = (f"{result.judge} rates its own family's ({result.vendor}) answers {-difference:.1f} points lower "
                f"than judges from other vendors do ({interval}): the opposite of self-preference")
    else:
        text = f"{result.judge}: no evidence of self-preference (difference {difference:+.1f} points, {interval})"
    if result.reference != "neutral vendors":
        text += ("; no answers came from a vendor outside the judges' families, so this mixes its preference with "
                 "the other judges' preference for their own families")
    return replace(result, finding=text)
