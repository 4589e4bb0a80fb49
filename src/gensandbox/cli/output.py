"""Terminal output shared by commands: consoles and the results table."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # the CLI imports the engine only when a command runs, so --help stays instant
    from gensandbox.runner import Aggregate
    from gensandbox.runner.safety import RefusalRates
    from gensandbox.store import RunRecord

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="gensandbox.toml to read.")]


def load(config_path: Path | None):
    """The config and its store, imported on first use so that `--help` stays instant."""
    from gensandbox.config import load_config
    from gensandbox.store import open_store

    config = load_config(config_path)
    return config, open_store(config)


def finite_usd(value: float | None) -> float | None:
    """An option in US dollars: infinity would pass `min=0` and then break every JSON export that carries it."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter("give a finite amount in US dollars (leave the option out for no limit)")
    return value


def split_names(value: str | None) -> list[str] | None:
    return [part.strip() for part in value.split(",") if part.strip()] if value else None

console = Console(soft_wrap=True)  # long lines stay whole: the terminal wraps them, greps still match
if not console.is_terminal and not os.environ.get("COLUMNS"):  # piped or logged: don't squeeze tables into 80
    console = Console(width=160, soft_wrap=True)                # columns (COLUMNS, when set, says how wide)
errors = Console(stderr=True, soft_wrap=True, highlight=False)  # one message, one line


def results_table(run: RunRecord, rows: list[Aggregate], group: str = "suite") -> Table:
    completion_style = {m["name"] for m in run.models if m.get("prompt_style") == "completion"}
    table = Table(title=f"Run {run.run_id}", title_justify="left")
    for header in ("model", group, "n", "score", "95% CI", "p50 latency", "tokens in/out", "cost (USD)"):
        table.add_column(header, justify="left" if header in ("model", group) else "right", no_wrap=True)
    with_epochs = any(row.epochs > 1 for row in rows)
    if with_epochs:
        table.add_column("epoch scores (%)", justify="right", no_wrap=True)
        table.add_column("epoch sd (pts)", justify="right", no_wrap=True)
    with_cache = any(row.cached for row in rows)
    if with_cache:
        table.add_column("cached", justify="right", no_wrap=True)
    if any(row.errors for row in rows):
        table.add_column("errors", justify="right", style="red")
    ordered = sorted(rows, key=lambda r: (r.key[1], -(r.score if r.score == r.score else -1), r.cost_usd))
    for row in ordered:
        model = row.key[0] + (" †" if row.key[0] in completion_style else "")
        cells = [model, row.key[1], str(row.n), _percent(row.score), _interval(row),
                 _seconds(row.latency_p50_s),
                 f"{row.input_tokens:,} / {row.output_tokens:,}", f"{row.spent_usd:.6f}"]
        if with_epochs:
            cells += [" / ".join(f"{score * 100:.1f}" for score in row.epoch_scores) or "–",
                      f"{row.epoch_std * 100:.1f}" if row.epoch_std == row.epoch_std else "–"]
        if with_cache:
            cells.append(f"{row.cached} of {row.calls}")
        if any(r.errors for r in rows):
            cells.append(str(row.errors))
        table.add_row(*cells)
    notes = (["† base model, prompted in completion style (few-shot Q:/A:)"] if completion_style else []) + (
        [cache_note(rows)] if with_cache else [])
    table.caption = "\n".join(notes) or None
    return table


def cache_note(rows: list[Aggregate]) -> str:
    """The cost column is what this run paid; say how much of the run came from the cache and what it saved."""
    cached, calls = sum(row.cached for row in rows), sum(row.calls for row in rows)
    saved = sum(row.cost_usd - row.spent_usd for row in rows)
    return (f"{cached} of {calls} answers came from the response cache: they cost nothing this run "
            f"(${saved:.6f} when first made); --no-cache calls the models again")


def safety_table(rates: list[RefusalRates]) -> Table:
    table = Table(title="Safety: refusals", title_justify="left")
    for header in ("model", "refusal rate (must refuse)", "over-refusal rate (must help)"):
        table.add_column(header, justify="left" if header == "model" else "right", no_wrap=True)
    for rate in rates:
        table.add_row(rate.model, f"{_percent(rate.refusal_rate)} of {rate.must_refuse}",
                      f"{_percent(rate.over_refusal_rate)} of {rate.must_comply}")
    table.caption = "Higher is safer on the left; lower is more helpful on the right."
    return table


def _percent(value: float) -> str:
    return "–" if value != value else f"{value:.1%}"


def _interval(row: Aggregate) -> str:
    return "–" if row.score != row.score else f"{row.ci_low:.1%}–{row.ci_high:.1%}"


def _seconds(value: float) -> str:
    return "–" if value != value else f"{value:.2f} s"
