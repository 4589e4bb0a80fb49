"""`gensandbox trace`: an agent session's timeline from the ledger (ledger/traces.py), optionally also sent as
OpenTelemetry spans (OTLP/HTTP or an OTLP/JSON file; `gensandbox ledger spans` sends the whole ledger's)."""

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

SESSION_HELP = "The session: its x-gensandbox-session header or metadata.session_id."


def trace(
    session: Annotated[str, typer.Argument(help=SESSION_HELP)],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    otlp: Annotated[str | None, typer.Option("--otlp", metavar="ENDPOINT", help=OTLP_HELP)] = None,
    otlp_file: Annotated[Path | None, typer.Option("--otlp-file", metavar="PATH", help=FILE_HELP)] = None,
    config_path: ConfigOption = None,
) -> None:
    """Show an agent session's timeline: each model call and tool step, with tokens, cost and latency."""
    from gensandbox.ledger.traces import session_timeline

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
        return [offset, Text(label, style="cyan"), Text("–"), Text("–"), Text("–"), Text("–"), Text("–"),
                Text("–")]
    served = step.model if step.model == step.requested_model else f"{step.requested_model} → {step.model}"
    status = Text("ok") if step.status == "ok" else Text(f"error: {step.error or 'unknown'}", style="red")
    latency = "–" if step.latency_s is None else f"{step.latency_s:.2f} s"
    return [offset, Text(f"{indent}{served}"), Text(step.route or "–"),
            Text(f"{step.input_tokens:,} / {step.output_tokens:,}"), Text(f"{step.cost_usd:.6f}"), Text(latency),
            status, Text(step.span_id or "–")]


def summary_line(summary: Summary) -> str:
    errors_part = f", {summary.errors} failed" if summary.errors else ""
    return (f"{summary.calls} calls{errors_part}, {summary.tool_steps} tool steps, "
            f"{summary.total_tokens:,} tokens ({summary.input_tokens:,} in / {summary.output_tokens:,} out), "
            f"{summary.cost_usd:.6f} USD, {summary.wall_time_s:.2f} s wall time, "
            f"models: {', '.join(summary.models) or '–'}")
