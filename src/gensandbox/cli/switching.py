"""What `gensandbox audit switching` does: gather the workload (a suite, or calls recorded in the ledger), run the
current model and the alternatives on it as one evaluation, measure each tokenizer, and report."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from rich.table import Table

from gensandbox.audits.switching import (
    METHOD,
    Measured,
    SwitchingReport,
    Tokenizer,
    calibration_texts,
    compare,
    parse_date_range,
    tokenizer_rates,
    workload_items,
)
from gensandbox.calls.call import RetryPolicy, call_model
from gensandbox.calls.records import AUDIT, call_facts_of, call_record
from gensandbox.calls.targets import Target
from gensandbox.canonical import now_utc
from gensandbox.cli.output import console, split_names
from gensandbox.cli.running import evaluate
from gensandbox.config import Config, load_config
from gensandbox.errors import RunError, UserError
from gensandbox.ledger.events import CALL
from gensandbox.ledger.writer import Ledger, open_backend, open_ledger
from gensandbox.runner import ScoringContext, aggregate, build_plan, run_record
from gensandbox.runner.plan import judge_targets, options_from
from gensandbox.runner.results import by_model
from gensandbox.store import SQLiteStore, open_store
from gensandbox.store.audits import AuditStore
from gensandbox.types import ChatRequest, Message


def audit_switching(config_path: Path | None, current: str, alternatives: str, workload: str | None,
                    suite: str | None, judge: str | None, max_items: int, max_cost: float | None,
                    as_json: bool) -> None:
    config = load_config(config_path)
    others = split_names(alternatives) or []
    if not others or current in others:
        raise UserError("name one or more alternatives with --to, other than the --from model")
    if (workload is None) == (suite is None):
        raise UserError("give the workload: --workload SESSION or DATE-RANGE (recorded traffic), or --suite SUITE")
    store = open_store(config)
    if suite:
        suite_spec, features, longest, label = suite, set(), 0, f"suite {suite}"
    else:
        suite_spec, features, longest = _recorded_workload(config, workload, current, judge, max_items)
        label = f"recorded calls to {current} ({workload})"
    run_id = f"switching-{uuid.uuid4().hex[:8]}"
    options = options_from(config.file.run, max_cost_usd=max_cost)
    plan, prices = build_plan(config, [current, *others], [suite_spec], options, run_id)
    judges = judge_targets(config, prices, judge or config.file.run.judge, plan.suites)
    store.create_run(run_record(plan, prices, list(judges.values()), default_judge=judge))
    with _progress_to_stderr(as_json):  # --json: stdout carries the findings and nothing else
        tokenizers = _measured_on_the_record(config, plan.targets, run_id)
        evaluate(plan, store, config, ScoringContext(judges=judges, default_judge=judge), None)
    report = _report(plan.targets, store, run_id, label, features, longest, tokenizers)
    title = "; ".join(a.summary(current) for a in report.alternatives)
    AuditStore(store).save("switching", title, report.to_dict())
    if as_json:
        console.print_json(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    _print(report)


@contextmanager
def _progress_to_stderr(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    # Rich's `file` property falls back to whatever sys.stdout is at each write when unset; restore exactly that
    # (the private attribute), not the stream it resolved to now, which a caller may close later.
    previous, console.file = console._file, sys.stderr
    try:
        yield
    finally:
        console._file = previous


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
        calls = [event for event in map(orjson.loads, lines) if event.get("kind") == CALL
                 and event.get("gensandbox.source") == "gateway"  # traffic, not earlier audits or runs
                 and (bounds is None or bounds[0] <= event.get("time", "") <= bounds[1])]
    finally:
        backend.close()
    served = [event for event in calls if event.get("gen_ai.response.model") == current]
    if not served:
        seen = sorted({event.get("gen_ai.response.model", "?") for event in calls})
        raise UserError(f"no recorded calls served by {current} in {workload!r}"
                        + (f"; the models there: {', '.join(seen)}" if seen else "; nothing was recorded there"))
    return served


def _measured_on_the_record(config: Config, targets: list[Target], run_id: str) -> dict[str, Tokenizer]:
    """The tokenizers measured, each calibration call's ledger event durable before anything is reported."""
    ledger = open_ledger(config)
    try:
        return asyncio.run(_measure_tokenizers(targets, ledger, f"switching/{run_id}"))
    finally:
        ledger.close()


async def _measure_tokenizers(targets: list[Target], ledger: Ledger | None = None,
                              audit: str = "switching") -> dict[str, Tokenizer]:
    texts = calibration_texts()
    rates = {}
    for target in targets:
        try:
            rates[target.model.name] = tokenizer_rates(await _calibration_tokens(target, texts, ledger, audit), texts)
        finally:
            await target.provider.aclose()
    return rates


async def _calibration_tokens(target: Target, texts: dict[str, str], ledger: Ledger | None = None,
                              audit: str = "switching") -> dict:
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
        console.print(f"[yellow]{target.model.name}: tokenizer not measured ({error})[/yellow]")
        return {"ko": None, "en": None, "how": "not measured"}
    return {"ko": counts["ko"] - counts["base"] + 1, "en": counts["en"] - counts["base"] + 1,
            "how": "reported by the endpoint"}


def _on_record(ledger: Ledger | None, record: dict, item_id: str) -> None:
    if ledger is not None:
        ledger.record_call(call_facts_of(record, source=AUDIT, run_id=None, item_id=item_id))


def _report(targets: list[Target], store: SQLiteStore, run_id: str, label: str, features: set[str],
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


def _print(report: SwitchingReport) -> None:
    table = Table(title=f"Switching from {report.current}: {report.workload} ({report.items} items, run "
                        f"{report.run_id})", title_justify="left")
    for header in ("model", "quality kept", "cost", "p50 latency", "prompt tokens", "tokens / 1k 한글 chars",
                   "tokens / 1k English words", "features missing", "errors"):
        table.add_column(header, justify="left" if header in ("model", "features missing") else "right")
    table.add_row(f"{report.current} (now)", "100%", "100%", "100%", "100%", *_rates(report.current_tokenizer),
                  "", "")
    for alt in report.alternatives:
        missing = ", ".join(alt.missing_features) or ("unknown: " + ", ".join(alt.unknown_features)
                                                      if alt.unknown_features else "none")
        if alt.context_too_small:
            missing += f"; context < {report.max_prompt_tokens} tokens"
        table.add_row(alt.model, _pct(alt.quality_kept), _pct(alt.cost_ratio), _pct(alt.latency_ratio),
                      _pct(alt.prompt_token_ratio), *_rates(alt.tokenizer), missing, str(alt.errors))
    console.print(table)
    for alt in report.alternatives:
        console.print(f"[bold]{alt.summary(report.current)}[/bold]")
    console.print(f"[dim]method: {report.method}[/dim]")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _rates(tokenizer: Tokenizer) -> tuple[str, str]:
    def show(value: float | None) -> str:
        return "–" if value is None else f"{value:,.0f}"

    return show(tokenizer.per_1000_korean_chars), show(tokenizer.per_1000_english_words)
