"""Scoring an answer: rule-based scorers directly, model-graded ones through a judge model.

A judge is any configured model. When the judge comes from the same vendor family as the model it
grades, the sample is flagged `judge-same-family`, so nobody mistakes self-grading for neutrality.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from gensandbox.calls.budget import Budget, estimate_prompt_tokens, worst_case_cost
from gensandbox.calls.call import RetryPolicy, call_model
from gensandbox.calls.records import call_record
from gensandbox.canonical import now_utc
from gensandbox.config import ModelConfig
from gensandbox.errors import RunError, UserError
from gensandbox.runner.scorers import MODEL_GRADED, build_scorer, targets_of
from gensandbox.types import ChatRequest, Message

JUDGE_SYSTEM = (
    "You are an impartial grader. Judge only whether the answer meets the rubric and agrees with the "
    "reference, whatever language it is in. Ignore style and length."
)
JUDGE_TEMPLATE = (
    "[Question]\n{question}\n\n[Reference answer]\n{reference}\n\n[Answer to grade]\n{answer}\n\n"
    "[Rubric]\n{rubric}\n\nGive at most two sentences of reasoning, then a last line that is exactly "
    "'GRADE: C' (correct), 'GRADE: P' (partly correct) or 'GRADE: I' (incorrect)."
)
DEFAULT_RUBRIC = "The answer is correct and complete for the question."
_GRADE = re.compile(r"GRADE:\s*([CPI])", re.IGNORECASE)
_GRADE_VALUES = {"C": 1.0, "P": 0.5, "I": 0.0}


@dataclass(frozen=True)
class Outcome:
    value: float | None
    reason: str
    error: str | None = None
    flags: tuple[str, ...] = ()
    call: dict | None = None  # the judge call's record (calls/records.py), stored with the sample it graded


@dataclass
class ScoringContext:
    """What model-graded scorers need: judge models (name → Target, calls/targets.py), and the run's budget."""

    judges: dict = field(default_factory=dict)
    default_judge: str | None = None
    budget: Budget | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)


async def score_answer(item, answer: str, model: ModelConfig, context: ScoringContext) -> Outcome:
    spec = item.scorer
    if spec.name not in MODEL_GRADED:
        prompt = "\n".join(m.content for m in item.messages if m.role == "user")
        score = await build_scorer(spec.name, spec.args)(answer, item.target, prompt)
        return Outcome(score.value, score.reason)
    return await _judge(item, answer, model, context)


async def _judge(item, answer: str, model: ModelConfig, context: ScoringContext) -> Outcome:
    judge_name = item.scorer.args.get("judge") or context.default_judge
    if not judge_name or judge_name not in context.judges:
        raise UserError(f"item `{item.id}` is scored by a judge model: pass --judge MODEL "
                        "or name one in the scorer's args.judge")
    judge = context.judges[judge_name]
    request = judge_request(item, answer, judge.model)
    flags = ("judge-same-family",) if same_family(judge.model, model) else ()
    reserved = worst_case_cost(judge.price, estimate_prompt_tokens(request), request.max_tokens,
                               judge.model.timeout_s)
    if context.budget is not None and not context.budget.reserve(reserved):
        return Outcome(None, "", error="not graded: the cost cap was reached", flags=flags)
    started_at, spent = now_utc(), 0.0
    try:
        response, _ = await call_model(judge.provider, request, timeout_s=judge.model.timeout_s,
                                       policy=context.retry)
    except RunError as error:
        call = call_record(judge, request, started_at, error=error)
        return Outcome(None, "", error=f"judge {judge_name} failed: {error}", flags=flags, call=call)
    else:
        call = call_record(judge, request, started_at, response)
        spent = call["cost_usd"]
    finally:
        if context.budget is not None:
            context.budget.settle(reserved, spent)
    return replace(parse_grade(response.text, judge_name, flags), call=call)


def judge_request(item, answer: str, judge: ModelConfig) -> ChatRequest:
    question = "\n".join(m.content for m in item.messages if m.role == "user")
    prompt = JUDGE_TEMPLATE.format(question=question, answer=answer,
                                   reference=" / ".join(targets_of(item.target)) or "(none given)",
                                   rubric=item.scorer.args.get("rubric") or DEFAULT_RUBRIC)
    return ChatRequest(model=judge.provider_model_id, max_tokens=256,
                       messages=(Message("system", JUDGE_SYSTEM), Message("user", prompt)))


def parse_grade(text: str, judge_name: str, flags: tuple[str, ...]) -> Outcome:
    grades = _GRADE.findall(text)
    if not grades:
        return Outcome(None, "", error=f"judge {judge_name} gave no GRADE line: {text[-120:]!r}", flags=flags)
    grade = grades[-1].upper()
    return Outcome(_GRADE_VALUES[grade], f"judge {judge_name}: GRADE {grade}", flags=flags)


def same_family(judge: ModelConfig, graded: ModelConfig) -> bool:
    """Same vendor, compared case-insensitively on the vendor's first word ("Alibaba Cloud (Qwen)")."""
    if not judge.vendor or not graded.vendor:
        return judge.name == graded.name
    return judge.vendor.split()[0].casefold() == graded.vendor.split()[0].casefold()
