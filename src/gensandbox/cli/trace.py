"""`gensandbox trace`: an agent session's timeline from the ledger (ledger/traces.py), optionally also sent as
OpenTelemetry spans (OTLP/HTTP or an OTLP/JSON file; `gensandbox ledger spans` sends the whole ledger's), and
`gensandbox trace --run RUN_ID`: the sessions of a run's agent episodes, to pick one from."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gensandbox.cli.ledger import FILE_HELP, OTLP_HELP
from gensandbox.cli.output import ConfigOption, console, errors

if TYPE_CHECKING:  # the CLI imports the engine only when a command runs, so --help stays instant
    from gensandbox.ledger.traces import Summary, Timeline
    from gensandbox.runner.agent_metrics import EpisodeRow

SESSION_HELP = ("The session: its x-gensandbox-session header or metadata.session_id, or an evaluation episode's "
                "RUN_ID/MODEL/SUITE/ITEM#EPOCH (`--run RUN_ID` lists them).")
RUN_HELP = "List the sessions of this run's agent episodes instead."
NEED_ONE = ("give a SESSION to show, or --run RUN_ID to list a run's agent sessions "
            "(e.g. gensandbox trace --run RUN_ID)")


def trace(
    session: Annotated[str | None, typer.Argument(help=SESSION_HELP)] = None,
    run_id: Annotated[str | None, typer.Option("--run", metavar="RUN_ID", help=RUN_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    otlp: Annotated[str | None, typer.Option("--otlp", metavar="ENDPOINT", help=OTLP_HELP)] = None,
    otlp_file: Annotated[Path | None, typer.Option("--otlp-file", metavar="PATH", help=FILE_HELP)] = None,
    config_path: ConfigOption = None,
) -> None:
    """Show an agent session's timeline: each model call and tool step, with tokens, cost and latency."""
    from gensandbox.errors import UserError
    from gensandbox.ledger.traces import session_timeline

    if (session is None) == (run_id is None):
        raise UserError(NEED_ONE if session is None else "give a SESSION or --run RUN_ID, not both")
    if run_id is not None:
        _list_sessions(config_path, run_id, as_json)
        return

    records = _session_records(config_path, session)
    timeline = session_timeline(session, records)
    if as_json:
        print(json.dumps(timeline_json(timeline), ensure_ascii=False, indent=2))
    else:
        console.print(timeline_table(timeline))
        console.print(summary_line(timeline.summary), markup=False, highlight=False)
    # With --json, stdout stays pure JSON: the export's note goes to stderr.
    export_spans(lambda: iter(records), otlp, otlp_file, errors if as_json else console)


def _session_records(config_path: Path | None, session: str) -> list[dict]:
    from gensandbox.config import load_config
    from gensandbox.ledger.reading import session_calls
    from gensandbox.ledger.writer import open_backend

    backend = open_backend(load_config(config_path).ledger_url)
    try:
        return session_calls(backend, session)
    finally:
        backend.close()


def _list_sessions(config_path: Path | None, run_id: str, as_json: bool) -> None:
    from gensandbox.cli.output import load
    from gensandbox.runner.agent_metrics import episode_rows

    _, store = load(config_path)
    try:
        store.get_run(run_id)  # an unknown run is an error, not an empty list
        rows = episode_rows(store.samples(run_id))
    finally:
        store.close()
    if as_json:
        print(json.dumps([asdict(row) for row in rows], ensure_ascii=False, indent=2))
    elif not rows:
        console.print(f"Run {run_id} has no agent tasks, so no episode sessions.", markup=False, highlight=False)
    else:
        console.print(sessions_table(run_id, rows))


def sessions_table(run_id: str, rows: list[EpisodeRow]) -> Table:
    table = Table(title=f"Agent sessions of run {run_id}", title_justify="left",
                  caption="show one with: gensandbox trace SESSION")
    for header in ("session", "model", "score", "model calls", "tool calls", "invalid", "ended", "attack"):
        table.add_column(header, justify="right" if header in ("score", "model calls", "tool calls", "invalid")
                         else "left", no_wrap=header == "session")
    for row in rows:
        attack = "–" if row.attack_succeeded is None else ("worked" if row.attack_succeeded else "failed")
        table.add_row(Text(row.session), Text(row.model), Text("–" if row.score is None else f"{row.score:g}"),
                      Text(str(row.model_calls)), Text(str(row.tool_calls)), Text(str(row.invalid_calls)),
                      Text(row.end), Text(attack))
    return table


def export_spans(records, otlp: str | None, otlp_file: Path | None, out: Console) -> None:
    """`records` makes a fresh iterator per destination, so a streamed ledger can be read twice."""
    from gensandbox.ledger.otel import export_file, export_otlp

    if otlp:
        out.print(f"exported {_spans(export_otlp(records(), otlp))} to {otlp}", markup=False, highlight=False)
    if otlp_file:
        out.print(f"wrote {_spans(export_file(records(), otlp_file))} to {otlp_file}", markup=False, highlight=False)


def _spans(count: int) -> str:
    return f"{count:,} span" + ("" if count == 1 else "s")


# ---- Showing a timeline ----


def timeline_json(timeline: Timeline) -> dict:
    return {"session": timeline.session, "trace_ids": timeline.trace_ids,
            "steps": [asdict(step) for step in timeline.steps], "summary": asdict(timeline.summary)}


def timeline_table(timeline: Timeline) -> Table:
    table = Table(title=f"Session {timeline.session}", title_justify="left")
    for header in ("offset", "step", "route", "tokens in/out", "cost (USD)", "latency", "status", "span"):
        table.add_column(header, justify="right" if header in ("offset", "tokens in/out", "cost (USD)", "latency")
                         else "left", no_wrap=header != "step")
    for step in timeline.steps:
        table.add_row(*_row(step))
    if timeline.trace_ids:
        table.caption = "trace " + ", ".join(timeline.trace_ids)
    return table


def _row(step) -> list[Text]:
    """Cells are Text, not markup: model and tool names come from callers and may hold brackets."""
    indent = "  " * step.depth + ("└ " if step.depth else "")
    offset = Text(f"+{step.offset_ms:,.0f} ms")
    if step.kind == "tool":
        label = f"{indent}tool {step.name}" + (f" ({step.call_id})" if step.call_id else "")
        latency = "–" if step.latency_s is None else f"{step.latency_s:.3f} s"
        return [offset, Text(label, style="cyan"), Text("–"), Text("–"), Text("–"), Text(latency),
                _tool_status(step), Text("–")]
    served = step.model if step.model == step.requested_model else f"{step.requested_model} → {step.model}"
    status = Text("ok") if step.status == "ok" else Text(f"error: {step.error or 'unknown'}", style="red")
    latency = "–" if step.latency_s is None else f"{step.latency_s:.2f} s"
    return [offset, Text(f"{indent}{served}"), Text(step.route or "–"),
            Text(f"{step.input_tokens:,} / {step.output_tokens:,}"), Text(f"{step.cost_usd:.6f}"), Text(latency),
            status, Text(step.span_id or "–")]


def _tool_status(step) -> Text:
    """An executed tool's outcome; a tool result an agent sent through the gateway has none the ledger saw."""
    if step.latency_s is None and step.state_sha256 is None:
        return Text("–")
    if step.status == "ok":
        return Text("ok")
    return Text(f"{step.status}: {step.error}" if step.error else step.status, style="red")


def summary_line(summary: Summary) -> str:
    errors_part = f", {summary.errors} failed" if summary.errors else ""
    return (f"{_count(summary.calls, 'call')}{errors_part}, {_count(summary.tool_steps, 'tool step')}, "
            f"{summary.total_tokens:,} tokens ({summary.input_tokens:,} in / {summary.output_tokens:,} out), "
            f"{summary.cost_usd:.6f} USD, {summary.wall_time_s:.2f} s wall time, "
            f"models: {', '.join(summary.models) or '–'}")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
