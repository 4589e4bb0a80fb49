"""`gensandbox audit …`: policy audits (audits/), each saved to the audit store for the report and the dashboard.

One Typer sub-app; each command imports the engine only when it runs, so that `gensandbox --help` stays instant.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gensandbox.cli.output import ConfigOption, console, errors, finite_usd, load, split_names

if TYPE_CHECKING:
    from gensandbox.audits.switching import SwitchingReport, Tokenizer

audit_app = typer.Typer(help="Policy audits: what a switch would cost, and whether judges, recommendations "
                        "or routes favour their own vendor.", no_args_is_help=True,
                        rich_markup_mode=None)


# -- switching


@audit_app.command("switching")
def switching(
    current: Annotated[str, typer.Option("--from", help="The model the app uses now.")],
    alternatives: Annotated[str, typer.Option("--to", help="Models to consider, comma-separated.")],
    workload: Annotated[str | None, typer.Option(
        "--workload", help="Recorded traffic to replay: a session name, or a date range such as "
                           "2026-11-01..2026-11-29 (needs [ledger] privacy = \"full\").")] = None,
    suite: Annotated[str | None, typer.Option("--suite", help="A suite instead of recorded traffic.")] = None,
    judge: Annotated[str | None, typer.Option("--judge", help="Grades answers to recorded traffic against the "
                                              "recorded ones (needed with --workload).")] = None,
    max_items: Annotated[int, typer.Option("--max-items", min=1, help="Replay at most this many calls.")] = 200,
    max_cost: Annotated[float | None, typer.Option("--max-cost", min=0.0, help="Refuse above this estimate, in "
                                                   "USD; stop there.", callback=finite_usd)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    config_path: ConfigOption = None,
) -> None:
    """Replay a workload on alternatives: quality kept, cost and latency, tokenizer inflation, missing features."""
    audit_switching(config_path, current, alternatives, workload, suite, judge, max_items, max_cost, as_json)


def audit_switching(config_path: Path | None, current: str, alternatives: str, workload: str | None,
                    suite: str | None, judge: str | None, max_items: int, max_cost: float | None,
                    as_json: bool) -> None:
    from gensandbox.audits.switching import audit_switching as run_audit
    from gensandbox.cli.run import ConsoleObserver
    from gensandbox.config import load_config

    with _progress_to_stderr(as_json):  # --json: stdout carries the findings and nothing else
        report = run_audit(load_config(config_path), current, split_names(alternatives) or [], workload=workload,
                           suite=suite, judge=judge, max_items=max_items, max_cost=max_cost,
                           observer=ConsoleObserver())
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


# -- self-preference

@audit_app.command("self-preference")
def self_preference(
    judges: Annotated[str | None, typer.Option("--judges", help="Judge models, comma-separated, from at least two "
                                               "vendors (default: the --models).")] = None,
    run_id: Annotated[str | None, typer.Option("--run", help="Judge the answers of this run instead of answers "
                                               "generated now on built-in questions.")] = None,
    models: Annotated[str | None, typer.Option("--models", "-m", help="Models that answer and recommend, "
                                               "comma-separated (default: [run] models).")] = None,
    only: Annotated[str | None, typer.Option("--only", help="Run only these parts, comma-separated: judge, "
                                             "recommendation, routing.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Routing: gateway traffic from this date or time "
                                              "on (e.g. 2026-11-01).")] = None,
    questions: Annotated[int, typer.Option("--questions", min=2, max=96, help="Judge: how many built-in "
                                           "questions the models answer (half Korean, half English).")] = 20,
    repeats: Annotated[int, typer.Option("--repeats", min=1, max=20, help="Recommendation: ask each prompt N "
                                         "times, seed + k (useful with a temperature above 0).")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    config_path: ConfigOption = None,
) -> None:
    """Do judges, recommendations or gateway routes favour their own vendor? Effect sizes, p-values, findings."""
    from gensandbox.audits.self_preference import PARTS, AuditOptions, run_self_preference, title_for
    from gensandbox.store.audits import AuditStore

    config, store = load(config_path)
    options = AuditOptions(split_names(judges) or [], split_names(models) or [], run_id,
                           tuple(split_names(only) or PARTS), since, questions, repeats)
    calls_models = {"judge", "recommendation"} & set(options.parts)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=errors if as_json else console, transient=as_json)
    with bar if calls_models else nullcontext():  # an idle bar would still print an empty line
        result = run_self_preference(config, store, options, _Bar(bar))
    record = AuditStore(store).save("self-preference", title_for(result), result)
    if as_json:
        console.print_json(json.dumps({"audit_id": record.audit_id, **result}, ensure_ascii=False))
        return
    _print_self_preference(result)
    console.print(f"[dim]saved as audit {record.audit_id}[/dim]")


class _Bar:
    """The audit's progress, one bar per stage (answering, judging, recommending)."""

    def __init__(self, progress: Progress):
        self.progress, self.task = progress, None

    def start(self, label: str, total: int) -> None:
        self.task = self.progress.add_task(label, total=total)

    def advance(self) -> None:
        if self.task is not None:
            self.progress.advance(self.task)


def _print_self_preference(result: dict) -> None:
    if "judge" in result:
        console.print(_judge_table(result["judge"]))
    if "recommendation" in result:
        console.print(_recommendation_table(result["recommendation"]))
    if "routing" in result and result["routing"]["routes"]:
        console.print(_routing_table(result["routing"]))
    console.print("[bold]Findings[/bold]")
    for line in result["findings"]:
        console.print(f"- {line}", markup=False)
    if result.get("calls") is not None:
        console.print(f"[dim]{result['calls']} model calls (answers already in the response cache not counted), "
                      f"${result['spent_usd']:.6f}[/dim]")


def _judge_table(part: dict) -> Table:
    table = _table(f"Judge bias: {part['answers']} anonymised answers, {part['source']}",
                   ("judge", "vendor", "reference", "questions", "own bias", "ref. bias", "difference", "95% CI",
                    "d", "p", "unscored", "flagged"), text=3)
    for row in part["judges"]:
        table.add_row(row["judge"], row["vendor"], "neutral" if row["reference"] == "neutral vendors" else "mixed",
                      str(row["questions"]), _points(row["own_mean_bias"]), _points(row["reference_mean_bias"]),
                      _points(row["difference"]),
                      "–" if row["ci_low"] is None else f"{row['ci_low']:+.2f}…{row['ci_high']:+.2f}",
                      _number(row["cohens_d"]), _p(row["p_value"]), str(row["unparseable"] + row["failed"]),
                      _verdict(row))
    table.caption = ("bias: the judge's score − the mean score of judges from other vendors, same answer (1–10); "
                     "reference: answers from vendors no judge belongs to (neutral), else from the other judges' "
                     "(mixed); d: Cohen's d_z; unscored: no score could be read, or the call failed")
    return table


def _recommendation_table(part: dict) -> Table:
    table = _table(f"Recommendation bias: {part['prompts']} prompts (ko, en) × {part['repeats']}",
                   ("model", "own vendor", "named a vendor", "own-vendor share", "others' share", "difference",
                    "odds ratio", "p", "recommended most", "flagged"), text=2)
    for row in part["models"]:
        top = ", ".join(f"{vendor} {count}" for vendor, count in row["top"]) or "–"
        table.add_row(row["model"], row["own_vendor"] or f"? ({row['vendor'] or 'none'})",
                      f"{row['named']} of {row['answers']}", _share(row["own_share"]), _share(row["baseline_share"]),
                      _share(row["difference"], signed=True), _number(row["odds_ratio"]), _p(row["p_value"]), top,
                      _verdict(row))
    table.caption = "others' share: how often models from other vendors recommend this model's vendor, same prompts"
    return table


def _routing_table(part: dict) -> Table:
    since = f" since {part['since']}" if part["since"] else ""
    table = _table(f"Routing neutrality: {part['requests']} gateway request records{since}",
                   ("route", "policy", "model", "vendor", "expected", "observed", "served", "failures",
                    "fallbacks", "unexplained", "test", "flagged"), text=4)
    for route in part["routes"]:
        fit = route["decision_fit"] or route["served_fit"]
        test = "–" if fit is None else fit["method"] if fit["statistic"] is None else (
            f"χ²={fit['statistic']:.2f}, p{'' if fit['p_value'] < 0.001 else '='}{_p(fit['p_value'])}")
        for index, share in enumerate(route["models"]):
            first = index == 0
            table.add_row(route["route"] if first else "", (route["policy"] or "–") if first else "", share["model"],
                          share["vendor"], _share(share["expected_share"]), _share(share["observed_share"]),
                          str(share["served"]), str(share["failures"]),
                          str(share["fallbacks"]), str(share["unexplained"]), test if first else "",
                          (_verdict(route) if route["policy"] else "–") if first else "")
    return table


def _table(title: str, headers: tuple[str, ...], text: int) -> Table:
    """The first `text` columns are words (left-aligned); the rest are numbers or verdicts."""
    table = Table(title=title, title_justify="left")
    for index, header in enumerate(headers):
        wraps = header in ("vendor", "recommended most")  # the only columns allowed to take two lines
        table.add_column(header, justify="left" if index < text else "right", no_wrap=not wraps,
                         min_width=8 if wraps else None)
    return table


def _verdict(row: dict) -> str:
    testable = row.get("p_value") is not None or "unexplained" in row  # routes: counts, not always a p-value
    return "[red]yes[/red]" if row["flagged"] else "no" if testable else "not testable"


def _points(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f}"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _share(value: float | None, signed: bool = False) -> str:
    return "–" if value is None else f"{value:+.0%}" if signed else f"{value:.0%}"


def _p(value: float | None) -> str:
    return "–" if value is None else "<0.001" if value < 0.001 else f"{value:.3f}"


