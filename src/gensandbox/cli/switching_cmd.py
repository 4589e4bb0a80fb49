"""`gensandbox audit switching`: what moving from one model to others would cost, measured before it is made."""

from __future__ import annotations

from typing import Annotated

import typer

from gensandbox.cli.output import ConfigOption, finite_usd


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
    from gensandbox.cli.switching import audit_switching

    audit_switching(config_path, current, alternatives, workload, suite, judge, max_items, max_cost, as_json)
