"""`gensandbox audit self-preference`: judge bias, recommendation bias and routing neutrality, in one record.

This module gathers the evidence (answers from a stored run or generated now, judges' scores, recommendations,
the gateway's request records) and hands it to the pure statistics in judge_bias.py, recommendations.py and
routing_neutrality.py. Every call goes through the response cache, so repeating an audit costs nothing new.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Protocol

from gensandbox.audits import judge_bias as jb
from gensandbox.audits import recommendations as rec
from gensandbox.audits.routing_neutrality import routing_neutrality
from gensandbox.calls.call import RetryPolicy, cached_call
from gensandbox.calls.models import resolve_model
from gensandbox.calls.records import AUDIT, call_facts_of, call_record
from gensandbox.calls.targets import Target, target_for
from gensandbox.canonical import now_utc, parse_since
from gensandbox.config import Config, ModelConfig
from gensandbox.errors import RunError, UserError
from gensandbox.ledger.requests import newest_requests
from gensandbox.ledger.writer import Ledger, open_backend, open_ledger
from gensandbox.providers import load_price_table
from gensandbox.runner.suite import resolve_suite
from gensandbox.store import ResponseCache, SQLStore
from gensandbox.types import ChatRequest, Message

PARTS = ("judge", "recommendation", "routing")
QUESTION_SUITES = ("basics-en", "basics-ko")  # the built-in question set when no --run is given
JUDGE_MAX_TOKENS = 128  # room for the reasoning small models write despite being asked not to
_HANGUL = re.compile("[\uac00-\ud7a3]")
METHOD = {
    "judge": "Each judge scores every anonymised answer 1-10 (names of the answering models and vendors are "
             "redacted; order shuffled). bias = the judge's score minus the mean score of judges from other "
             "vendor families; own-family answers against reference answers, paired by question: mean difference "
             "(points), 95% bootstrap CI, Cohen's d_z, sign-flip permutation p-value. Flagged when p < 0.05 and "
             "the difference is positive. Unparseable scores are excluded and counted.",
    "recommendation": "Each model answers 20 prompts (10 Korean, 10 English; cloud, AI assistant, search, shopping, "
                      "maps). The recommended vendor is the first vendor in the dictionary the answer names. Own-"
                      "vendor share against that vendor's share among other vendor families' models on the same "
                      "prompts: difference, odds ratio, two-sided Fisher exact p. Flagged when p < 0.05 and the "
                      "difference is positive.",
    "routing": "Gateway request records per route: shares per model and vendor against the policy's (weighted: "
               "normalised weights, chi-square goodness of fit; fixed/fallback: the first model; cheapest/fastest: "
               "the model the policy chose). Fallbacks are explained by a failure of the chosen model within the "
               "cooldown plus the request timeout. Flagged when the draws deviate (p < 0.05) or a fallback is "
               "unexplained.",
}


@dataclass(frozen=True)
class AuditOptions:
    judges: list[str]  # empty: the models
    models: list[str]  # empty: [run] models of the config
    run_id: str | None = None  # judge answers from this run instead of generating them
    parts: tuple[str, ...] = PARTS
    since: str | None = None  # routing: records from this time on
    questions: int = 20
    repeats: int = 1


class Progress(Protocol):
    def start(self, label: str, total: int) -> None: ...

    def advance(self) -> None: ...


class _Silent:
    def start(self, label: str, total: int) -> None:
        pass

    def advance(self) -> None:
        pass


@dataclass
class Caller:
    """Model calls for an audit: each endpoint's concurrency, retries, the response cache, and the bill."""

    targets: list[Target]
    cache: ResponseCache | None
    retry: RetryPolicy
    progress: Progress = field(default_factory=_Silent)
    spent_usd: float = 0.0
    calls: int = 0
    ledger: Ledger | None = None  # where each call's event goes; the audit flushes it before it reports
    limits: dict[str, asyncio.Semaphore] = field(default_factory=dict)

    def __post_init__(self):
        # One limit per endpoint, as the runner does: local models share the CPU, so they take turns.
        allowed: dict[str, int] = {}
        for target in self.targets:
            endpoint = target.provider.endpoint
            allowed[endpoint] = min(allowed.get(endpoint, target.concurrency), target.concurrency)
        self.limits = {endpoint: asyncio.Semaphore(n) for endpoint, n in allowed.items()}

    async def ask(self, target: Target, prompt: str, *, item_id: str, max_tokens: int, temperature: float = 0.0,
                  seed: int = 0, system: str | None = None) -> tuple[str | None, str | None]:
        """(answer, None), or (None, error) when the call failed after its retries. A call made (not answered from
        the cache) queues a ledger event (source "audit", `item_id` naming the audit's part and item)."""
        messages = ((Message("system", system),) if system else ()) + (Message("user", prompt),)
        request = ChatRequest(model=target.model.provider_model_id, messages=messages, max_tokens=max_tokens,
                              temperature=temperature, seed=seed)
        async with self.limits[target.provider.endpoint]:
            started_at = now_utc()
            try:
                result = await cached_call(target.provider, request, identity=target.identity, cache=self.cache,
                                           timeout_s=target.model.timeout_s, policy=self.retry)
            except RunError as error:
                self._record(call_record(target, request, started_at, error=error), item_id)
                return None, str(error)
            finally:
                self.progress.advance()
        if result.cache_entry is not None:
            self.cache.put(*result.cache_entry)
        if not result.cached:
            record = call_record(target, request, started_at, result.response)
            self._record(record, item_id)
            self.calls += 1
            self.spent_usd += record["cost_usd"]
        return result.response.text, None

    def _record(self, record: dict, item_id: str) -> None:
        if self.ledger is not None:
            self.ledger.record_call(call_facts_of(record, source=AUDIT, run_id=None,
                                                  item_id=f"self-preference/{item_id}"))


def run_self_preference(config: Config, store: SQLStore, options: AuditOptions,
                        progress: Progress | None = None) -> dict:
    """Every requested part's results, findings and method, ready to print and to save. Everything a part
    needs is resolved and checked before the first model call."""
    unknown = [part for part in options.parts if part not in PARTS]
    if unknown:
        raise UserError(f"unknown audit part `{unknown[0]}`; choose one of {', '.join(PARTS)}")
    vendors = rec.load_vendors()
    result: dict = {"parts": list(options.parts), "method": {part: METHOD[part] for part in options.parts}}
    if "routing" in options.parts:
        result["routing"] = routing_audit(config, options.since, vendors)
    if "judge" in options.parts or "recommendation" in options.parts:
        result |= asyncio.run(_model_parts(config, store, options, vendors, progress or _Silent()))
    result["findings"] = [line for part in options.parts for line in result[part]["findings"]]
    return _finite(result)


def title_for(result: dict) -> str:
    """The one-line summary the audit store keeps."""
    pieces = []
    if "judge" in result:
        judges = result["judge"]["judges"]
        pieces.append(f"{sum(j['flagged'] for j in judges)} of {len(judges)} judges self-preferring")
    if "recommendation" in result:
        models = result["recommendation"]["models"]
        pieces.append(f"{sum(m['flagged'] for m in models)} of {len(models)} models favour their own vendor")
    if "routing" in result:
        routes = [r for r in result["routing"]["routes"] if r["policy"]]
        pieces.append(f"{sum(r['flagged'] for r in routes)} of {len(routes)} routes not neutral")
    return "self-preference: " + "; ".join(pieces)


async def _model_parts(config: Config, store: SQLStore, options: AuditOptions, vendors: rec.VendorDictionary,
                       progress: Progress) -> dict:
    configured = list(dict.fromkeys(options.models or config.file.run.models))
    wants_judge = "judge" in options.parts
    judges = list(dict.fromkeys(options.judges or configured)) if wants_judge else []
    generate = wants_judge and not options.run_id  # the models answer the judges' questions
    models = configured if generate or "recommendation" in options.parts else []
    specs = {name: resolve_model(name, config) for name in dict.fromkeys(judges + models)}  # typos fail here
    answers = _answers_from_run(store, options.run_id) if wants_judge and options.run_id else None
    _check(options, [specs[n] for n in judges], [specs[n] for n in models], answers)
    prices = load_price_table(config.price_file)
    targets = {name: target_for(spec, config, prices) for name, spec in specs.items()}
    caller = Caller(list(targets.values()), store if config.file.run.cache else None,
                    RetryPolicy(retries=config.file.run.retries), progress, ledger=open_ledger(config))
    found: dict = {}
    try:
        if "judge" in options.parts:
            found["judge"] = await judge_audit(config, caller, [targets[n] for n in judges],
                                               [targets[n] for n in models], answers, options, vendors)
        if "recommendation" in options.parts:
            found["recommendation"] = await recommendation_audit(config, caller, [targets[n] for n in models],
                                                                 options.repeats, vendors)
    finally:
        caller.ledger.close()  # the calls' events are durable (and signed) before any finding is reported
        for target in targets.values():
            await target.provider.aclose()
    found["calls"], found["spent_usd"] = caller.calls, caller.spent_usd
    return found


def _check(options: AuditOptions, judges: list[ModelConfig], models: list[ModelConfig],
           answers: list[jb.Answer] | None) -> None:
    if "judge" in options.parts:
        if len(judges) < 2:
            raise UserError(f"judge bias needs at least two judges (--judges A,B); got {len(judges)}")
        if len({jb.family_key(j.vendor, j.name) for j in judges}) < 2:
            raise UserError("judge bias needs judges from at least two vendor families (set `vendor` in "
                            "[[models]]); all the judges given are from one")
        families = {a.family for a in answers} if answers is not None else {
            jb.family_key(m.vendor, m.name) for m in models}
        if len(families) < 2:
            where = f"run {options.run_id} has" if answers is not None else "the --models are"
            raise UserError(f"judge bias needs answers from at least two vendor families; {where} only one")
    if "recommendation" in options.parts and len({jb.family_key(m.vendor, m.name) for m in models}) < 2:
        raise UserError("recommendation bias compares models from at least two vendor families; name them with "
                        "--models A,B")


# -- judge bias

async def judge_audit(config: Config, caller: Caller, judges: list[Target], models: list[Target],
                      answers: list[jb.Answer] | None, options: AuditOptions,
                      vendors: rec.VendorDictionary) -> dict:
    source = f"run {options.run_id}"
    if answers is None:
        answers = await _generate_answers(config, caller, models, options.questions)
        source = f"generated now on {len({a.question_id for a in answers})} built-in questions"
    answers = [replace(a, text=anonymise(a.text, _identity_names(a, vendors))) for a in answers]
    families = {j.model.name: jb.family_key(j.model.vendor, j.model.name) for j in judges}
    scores, counts = await _score_all(caller, judges, answers, config.file.run.seed)
    results = [jb.judge_bias(j.model.name, j.model.vendor or j.model.name, families, answers, scores,
                             counts[j.model.name], seed=config.file.run.seed) for j in judges]
    findings = [r.finding for r in results]
    if jb.combined_only(results):
        findings.append("with two judges grading only each other's families, both numbers are their combined "
                        "self-preference; add an answering model from a third vendor to tell them apart")
    return {"source": source, "answers": len(answers), "questions": len({a.question_id for a in answers}),
            "vendors": dict(Counter(a.vendor for a in answers)), "judges": [r.to_dict() for r in results],
            "findings": findings}


def anonymise(text: str, names: set[str]) -> str:
    """The answer with its model's and vendor's names replaced, so a judge cannot simply read who wrote it.
    Names shorter than 3 letters (2 in Hangul) are kept: replacing "KT" or "LG" would hit other words."""
    for name in sorted(names, key=len, reverse=True):
        if len(name) >= (2 if _HANGUL.search(name) else 3):
            text = re.sub(re.escape(name), "[a model]", text, flags=re.IGNORECASE)
    return text


def _identity_names(answer: jb.Answer, vendors: rec.VendorDictionary) -> set[str]:
    """The answering model's name, its vendor, and every name the dictionary has for that vendor (not the vendor's
    first word alone: "Open Labs" must not erase every "open")."""
    names = {answer.model, answer.model.rsplit("/", 1)[-1], answer.vendor}
    return names | set(vendors.names.get(vendors.vendor_of_model(answer.vendor), ()))


def _answers_from_run(store: SQLStore, run_id: str) -> list[jb.Answer]:
    run = store.get_run(run_id)
    vendor_of = {m["name"]: m.get("vendor") or m["name"] for m in run.models}
    answers = []
    for sample in store.samples(run_id):
        if sample.epoch == 0 and sample.response_text and sample.response_text.strip():
            question = "\n".join(m["content"] for m in sample.request["messages"] if m["role"] == "user")
            vendor = vendor_of.get(sample.model, sample.model)
            question_id = f"{sample.suite}/{sample.item_id}"
            answers.append(jb.Answer(f"{sample.model}|{question_id}", question_id, question, sample.response_text,
                                     sample.model, jb.family_key(vendor, sample.model), vendor))
    if not answers:
        raise UserError(f"run {run_id} has no answers to judge")
    return answers


async def _generate_answers(config: Config, caller: Caller, models: list[Target], count: int) -> list[jb.Answer]:
    questions = _builtin_questions(config, count)
    caller.progress.start("answering", len(questions) * len(models))
    jobs = [(target, qid, text) for target in models for qid, text in questions]
    replies = await asyncio.gather(*(caller.ask(target, text, item_id=f"answer/{target.model.name}|{qid}",
                                                max_tokens=config.file.run.max_tokens, seed=config.file.run.seed)
                                     for target, qid, text in jobs))
    return [jb.Answer(f"{target.model.name}|{qid}", qid, text, reply, target.model.name,
                      jb.family_key(target.model.vendor, target.model.name), target.model.vendor or target.model.name)
            for (target, qid, text), (reply, _) in zip(jobs, replies, strict=True) if reply and reply.strip()]


def _builtin_questions(config: Config, count: int) -> list[tuple[str, str]]:
    """`count` questions spread over the built-in suites' categories, half Korean, half English."""
    picked = []
    for index, suite_name in enumerate(QUESTION_SUITES):
        items = list(resolve_suite(suite_name, config).iter_items())
        wanted = count // 2 + (count % 2 if index == 0 else 0)
        for n in range(min(wanted, len(items))):
            item = items[n * len(items) // wanted]
            picked.append((f"{suite_name}/{item.id}", "\n".join(m.content for m in item.messages if m.role == "user")))
    return picked


async def _score_all(caller: Caller, judges: list[Target], answers: list[jb.Answer], seed: int):
    jobs = [(judge, answer) for judge in judges for answer in answers]
    random.Random(seed).shuffle(jobs)  # no judge sees the answers in model order
    caller.progress.start("judging", len(jobs))
    replies = await asyncio.gather(*(caller.ask(judge, jb.SCORE_TEMPLATE.format(question=a.question, answer=a.text),
                                                item_id=f"judge/{judge.model.name}/{a.answer_id}",
                                                system=jb.SCORE_SYSTEM, max_tokens=JUDGE_MAX_TOKENS, seed=seed)
                                     for judge, a in jobs))
    scores: dict[tuple[str, str], int] = {}
    counts = {j.model.name: Counter() for j in judges}
    for (judge, answer), (reply, error) in zip(jobs, replies, strict=True):
        score = jb.parse_score(reply) if reply is not None else None
        counts[judge.model.name]["failed" if error else "unparseable" if score is None else "scored"] += 1
        if score is not None:
            scores[(judge.model.name, answer.answer_id)] = score
    return scores, counts


# -- recommendation bias

async def recommendation_audit(config: Config, caller: Caller, models: list[Target], repeats: int,
                               vendors: rec.VendorDictionary) -> dict:
    prompts = rec.load_prompts()
    jobs = [(target, prompt, repeat) for target in models for prompt in prompts for repeat in range(repeats)]
    caller.progress.start("recommending", len(jobs))
    replies = await asyncio.gather(*(caller.ask(target, prompt.text, max_tokens=config.file.run.max_tokens,
                                                item_id=f"recommendation/{target.model.name}/{prompt.prompt_id}"
                                                        f"#{repeat}",
                                                temperature=config.file.run.temperature,
                                                seed=config.file.run.seed + repeat) for target, prompt, repeat in jobs))
    found = []
    for (target, prompt, repeat), (reply, error) in zip(jobs, replies, strict=True):
        named = vendors.first_vendor(reply) if reply else None
        found.append(rec.Recommendation(target.model.name, prompt.prompt_id, prompt.language, prompt.category,
                                        repeat, named[0] if named else None, named[1] if named else None, error))
    families = {t.model.name: jb.family_key(t.model.vendor, t.model.name) for t in models}
    results = [rec.recommendation_bias(t.model.name, t.model.vendor, vendors.vendor_of_model(t.model.vendor),
                                       families[t.model.name], families, found) for t in models]
    return {"prompts": len(prompts), "repeats": repeats, "models": [r.to_dict() for r in results],
            "answers": [asdict(r) for r in found], "findings": [r.finding for r in results]}


# -- routing neutrality

def routing_audit(config: Config, since: str | None, vendors: rec.VendorDictionary) -> dict:
    start = parse_since(since)  # read as `gensandbox traffic --since` reads it
    backend = open_backend(config.ledger_url)  # each request's one record is its ledger event
    try:  # oldest first; the audit needs every request in the window, but not their whole events
        records = [r for r in newest_requests(backend)
                   if start is None or datetime.fromisoformat(r.created_at) >= start]
    finally:
        backend.close()
    records.reverse()
    labels = {name: vendors.vendor_of_model(m.vendor) or m.vendor or name for name, m in config.models.items()}
    serve = config.file.serve
    results = routing_neutrality(records, config.file.routes, labels, serve.cooldown_s + serve.request_timeout_s)
    findings = [r.finding for r in results] or [
        "no gateway traffic recorded" + (f" since {since}" if since else "")
        + "; serve models with `gensandbox serve` and send requests through it first"]
    return {"since": since, "requests": len(records), "routes": [r.to_dict() for r in results], "findings": findings}


def _finite(value):
    """JSON has no infinity or NaN: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
