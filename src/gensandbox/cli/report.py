"""`gensandbox report`: one self-contained HTML file for a run, and its charts as SVG/PNG on request."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gensandbox.cli.output import ConfigOption, console, load

if TYPE_CHECKING:  # the CLI imports the engine only when a command runs, so --help stays instant
    from gensandbox.store import RunRecord, Store

LANG_HELP = "Language of the report: en or ko."
CHARTS_HELP = "Also write each chart as NAME.svg and NAME.png into this folder (for documents)."


def report(
    run_id: Annotated[str, typer.Argument(help="The run to report on (see `gensandbox runs`).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path("report.html"),
    lang: Annotated[str, typer.Option("--lang", help=LANG_HELP)] = "en",
    charts: Annotated[Path | None, typer.Option("--charts", metavar="DIR", help=CHARTS_HELP)] = None,
    config_path: ConfigOption = None,
) -> None:
    """Write a run's HTML report: leaderboard, cost-quality frontier, breakdowns, samples, model cards."""
    from gensandbox.reports.html import check_writable
    from gensandbox.reports.text import check_language

    check_language(lang)  # every cheap check before the slow part
    check_writable(output)
    if charts is not None:
        check_writable(charts / "frontier.svg", "the charts")
    config, store = load(config_path)
    run = store.get_run(run_id)
    written = _write_with_progress(run, store, config.file.run.bootstrap_resamples, output, lang, charts)
    console.print(f"report: {output.resolve()}")
    if charts is not None:
        console.print(f"charts: {len(written)} files in {charts.resolve()}" if written else
                      "charts: none written (no scored items to plot)")


def _write_with_progress(run: RunRecord, store: Store, resamples: int, output: Path, lang: str,
                         charts: Path | None) -> list[Path]:
    """Build, write and export under one progress bar; returns the chart files written."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from gensandbox.reports import build_view, chart_specs, export_charts, write_report
    from gensandbox.reports.view import STEPS

    columns = (SpinnerColumn(), TextColumn("report: {task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    # Piped or logged: no live bar (it would leave only a blank line); the result line says it all.
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("starting", total=len(STEPS) + 1 + (charts is not None))
        view = build_view(run, store, resamples=resamples,
                          progress=lambda name: progress.update(task, description=name, completed=STEPS.index(name)))
        progress.update(task, completed=len(STEPS), description="writing the page")
        write_report(view, output, lang)
        if charts is None:
            return []
        progress.update(task, advance=1, description="exporting charts")
        return export_charts(chart_specs(view, lang), charts)
