"""What switching from one model to another would cost, measured: quality kept, cost and latency change,
tokenizer inflation for Korean and English, and API features the workload used that the alternative lacks.

Pure functions over measured numbers, then `audit_switching`, which runs the models and measures them.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import orjson

from gensandbox.calls.call import RetryPolicy, call_model
from gensandbox.calls.records import AUDIT, call_facts_of, call_record
from gensandbox.calls.targets import Target
from gensandbox.canonical import now_utc
from gensandbox.config import Config, data_path
from gensandbox.errors import RunError, UserError
from gensandbox.ledger.reading import call_records
from gensandbox.ledger.writer import Ledger, open_backend, open_ledger
from gensandbox.runner import ScoringContext, aggregate, build_plan, run_record
from gensandbox.runner.plan import judge_targets, options_from
from gensandbox.runner.results import by_model
from gensandbox.runner.session import QuietObserver, RunObserver, evaluate_plan
from gensandbox.store import SQLStore, open_store
from gensandbox.store.audits import AuditStore
from gensandbox.types import ChatRequest, Message

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")


def calibration_texts() -> dict[str, str]:
    """A Korean and an English passage (written for GenSandbox) on which each tokenizer is measured."""
    return {lang: data_path(f"audits/calibration-{lang}.txt").read_text(encoding="utf-8") for lang in ("ko", "en")}


def korean_characters(text: str) -> int:
    return len("".join(text.split()))


def english_words(text: str) -> int:
    return len(text.split())


def language_of(text: str) -> str:
    return "ko" if _HANGUL.search(text) else "en"


@dataclass(frozen=True)
class Tokenizer:
    """Tokens a model's tokenizer needs per 1,000 Korean characters and per 1,000 English words."""

    per_1000_korean_chars: float | None
    per_1000_english_words: float | None
    how: str  # "own tokenizer (llama.cpp)" or "reported by the endpoint"


def tokenizer_rates(tokens: dict[str, int | None], texts: dict[str, str]) -> Tokenizer:
    """`tokens`: the prompt tokens of each calibration text with the fixed overhead of a message removed."""
    ko, en = tokens.get("ko"), tokens.get("en")
    return Tokenizer(None if ko is None else 1000 * ko / korean_characters(texts["ko"]),
                     None if en is None else 1000 * en / english_words(texts["en"]), tokens.get("how", ""))


@dataclass(frozen=True)
class Measured:
    """One model on the workload, from the audit's evaluation run."""

    model: str
    items: int
    score: float  # NaN when nothing could be scored
    cost_usd: float
    latency_p50_s: float
    input_tokens: int
    errors: int


@dataclass(frozen=True)
class Alternative:
    model: str
    quality_kept: float | None  # the alternative's score as a share of the current model's
    cost_ratio: float | None
    latency_ratio: float | None
    prompt_token_ratio: float | None  # on this workload's own prompts: the tokenizer difference, measured
    missing_features: list[str]
    unknown_features: list[str]
    context_too_small: bool
    tokenizer: Tokenizer
    errors: int

    def summary(self, current: str) -> str:
        quality = "an unmeasured share" if self.quality_kept is None else f"{self.quality_kept:.0%}"
        cost = "an unmeasured share" if self.cost_ratio is None else f"{self.cost_ratio:.0%}"
        return f"switching from {current} to {self.model} keeps {quality} of quality at {cost} of the cost"


@dataclass(frozen=True)
class SwitchingReport:
    current: str
    workload: str
    run_id: str
    items: int
    features_used: list[str]
    max_prompt_tokens: int
    current_tokenizer: Tokenizer
    alternatives: list[Alternative]
    method: str
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_dict(self) -> dict:
        return asdict(self)


METHOD = (
    "Every model (the current one included) answered the same workload in one evaluation run. Quality: the "
    "workload's own scorers where items have targets; for recorded traffic, a judge model grades each answer "
    "against the current model's recorded answer. Quality kept = the alternative's score / the current "
    "model's score. Cost and latency: measured total cost and p50 latency on the same items, as ratios. "
    "Tokenizer inflation: prompt tokens each model needs for a fixed Korean passage (per 1,000 non-space "
    "characters) and English passage (per 1,000 words), with a message's fixed overhead removed; the "
    "workload's own prompt-token ratio is shown beside it. Features: what the recorded requests used "
    "(streaming, tools, JSON mode, seeds, prompt length) against what each model declares."
)


def _ratio(new: float, old: float) -> float | None:
    if old != old or new != new or old == 0:
        return None
    return new / old


def compare(current: Measured, other: Measured, tokenizer: Tokenizer, features_used: set[str],
            offered: set[str] | None, context: int | None, max_prompt_tokens: int) -> Alternative:
    missing = sorted(features_used - offered) if offered is not None else []
    unknown = sorted(features_used) if offered is None else []
    return Alternative(
        model=other.model,
        quality_kept=_ratio(other.score, current.score),
        cost_ratio=_ratio(other.cost_usd, current.cost_usd),
        latency_ratio=_ratio(other.latency_p50_s, current.latency_p50_s),
        prompt_token_ratio=_ratio(other.input_tokens, current.input_tokens) if current.input_tokens else None,
        missing_features=missing,
        unknown_features=unknown,
        context_too_small=context is not None and max_prompt_tokens > context,
        tokenizer=tokenizer,
        errors=other.errors,
    )


# ---- The workload, from recorded traffic ----------------------------------------------------------------------

JUDGE_RUBRIC = ("The answer is at least as good as the reference answer for this question: as correct, as "
                "complete and in the same language. A different wording is fine.")


def parse_date_range(text: str) -> tuple[str, str] | None:
    """'2026-11-01..2026-11-29' (dates inclusive, or ISO times) → ISO bounds comparable with event times."""
    if ".." not in text:
        return None
    start, _, end = text.partition("..")
    try:
        low = datetime.fromisoformat(start.strip()) if start.strip() else datetime.min
        high = datetime.fromisoformat(end.strip()) if end.strip() else datetime.max
    except ValueError:
        raise UserError(f"cannot read the date range {text!r}; write it as 2026-11-01..2026-11-29") from None
    if len(end.strip()) == 10:  # a bare date includes its whole day
        high = high.replace(hour=23, minute=59, second=59, microsecond=999999)
    return low.isoformat(), high.isoformat()


def workload_items(events: list[dict], judge: str) -> tuple[list[dict], set[str], int]:
    """Suite items (JSONL rows) from recorded calls, each graded by `judge` against the recorded answer; the
    features those calls used; and the longest prompt in tokens."""
    items, features, longest = [], set(), 0
    for event in events:
        messages, answers = event.get("gen_ai.input.messages"), event.get("gen_ai.output.messages")
        if not messages:
            raise UserError("the recorded calls keep only hashes of their prompts ([ledger] privacy = \"hashes\"); "
                            "record replayable traffic with privacy = \"full\", or audit a suite with --suite")
        if event.get("gensandbox.status") != "ok" or not answers:
            continue
        text = "\n".join(m.get("content") or "" for m in messages)
        items.append({"id": f"call-{event['seq']}", "language": language_of(text), "category": "recorded",
                      "messages": messages, "target": answers[0].get("content") or "",
                      "scorer": {"name": "judge", "args": {"judge": judge, "rubric": JUDGE_RUBRIC}}})
        features.update(event.get("gensandbox.features") or [])
        longest = max(longest, int(event.get("gen_ai.usage.input_tokens") or 0))
    if not items:
        raise UserError("no successful recorded calls in that workload; check the session name or date range "
                        "(`gensandbox traffic` shows what went through the gateway)")
    return items, features, longest


# ---- running the audit ----


def audit_switching(config: Config, current: str, alternatives: list[str], *, workload: str | None = None,
                    suite: str | None = None, judge: str | None = None, max_items: int = 200,
                    max_cost: float | None = None, observer: RunObserver | None = None,
                    on_saved: Callable[[str], None] | None = None) -> SwitchingReport:
    """Gather the workload (a suite, or calls recorded in the ledger), run the current model and the alternatives
    on it as one evaluation, measure each tokenizer, and keep the report beside the run (AuditStore)."""
    observer = observer or QuietObserver()
    if not alternatives or current in alternatives:
        raise UserError("name one or more alternatives with --to, other than the --from model")
    if (workload is None) == (suite is None):
        raise UserError("give the workload: --workload SESSION or DATE-RANGE (recorded traffic), or --suite SUITE")
    store = open_store(config)
    try:
        if suite:
            suite_spec, features, longest, label = suite, set(), 0, f"suite {suite}"
        else:
            suite_spec, features, longest = _recorded_workload(config, workload, current, judge, max_items)
            label = f"recorded calls to {current} ({workload})"
        run_id = f"switching-{uuid.uuid4().hex[:8]}"
        options = options_from(config.file.run, max_cost_usd=max_cost)
        plan, prices = build_plan(config, [current, *alternatives], [suite_spec], options, run_id)
        judges = judge_targets(config, prices, judge or config.file.run.judge, plan.suites)
        store.create_run(run_record(plan, prices, list(judges.values()), default_judge=judge))
        tokenizers = _measured_on_the_record(config, plan.targets, run_id, observer)
        status = evaluate_plan(plan, store, config, ScoringContext(judges=judges, default_judge=judge), observer)
        if status == "interrupted":
            raise KeyboardInterrupt
        report = _report(plan.targets, store, run_id, label, features, longest, tokenizers)
        saved = AuditStore(store).save("switching", "; ".join(a.summary(current) for a in report.alternatives),
                                       report.to_dict())
        if on_saved is not None:
            on_saved(saved.audit_id)
    finally:
        store.close()
    return report


def _recorded_workload(config: Config, workload: str, current: str, judge: str | None,
                       max_items: int) -> tuple[str, set[str], int]:
    if not (judge or config.file.run.judge):
        raise UserError("recorded traffic has no targets: pass --judge MODEL to grade each alternative's answer "
                        "against the recorded one")
    events = _recorded_calls(config, workload, current)[:max_items]
    items, features, longest = workload_items(events, judge or config.file.run.judge)
    path = config.home / "audits" / f"workload-{uuid.uuid4().hex[:8]}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in items))
    return str(path), features, longest


def _recorded_calls(config: Config, workload: str, current: str) -> list[dict]:
    """The gateway calls the current model served in a session (gen_ai.conversation.id) or a date range."""
    backend = open_backend(config.ledger_url)
    try:
        bounds = parse_date_range(workload)
        lines = backend.lines() if bounds else backend.session_lines(workload)
        calls = [event for event in call_records(lines)
                 if event.get("gensandbox.source") == "gateway"  # traffic, not earlier audits or runs
                 and (bounds is None or bounds[0] <= event.get("time", "") <= bounds[1])]
    finally:
        backend.close()
    served = [event for event in calls if event.get("gen_ai.response.model") == current]
    if not served:
        seen = sorted({event.get("gen_ai.response.model", "?") for event in calls})
        raise UserError(f"no recorded calls served by {current} in {workload!r}"
                        + (f"; the models there: {', '.join(seen)}" if seen else "; nothing was recorded there"))
    return served


def _measured_on_the_record(config: Config, targets: list[Target], run_id: str,
                            observer: RunObserver) -> dict[str, Tokenizer]:
    """The tokenizers measured, each calibration call's ledger event durable before anything is reported."""
    ledger = open_ledger(config)
    try:
        return asyncio.run(_measure_tokenizers(targets, ledger, f"switching/{run_id}", observer))
    finally:
        ledger.close()


async def _measure_tokenizers(targets: list[Target], ledger: Ledger | None = None, audit: str = "switching",
                              observer: RunObserver | None = None) -> dict[str, Tokenizer]:
    texts = calibration_texts()
    rates = {}
    for target in targets:
        try:
            tokens = await _calibration_tokens(target, texts, ledger, audit, observer)
            rates[target.model.name] = tokenizer_rates(tokens, texts)
        finally:
            await target.provider.aclose()
    return rates


async def _calibration_tokens(target: Target, texts: dict[str, str], ledger: Ledger | None = None,
                              audit: str = "switching", observer: RunObserver | None = None) -> dict:
    """Prompt tokens of each passage minus those of a one-character message (the template's overhead)."""
    def request(text: str) -> ChatRequest:
        return ChatRequest(model=target.model.provider_model_id, messages=(Message("user", text),), max_tokens=1)

    counter = getattr(target.provider, "count_prompt_tokens", None)
    if counter is not None:  # an in-process model: its own tokenizer, no generation needed
        base = counter(request("."))
        return {lang: counter(request(text)) - base + 1 for lang, text in texts.items()} | {
            "how": "own tokenizer (llama.cpp)"}
    try:
        counts = {}
        for lang, text in (("base", "."), *texts.items()):
            started_at, asked = now_utc(), request(text)
            item_id = f"{audit}/tokenizer/{target.model.name}/{lang}"
            try:
                response, _ = await call_model(target.provider, asked, timeout_s=target.model.timeout_s,
                                               policy=RetryPolicy(retries=1))
            except RunError as error:
                _on_record(ledger, call_record(target, asked, started_at, error=error), item_id)
                raise
            _on_record(ledger, call_record(target, asked, started_at, response), item_id)
            counts[lang] = response.usage.input_tokens
    except RunError as error:
        if observer is not None:
            observer.warn(f"{target.model.name}: tokenizer not measured ({error})")
        return {"ko": None, "en": None, "how": "not measured"}
    return {"ko": counts["ko"] - counts["base"] + 1, "en": counts["en"] - counts["base"] + 1,
            "how": "reported by the endpoint"}


def _on_record(ledger: Ledger | None, record: dict, item_id: str) -> None:
    if ledger is not None:
        ledger.record_call(call_facts_of(record, source=AUDIT, run_id=None, item_id=item_id))


def _report(targets: list[Target], store: SQLStore, run_id: str, label: str, features: set[str],
            longest: int, tokenizers: dict[str, Tokenizer]) -> SwitchingReport:
    rows = {row.key[0]: row for row in aggregate(store.score_rows(run_id), by_model, resamples=200)}
    measured = {name: Measured(name, row.n, row.score, row.cost_usd, row.latency_p50_s, row.input_tokens,
                               row.errors) for name, row in rows.items()}
    current, *others = targets
    if current.model.name not in measured:
        raise UserError(f"{current.model.name} answered nothing in run {run_id}; see `gensandbox show {run_id}`")
    alternatives = [
        compare(measured[current.model.name], measured[t.model.name], tokenizers[t.model.name], features,
                t.model.offered_features(), t.model.context_tokens(), longest)
        for t in others if t.model.name in measured
    ]
    return SwitchingReport(current.model.name, label, run_id, measured[current.model.name].items,
                           sorted(features), longest, tokenizers[current.model.name], alternatives, METHOD)
