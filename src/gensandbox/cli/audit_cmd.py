"""`gensandbox audit …`: policy audits, each saved to the audit store for the report and the dashboard.

One Typer sub-app; each command's signature lives here and imports the engine only when it runs, so that
`gensandbox --help` stays instant. Add further audit commands below the self-preference section.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gensandbox.cli.output import ConfigOption, console, errors, load, split_names

audit_app = typer.Typer(help="Policy audits: what a switch would cost, and whether judges, recommendations "
                        "or routes favour their own vendor.", no_args_is_help=True,
                        rich_markup_mode=None)


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


# `audit switching` lives in switching_cmd.py; cli/app.py adds it to this group.

