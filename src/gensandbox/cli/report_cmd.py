"""`gensandbox report`: one self-contained HTML file for a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gensandbox.cli.output import ConfigOption, console, load


def report(
    run_id: Annotated[str, typer.Argument(help="The run to report on (see `gensandbox runs`).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path("report.html"),
    config_path: ConfigOption = None,
) -> None:
    """Write a run's HTML report: leaderboard, cost-vs-score frontier, per-category scores."""
    from gensandbox.reports import build_view, write_report

    config, store = load(config_path)
    view = build_view(store.get_run(run_id), store, resamples=config.file.run.bootstrap_resamples)
    console.print(f"report: {write_report(view, output).resolve()}")
