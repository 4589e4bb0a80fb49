"""Rendering a run as one self-contained HTML file (inline CSS and SVG; opens offline)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from gensandbox.errors import UserError
from gensandbox.reports.chart import cost_vs_score_svg
from gensandbox.reports.view import ReportView


def _percent(value: float) -> str:
    return "–" if value != value else f"{value:.1%}"


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("gensandbox.reports", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    env.filters["pct"] = _percent
    env.filters["usd"] = lambda v: f"${v:.4g}" if v else "$0"
    env.filters["secs"] = lambda v: "–" if v != v else f"{v:.2f} s"
    return env


def render_report(view: ReportView) -> str:
    chart = cost_vs_score_svg(view.points, f"Cost versus score, run {view.run.run_id}")
    return _environment().get_template("report.html.j2").render(view=view, chart=chart)


def write_report(view: ReportView, path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_report(view), encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot write the report to {path}: {error.strerror}") from None
    return path
