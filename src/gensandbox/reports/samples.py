"""The sample browser's contents: a bounded, deterministic choice of samples, so that a report of a
100,000-item run stays a few megabytes and opens quickly.

Choosing streams the run's narrow score rows once and keeps, per model × suite and outcome, only the
`limit` best-placed keys (by a stable hash, so the same run always gives the same choice). Failed calls
and wrong answers come first, up to `problem_share` of the limit, spread evenly over models and suites;
the rest of the limit is an even sample of everything left. Only the chosen samples are then read in full.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, zip_longest

from gensandbox.calls.records import episode_session
from gensandbox.errors import GenSandboxError
from gensandbox.store import RunRecord, SampleRecord, ScoreRow

SAMPLE_LIMIT = 2000
PROBLEM_SHARE = 0.5
TEXT_LIMIT = 2000  # characters kept of each prompt and answer
OUTCOMES = ("error", "incorrect", "correct")

SampleKey = tuple[str, str, str, int]  # model, suite, item id, epoch


@dataclass(frozen=True)
class BrowserSample:
    model: str
    suite: str
    item_id: str
    epoch: int
    category: str
    language: str
    outcome: str  # error | incorrect | correct
    score: float | None
    prompt: str
    answer: str
    target: str
    reason: str
    error: str
    conversation: dict | None = None  # an agent task's episode, as the browser shows it (`conversation`)


@dataclass(frozen=True)
class SampleSelection:
    total: int  # samples in the run
    outcomes: dict[str, int]  # outcome -> count over the whole run
    samples: list[BrowserSample]
    targets_known: bool  # False when the suite files could not be read again

    @property
    def complete(self) -> bool:
        return len(self.samples) == self.total


def outcome_of(score: float | None) -> str:
    """Full marks count as correct; partial credit is shown with the wrong answers, where it needs a look."""
    if score is None:
        return "error"
    return "correct" if score >= 1.0 else "incorrect"


def stable_rank(key: SampleKey) -> int:
    # Python's hash() is salted per process; this one gives the same choice on every machine and run.
    digest = hashlib.blake2b("\x1f".join(map(str, key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def choose_keys(rows: Iterable[ScoreRow], limit: int = SAMPLE_LIMIT,
                problem_share: float = PROBLEM_SHARE) -> tuple[list[SampleKey], int, dict[str, int]]:
    """The chosen keys (problems first), the run's sample count, and its count per outcome."""
    kept: dict[str, dict[tuple[str, str], list]] = {outcome: {} for outcome in OUTCOMES}
    counts: Counter[str] = Counter()
    for row in rows:
        outcome = outcome_of(row.score)
        counts[outcome] += 1
        key = (row.model, row.suite, row.item_id, row.epoch)
        _keep_smallest(kept[outcome].setdefault((row.model, row.suite), []), (-stable_rank(key), key), limit)
    strata = {outcome: {s: _in_rank_order(heap) for s, heap in by.items()} for outcome, by in kept.items()}
    problems = _round_robin(strata["error"], int(limit * problem_share))
    problems += _round_robin(strata["incorrect"], int(limit * problem_share) - len(problems))
    taken = set(problems)
    rest = {stratum: [k for k in chain(*(strata[o].get(stratum, []) for o in OUTCOMES)) if k not in taken]
            for stratum in {s for by in strata.values() for s in by}}
    chosen = problems + _round_robin({s: sorted(keys, key=stable_rank) for s, keys in rest.items()},
                                     limit - len(problems))
    return chosen, sum(counts.values()), {outcome: counts[outcome] for outcome in OUTCOMES}


def _keep_smallest(heap: list, entry: tuple, limit: int) -> None:
    """A max-heap (ranks negated) of at most `limit` entries: the smallest ranks seen so far."""
    if len(heap) < limit:
        heapq.heappush(heap, entry)
    elif heap and entry > heap[0]:  # limit 0 (a reader without the run's text): nothing is kept
        heapq.heapreplace(heap, entry)


def _in_rank_order(heap: list) -> list[SampleKey]:
    return [key for _, key in sorted(heap, reverse=True)]


def _round_robin(strata: dict[tuple[str, str], list[SampleKey]], budget: int) -> list[SampleKey]:
    """One from each model × suite in turn, so no single model fills the page."""
    if budget <= 0:
        return []
    turns = zip_longest(*(strata[stratum] for stratum in sorted(strata)))
    return [key for key in chain.from_iterable(turns) if key is not None][:budget]


def load_selection(run: RunRecord, samples: Iterable[SampleRecord], rows: Iterable[ScoreRow],
                   limit: int = SAMPLE_LIMIT) -> SampleSelection:
    """Choose from the score rows, then keep the chosen ones as `samples` stream past."""
    chosen, total, outcomes = choose_keys(rows, limit)
    wanted = set(chosen)
    records = [s for s in samples if (s.model, s.suite, s.item_id, s.epoch) in wanted]
    targets = suite_targets(run.suites, {(s.suite, s.item_id) for s in records})
    order = {outcome: index for index, outcome in enumerate(OUTCOMES)}
    shown = sorted((browser_sample(s, targets) for s in records),
                   key=lambda s: (order[s.outcome], s.model, s.suite, s.item_id, s.epoch))
    return SampleSelection(total=total, outcomes=outcomes, samples=shown, targets_known=targets is not None)


def browser_sample(sample: SampleRecord, targets: dict[tuple[str, str], str] | None) -> BrowserSample:
    return BrowserSample(
        model=sample.model, suite=sample.suite, item_id=sample.item_id, epoch=sample.epoch,
        category=sample.category, language=sample.language, outcome=outcome_of(sample.score), score=sample.score,
        prompt=_cut(prompt_text(sample.request)), answer=_cut(sample.response_text or ""),
        target=(targets or {}).get((sample.suite, sample.item_id), ""), reason=_cut(sample.reason),
        error=_cut(sample.error or ""), conversation=conversation(sample))


def conversation(sample: SampleRecord) -> dict | None:
    """An agent sample's whole episode for the browser: each model turn's text and tool calls, each tool result
    with its status (invalid calls marked, with why), each simulated-user turn, how it ended, the final state, and
    the session `gensandbox trace` shows it under. None for a single model call."""
    episode = sample.episode
    if episode is None:
        return None
    state = episode.get("state")
    return {"session": episode_session(sample), "end": episode.get("end"), "error": episode.get("error"),
            "steps": [_step(step) for step in episode.get("steps", [])],
            "state": None if state is None else _cut(json.dumps(state, ensure_ascii=False, sort_keys=True)),
            "attack_succeeded": episode.get("attack_succeeded")}


def _step(step: dict) -> dict:
    kind = step.get("kind")
    if kind == "tool":
        return {"kind": "tool", "name": step.get("name"), "arguments": _cut(step.get("arguments") or ""),
                "result": _cut(step.get("result") or ""), "status": step.get("status"),
                "problem": step.get("problem")}
    shown = {"kind": kind, "text": _cut(step.get("text") or ""), "error": step.get("error")}
    if kind == "model":
        shown["tool_calls"] = [{"name": call.get("name"), "arguments": _cut(call.get("arguments") or "")}
                               for call in step.get("tool_calls", [])]
    return shown


def prompt_text(request: dict) -> str:
    messages = request.get("messages") or []
    if len(messages) == 1:
        return str(messages[0].get("content", ""))
    return "\n\n".join(f"[{m.get('role', '?')}] {m.get('content', '')}" for m in messages)


def _cut(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + " …"


def suite_targets(suites: list[dict], wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str] | None:
    """Targets are not stored with samples; they are read again from the run's suite files, checked by
    sha256. None when any needed file is gone or changed (the page says so)."""
    from gensandbox.runner.suite import reopen_suite

    needed = {suite for suite, _ in wanted}
    found: dict[tuple[str, str], str] = {}
    try:
        for record in suites:
            if record.get("name") in needed:
                found |= _targets_in(reopen_suite(record).iter_items(), record["name"], wanted)
    except (GenSandboxError, OSError, KeyError, ValueError):
        return None
    return found


def _targets_in(items: Iterator, suite: str, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    found = {}
    for item in items:
        if (suite, item.id) in wanted:
            target = item.target
            found[(suite, item.id)] = " | ".join(target) if isinstance(target, list) else (target or "")
    return found


def samples_payload(selection: SampleSelection) -> dict:
    """Compact JSON for the page: one array per sample under one list of field names."""
    fields = ("model", "suite", "item_id", "epoch", "category", "language", "outcome", "score", "prompt",
              "answer", "target", "reason", "error", "conversation")
    return {"fields": list(fields),
            "rows": [[getattr(sample, name) for name in fields] for sample in selection.samples]}
