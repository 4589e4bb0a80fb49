"""Pairwise judging: a judge model says which of two answers to the same item is better.

Every pair is judged twice, with the answers in both orders. A model wins an item only if the judge
prefers it both times; a judge that prefers whichever answer comes first (position bias) therefore
produces ties, and the share of such inconsistent verdicts is reported beside the win rates.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass

from gensandbox.calls.call import RetryPolicy, call_model
from gensandbox.calls.records import JUDGE, call_facts_of, call_record
from gensandbox.calls.targets import Target
from gensandbox.canonical import now_utc
from gensandbox.errors import RunError
from gensandbox.ledger.writer import Ledger
from gensandbox.runner.scoring import DEFAULT_RUBRIC, JUDGE_SYSTEM, same_family
from gensandbox.store import SampleRecord
from gensandbox.types import ChatRequest, Message

PAIR_TEMPLATE = (
    "[Question]\n{question}\n\n[Answer 1]\n{first}\n\n[Answer 2]\n{second}\n\n[Rubric]\n{rubric}\n\n"
    "Give at most two sentences of reasoning, then a last line that is exactly 'WINNER: 1', 'WINNER: 2' "
    "or 'WINNER: TIE'."
)
_WINNER = re.compile(r"WINNER:\s*(1|2|TIE)", re.IGNORECASE)


@dataclass(frozen=True)
class Pair:
    key: tuple[str, str]  # (suite, item_id)
    question: str
    first: str  # model A's answer
    second: str  # model B's answer


@dataclass(frozen=True)
class PairwiseResult:
    first: str
    second: str
    judge: str
    first_wins: int
    second_wins: int
    ties: int
    inconsistent: int  # the verdict flipped with the order: position bias
    failed: int
    same_family: bool

    @property
    def judged(self) -> int:
        return self.first_wins + self.second_wins + self.ties


def pairs_from(samples: Iterable[SampleRecord], first: str, second: str) -> list[Pair]:
    answers: dict[str, dict[tuple[str, str], SampleRecord]] = {first: {}, second: {}}
    for sample in samples:
        if sample.model in answers and sample.epoch == 0 and sample.response_text is not None:
            answers[sample.model][(sample.suite, sample.item_id)] = sample
    shared = sorted(set(answers[first]) & set(answers[second]))
    return [Pair(key, _question(answers[first][key]), answers[first][key].response_text,
                 answers[second][key].response_text) for key in shared]


def outcome(verdict_ab: str | None, verdict_ba: str | None) -> str:
    """'first', 'second', 'tie', 'inconsistent' or 'failed', from the verdicts in both orders."""
    if verdict_ab is None or verdict_ba is None:
        return "failed"
    if verdict_ab == "1" and verdict_ba == "2":
        return "first"
    if verdict_ab == "2" and verdict_ba == "1":
        return "second"
    if verdict_ab == verdict_ba and verdict_ab != "TIE":
        return "inconsistent"
    return "tie"


async def judge_pairs(pairs: list[Pair], judge: Target, first: Target, second: Target,
                      rubric: str | None = None, retry: RetryPolicy | None = None, ledger: Ledger | None = None,
                      run_id: str | None = None) -> PairwiseResult:
    """Every call also queues a ledger event (source "judge") on `ledger`; the caller flushes it."""
    retry = retry or RetryPolicy()
    limit = asyncio.Semaphore(judge.concurrency)

    async def verdict(pair: Pair, one: tuple[str, str], two: tuple[str, str]) -> str | None:
        """`one` and `two`: (model, answer), in the order the judge sees them."""
        prompt = PAIR_TEMPLATE.format(question=pair.question, first=one[1], second=two[1],
                                      rubric=rubric or DEFAULT_RUBRIC)
        request = ChatRequest(model=judge.model.provider_model_id, max_tokens=256,
                              messages=(Message("system", JUDGE_SYSTEM), Message("user", prompt)))
        async with limit:
            started_at, response = now_utc(), None
            try:
                response, _ = await call_model(judge.provider, request, timeout_s=judge.model.timeout_s,
                                               policy=retry)
            except RunError as error:
                record = call_record(judge, request, started_at, error=error)
            else:
                record = call_record(judge, request, started_at, response)
            if ledger is not None:
                suite, item_id = pair.key
                ledger.record_call(call_facts_of(record, source=JUDGE, run_id=run_id,
                                                 item_id=f"{suite}/{item_id}#0/pairwise/{one[0]} vs {two[0]}"))
        if response is None:
            return None
        found = _WINNER.findall(response.text)
        return found[-1].upper() if found else None

    async def both_orders(pair: Pair) -> str:
        a, b = (first.model.name, pair.first), (second.model.name, pair.second)
        ab, ba = await asyncio.gather(verdict(pair, a, b), verdict(pair, b, a))
        return outcome(ab, ba)

    outcomes = await asyncio.gather(*(both_orders(pair) for pair in pairs))
    count = outcomes.count
    return PairwiseResult(first.model.name, second.model.name, judge.model.name, count("first"), count("second"),
                          count("tie") + count("inconsistent"), count("inconsistent"), count("failed"),
                          same_family(judge.model, first.model) or same_family(judge.model, second.model))


def _question(sample: SampleRecord) -> str:
    return "\n".join(m["content"] for m in sample.request["messages"] if m["role"] == "user")
