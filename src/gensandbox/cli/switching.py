"""What `gensandbox audit switching` shows: the audit (audits/switching.py) on the console, as a table or JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.table import Table

from gensandbox.audits.switching import SwitchingReport, Tokenizer
from gensandbox.audits.switching import audit_switching as run_audit
from gensandbox.cli.output import console, split_names
from gensandbox.cli.run import ConsoleObserver
from gensandbox.config import load_config


def audit_switching(config_path: Path | None, current: str, alternatives: str, workload: str | None,
                    suite: str | None, judge: str | None, max_items: int, max_cost: float | None,
                    as_json: bool) -> None:
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
