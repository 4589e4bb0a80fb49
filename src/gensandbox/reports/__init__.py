"""Reports: a pure view-model plus Jinja2 HTML."""

from gensandbox.reports.html import render_report, write_report
from gensandbox.reports.view import ReportView, build_view

__all__ = ["ReportView", "build_view", "render_report", "write_report"]
