"""Rendering a run as one self-contained HTML file: inline CSS, data and scripts (Vega included), so it
opens offline, from a mail attachment or a USB stick, and shows the same thing everywhere."""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from gensandbox.errors import UserError
from gensandbox.reports.charts import chart_specs
from gensandbox.reports.samples import TEXT_LIMIT, samples_payload
from gensandbox.reports.significance import verdict_key
from gensandbox.reports.text import check_language, client_text, t
from gensandbox.reports.vega import EMBED_OPTIONS, script_json, vega_bundle
from gensandbox.reports.view import ReportView
from gensandbox.runner.results import Aggregate

SETTINGS_SHOWN = ("max_tokens", "temperature", "epochs", "seed", "max_cost_usd", "price_table_version")


def _percent(value: float) -> str:
    return "–" if value != value else f"{value:.1%}"


def _usd(value: float) -> str:
    return "–" if value != value else (f"${value:.4g}" if value else "$0")


def _points(value: float) -> str:
    """A difference of scores in percentage points, signed: +3.1 pp."""
    return "–" if value != value else f"{value * 100:+.1f} pp"


def _p_value(value: float) -> str:
    return "–" if value != value else ("< 0.001" if value < 0.001 else f"{value:.3f}")


def _translator(lang: str):
    """The template's `tr`: the string escaped, with `command` spans shown as code."""
    def tr(key: str, **fmt) -> Markup:
        return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(t(lang, key, **fmt)))))
    return tr


@functools.cache  # one compiled template per process: the dashboard renders many pages
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("gensandbox.reports", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    env.filters |= {"identity": identity_text, "pct": _percent, "usd": _usd, "points": _points, "pvalue": _p_value,
                    "secs": lambda v: "–" if v != v else f"{v:.2f} s", "num": lambda v: f"{v:,}",
                    "opt_pct": lambda v: "–" if v is None else _percent(v),
                    "opt_usd": lambda v: "–" if v is None else _usd(v),
                    "opt_secs": lambda v: "–" if v is None or v != v else f"{v:.2f} s"}
    return env


def _asset(name: str) -> str:
    return resources.files("gensandbox.reports").joinpath("templates", name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class ModelCard:
    name: str
    info: dict
    row: Aggregate | None
    suites: list[tuple[str, Aggregate]]
    completion: bool
    on_frontier: bool
    price: str

    @property
    def per_thousand(self) -> float:
        counted = self.row.n + self.row.errors if self.row else 0
        return self.row.cost_usd / counted * 1000 if counted else float("nan")


def model_cards(view: ReportView, lang: str) -> list[ModelCard]:
    """One card per model: ranked models first, in ranking order, then any model with no rows at all."""
    rows = {row.key[0]: row for row in view.overall}
    names = list(rows) + [name for name in view.models if name not in rows]
    frontier = set(view.frontier_models)
    return [ModelCard(name=name, info=view.models.get(name, {}), row=rows.get(name),
                      suites=[(suite, r) for suite, suite_rows in view.per_suite.items() for r in suite_rows
                              if r.key[0] == name],
                      completion=view.is_completion_style(name), on_frontier=name in frontier,
                      price=price_text(view.models.get(name, {}).get("price") or {}, lang))
            for name in names]


def reasoning_frontier(view: ReportView) -> list[str]:
    """The sweep settings no other beats on accuracy and cost per item, cheapest first."""
    from gensandbox.runner.reasoning_metrics import frontier_models

    members = frontier_models(view.reasoning, lambda m: m.cost_per_item_usd)
    return [m.model for m in sorted(view.reasoning, key=lambda m: m.cost_per_item_usd) if m.model in members]


def identity_text(identity: dict | None) -> str:
    """What the model is, in one line: the weights file and its sha256, or the model id at its endpoint."""
    if not identity:
        return "–"
    if identity.get("gguf_sha256") or identity.get("file"):
        return f"{identity.get('file', '?')} (sha256 {str(identity.get('gguf_sha256') or '?')[:16]}…)"
    return f"{identity.get('model', '?')} @ {identity.get('endpoint', '?')}"


def price_text(price: dict, lang: str) -> str:
    if price.get("per_compute_hour_usd"):
        return t(lang, "price_compute", rate=f"{price['per_compute_hour_usd']:g}")
    if price.get("per_million_input_tokens_usd") is None and price.get("per_million_output_tokens_usd") is None:
        return t(lang, "not_set")
    return t(lang, "price_tokens", input=f"{price.get('per_million_input_tokens_usd') or 0:g}",
             output=f"{price.get('per_million_output_tokens_usd') or 0:g}")


def settings_rows(view: ReportView) -> list[tuple[str, str]]:
    settings = view.run.settings or {}
    rows = [(key, "–" if settings.get(key) is None else str(settings[key])) for key in SETTINGS_SHOWN
            if key in settings]
    versions = settings.get("versions") or {}
    if versions:
        rows.append(("versions", ", ".join(f"{name} {version}" for name, version in versions.items())))
    return rows


def selection_note(view: ReportView, lang: str) -> Markup | None:
    """Said at the top when the run took only some items of each suite (--limit, --sample); None otherwise."""
    chosen = (view.run.settings or {}).get("selection")
    if not chosen:
        return None
    tr = _translator(lang)
    if "limit" in chosen:
        return tr("selection_limit_one") if chosen["limit"] == 1 else tr("selection_limit", n=chosen["limit"])
    return tr("selection_sample", n=chosen["sample"], seed=chosen["seed"])


def empty_state(view: ReportView) -> str | None:
    """Which explanation replaces the numbers when there are none (a key of reports.text)."""
    if view.samples.total == 0:
        return "empty_no_samples"
    return None if view.scored else "empty_no_scores"


def render_report(view: ReportView, lang: str = "en") -> str:
    lang = check_language(lang)
    specs = chart_specs(view, lang)
    run = view.run
    manifest = {"run_id": run.run_id, "created_at": run.created_at, "finished_at": run.finished_at,
                "status": run.status, "models": run.models, "suites": run.suites, "settings": run.settings}
    return _environment().get_template("report.html.j2").render(
        view=view, lang=lang, tr=_translator(lang), verdict=verdict_key, specs=specs, empty=empty_state(view),
        ranks=view.rank_of, cards=model_cards(view, lang), settings=settings_rows(view),
        reasoning_frontier=reasoning_frontier(view), selection=selection_note(view, lang),
        any_completion=any(view.is_completion_style(row.key[0]) for row in view.overall),
        suites_text=", ".join(t(lang, "suite_items", name=s.get("name"), items=s.get("items")) for s in run.suites),
        text_limit=TEXT_LIMIT, manifest_json=json.dumps(manifest, ensure_ascii=False, indent=2, default=str),
        specs_json=script_json(specs), embed_json=script_json(EMBED_OPTIONS),
        samples_json=script_json(samples_payload(view.samples)), ui_json=script_json(client_text(lang)),
        css=_asset("report.css"), script=_asset("report.js"), bundle=vega_bundle())


def check_writable(path: Path, what: str = "the report") -> None:
    """Fail before the work, not after it: a report of a large run takes a while to build."""
    if path.is_dir():
        raise UserError(f"cannot write {what} to {path}: it is a directory")
    folder = next((p for p in [path.parent, *path.parent.parents] if p.exists()), None)
    if folder is not None and not folder.is_dir():
        raise UserError(f"cannot write {what} to {path}: {folder} is a file, not a folder")
    if folder is not None and not os.access(folder, os.W_OK):
        raise UserError(f"cannot write {what} to {path}: {folder} is not writable")


def write_report(view: ReportView, path: Path, lang: str = "en") -> Path:
    html = render_report(view, lang)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot write the report to {path}: {error.strerror}") from None
    return path
