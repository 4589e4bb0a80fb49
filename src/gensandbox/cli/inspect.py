"""`gensandbox show`, `runs`, `models`, `suites`: look at what is stored and what can be run."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from gensandbox.cli.output import ConfigOption, console, load, results_table

BY_HELP = "One row per model and suite, category or language."


class Breakdown(StrEnum):
    suite = "suite"
    category = "category"
    language = "language"


def show(
    run_id: Annotated[str, typer.Argument(help="The run to show (see `gensandbox runs`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    by: Annotated[Breakdown, typer.Option("--by", help=BY_HELP)] = Breakdown.suite,
    reasoning: Annotated[bool, typer.Option("--reasoning", help="What thinking costs and buys per model: "
                                            "reasoning and answer tokens, cost per correct answer, latency.")] = False,
    config_path: ConfigOption = None,
) -> None:
    """Show a run's results: score with 95% CI, latency, tokens and cost per model and suite (or category,
    or language)."""
    from gensandbox.runner import aggregate, results_json
    from gensandbox.runner.results import BREAKDOWNS
    from gensandbox.runner.selection import Selection

    config, store = load(config_path)
    run = store.get_run(run_id)
    if reasoning:
        _show_reasoning(run_id, store, as_json)
        return
    rows = aggregate(store.score_rows(run_id), BREAKDOWNS[by.value], resamples=config.file.run.bootstrap_resamples)
    selection = Selection.from_record(run.settings.get("selection"))
    if as_json:
        shown = results_json(run_id, rows, by.value)
        if selection:  # --limit / --sample: these scores are of some items only
            shown["selection"] = selection.record()
        print(json.dumps(shown, ensure_ascii=False, indent=2))
    else:
        console.print(results_table(run, rows, by.value))
        if selection:
            console.print(selection.describe(), markup=False)


def _show_reasoning(run_id: str, store, as_json: bool) -> None:
    from gensandbox.runner.reasoning_metrics import reasoning_metrics

    metrics = reasoning_metrics(store.samples(run_id))  # full samples: score rows lack first_answer_s
    if as_json:
        print(json.dumps({"run_id": run_id, "reasoning": [m.to_json() for m in metrics]}, ensure_ascii=False,
                         indent=2))
    else:
        console.print(reasoning_table(metrics))


def reasoning_table(metrics) -> Table:
    table = Table("model", "setting", "n", "accuracy", "reasoning tok mean/p90", "answer tok mean/p90", "cost/item",
                  "cost/correct", "p50 total", "p50 first answer", "acc/1k reasoning tok", title="Reasoning economics")
    table.columns[0].overflow = "fold"  # long model names wrap whole rather than lose their end
    for m in metrics:
        per_1k = m.accuracy_per_1k_reasoning_tokens
        table.add_row(m.base_model, m.setting or "–", str(m.n), _pct(m.accuracy),
                      f"{m.reasoning_tokens_mean:.1f} / {m.reasoning_tokens_p90:.0f}",
                      f"{m.answer_tokens_mean:.1f} / {m.answer_tokens_p90:.0f}", _usd(m.cost_per_item_usd),
                      _usd(m.cost_per_correct_usd), _secs(m.latency_p50_s), _secs(m.first_answer_p50_s),
                      "–" if per_1k is None else f"{per_1k:.3f}")
    return table


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _usd(value: float | None) -> str:
    return "–" if value is None else f"${value:.3g}"


def _secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def runs(config_path: ConfigOption = None) -> None:
    """List stored runs, newest first."""
    _, store = load(config_path)
    listed = store.list_runs()
    if not listed:
        console.print("No runs yet. Start one with: gensandbox run")
        return
    table = Table("run id", "started", "status", "models", "suites", "samples")
    for run in listed:
        table.add_row(run.run_id, run.created_at, run.status, ", ".join(m["name"] for m in run.models),
                      ", ".join(s["name"] for s in run.suites), str(store.count_samples(run.run_id)))
    console.print(table)


def models(config_path: ConfigOption = None) -> None:
    """List the models you can name in --models (built-in and from gensandbox.toml)."""
    from gensandbox.config import load_config

    config = load_config(config_path)
    table = Table("provider", "vendor", "origin", "weights", "prompting")
    table.add_column("name", no_wrap=True)
    for model in config.models.values():
        table.add_row(model.provider, model.vendor or "–", model.origin or "–",
                      model.weights or "–", model.prompt_style, model.name)
    for variant in config.variants.values():
        table.add_row("variant", "–", "–", "–", f"on {variant.base}", f"variant:{variant.name}")
    console.print(table)
    console.print("Any GGUF file also works as local:/path/to/model.gguf; `gensandbox variant list` shows each "
                  "variant's version")


def suites(config_path: ConfigOption = None) -> None:
    """List the suites you can name in --suites (built-in and from gensandbox.toml)."""
    from gensandbox.config import load_config
    from gensandbox.errors import UserError
    from gensandbox.runner import builtin_suite_names, resolve_suite

    config = load_config(config_path)
    rows, problems = [], {}
    for name in dict.fromkeys(builtin_suite_names() + [s.name for s in config.file.suites]):
        try:  # one missing or broken file must not hide the others
            suite = resolve_suite(name, config)
        except UserError as error:
            problems[name] = str(error).removeprefix(f"suite `{name}`: ")
            rows.append((name, "–", _configured_layout(config, name), "–", "–"))
            continue
        rows.append((name, f"{suite.count:,}", suite.layout, ", ".join(suite.languages), suite.license))
    table = Table("name", "items", "layout", "languages", "license")
    if problems:
        table.add_column("problem", style="red")
    for row in rows:
        table.add_row(*row, *([problems.get(row[0], "")] if problems else []))
    console.print(table)


def _configured_layout(config, name: str) -> str:
    from gensandbox.runner.formats import format_of

    entry = next((s for s in config.file.suites if s.name == name), None)
    if entry is None:
        return "jsonl"
    return entry.layout or format_of(config.resolve_path(entry.path)) or "–"
