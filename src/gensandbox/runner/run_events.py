"""A run's stored samples and its ledger call events, kept in step.

A batch of finished calls is committed to the store, then their events are appended to the ledger: two
databases, no transaction spans both, so a process killed in between keeps samples whose events are lost, and
`run --resume` skips those items (they are stored). That is the gap this order can leave, and the one that can be
closed: before a resume runs anything it appends an event for every stored sample that has none, rebuilt from
the sample (`reemit_missing`), and `gensandbox ledger verify` reports any that remain (`samples_without_events`).

Both stream. The ledger is read once, a page at a time, and only lines naming a run are parsed (canonical JSON
writes the field as exactly these bytes); the store is read as keys, and whole samples only when events are
missing. Memory holds one key per call event of the run (resume) or of every run (verify).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import orjson

from gensandbox.calls.records import JUDGE_MARK, episode_facts, judge_facts, sample_facts
from gensandbox.calls.targets import ModelFacts
from gensandbox.ledger.events import CALL, ToolFacts
from gensandbox.ledger.writer import Ledger
from gensandbox.store import RunRecord, SQLStore

# (the model the run asked for, "SUITE/ITEM#EPOCH"): one call of a run, as its event names it. A judge's event is
# keyed by the model it graded and "SUITE/ITEM#EPOCH/judge" (see calls/records.py).
Key = tuple[str, str]
_RUN_FIELD = b'"gensandbox.run_id":'
_APPEND_BATCH = 1000  # events per ledger transaction while re-emitting


def item_key(model: str, suite: str, item_id: str, epoch: int) -> Key:
    return model, f"{suite}/{item_id}#{epoch}"


def judge_key(model: str, suite: str, item_id: str, epoch: int) -> Key:
    return model, f"{suite}/{item_id}#{epoch}{JUDGE_MARK}"


def tap_call_keys(lines: Iterable[bytes], found: dict[str, set[Key]], run_id: str | None = None) -> Iterator[bytes]:
    """Pass ledger lines through unchanged (to the chain verifier, say) while adding the key of each run call
    event to `found[run]`; only `run_id`'s events when it is given."""
    marker = _RUN_FIELD + (orjson.dumps(run_id) if run_id is not None else b"")
    for line in lines:
        if marker in line:
            _collect(line, found, run_id)
        yield line


def _collect(line: bytes, found: dict[str, set[Key]], run_id: str | None) -> None:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return  # not ours to judge: the chain verifier names the bad record
    if not isinstance(record, dict) or record.get("kind") != CALL:
        return
    run = record.get("gensandbox.run_id")
    if isinstance(run, str) and run_id in (None, run):
        model = record.get("gensandbox.judged_model") or record.get("gen_ai.request.model")
        found.setdefault(run, set()).add((model, record.get("gensandbox.item_id")))


def samples_without_events(store: SQLStore, found: dict[str, set[Key]]) -> dict[str, int]:
    """Per run, how many stored samples lack an event in `found`: the call event of a sample a model call made (not
    the cache), or the judge event of a sample a judge graded (one sample can lack both: it counts once)."""
    lacking: set[tuple[str, str, str, str, int]] = set()
    for keys, key_of in ((store.call_keys(), item_key), (store.judge_keys(), judge_key)):
        for run_id, model, suite, item_id, epoch in keys:
            if key_of(model, suite, item_id, epoch) not in found.get(run_id, ()):
                lacking.add((run_id, model, suite, item_id, epoch))
    missing: dict[str, int] = {}
    for run_id, *_ in lacking:
        missing[run_id] = missing.get(run_id, 0) + 1
    return missing


def reemit_missing(run: RunRecord, store: SQLStore, ledger: Ledger) -> int:
    """Append a call event for each of `run`'s stored samples that has none, and a judge event for each judged
    sample that has none; how many samples lacked any. The ledger is read first, so an event that is there is
    never written twice."""
    if any(suite.get("layout") == "holdout" for suite in run.suites):
        return 0  # a custody run's samples are stored redacted: its events cannot be rebuilt from them
    found: dict[str, set[Key]] = {}
    deque(tap_call_keys(ledger.backend.lines(), found, run.run_id), maxlen=0)
    have = found.get(run.run_id, set())
    missing = {key for key in (item_key(*row[1:]) for row in store.call_keys(run.run_id)) if key not in have}
    missing_judged = {key for key in (judge_key(*row[1:]) for row in store.judge_keys(run.run_id)) if key not in have}
    queued = 0
    if missing:
        models = model_facts(run)
        for sample, stored_at in store.called_samples(run.run_id):
            if item_key(sample.model, sample.suite, sample.item_id, sample.epoch) in missing:
                # The same event the call wrote, but for its `time`: the call's start was not kept, so it is the
                # moment the sample was stored (when the call had just ended, latency_s after it began). The chain
                # fields differ too, as the event now sits at the ledger's end rather than where it was lost.
                for facts in _call_events_of(sample, models[sample.model], stored_at):
                    queued = _queue(ledger, facts, queued)
    if missing_judged:
        for sample in store.judged_samples(run.run_id):
            if judge_key(sample.model, sample.suite, sample.item_id, sample.epoch) in missing_judged:
                # The judge's record kept its start time: this event is the one the call wrote, but for the chain.
                queued = _queue(ledger, judge_facts(sample), queued)
    ledger.flush()
    # Samples, not events: one sample can lack both its call event and its judge's.
    return len({(model, item.removesuffix(JUDGE_MARK)) for model, item in missing | missing_judged})


def _call_events_of(sample, model: ModelFacts, stored_at: str) -> list:
    """An agent episode's every step (each kept its own start time), or the one call that made the sample."""
    if sample.episode is not None:
        return episode_facts(sample, model)
    return [sample_facts(sample, model, stored_at)]


def _queue(ledger: Ledger, facts, queued: int) -> int:
    if isinstance(facts, ToolFacts):
        ledger.record_tool(facts)
    else:
        ledger.record_call(facts)
    if (queued + 1) % _APPEND_BATCH == 0:
        ledger.flush()
    return queued + 1


def model_facts(run: RunRecord) -> dict[str, ModelFacts]:
    """What each model's events say about it, as the run recorded it when it started (the price's source then,
    not today's price table's)."""
    manifest = run.settings.get("manifest") or {}
    definitions = {d["name"]: d for d in manifest.get("model_definitions", [])}
    facts = {}
    for model in run.models:
        variant = definitions.get(model["name"], {}).get("variant")
        facts[model["name"]] = ModelFacts(model["provider"], model["price"]["source"],
                                          variant["definition"]["name"] if variant else None,
                                          variant["version"] if variant else None)
    return facts
