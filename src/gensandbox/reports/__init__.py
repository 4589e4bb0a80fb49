"""Reports: a streaming view-model of a run, Vega-Lite chart specs, and one self-contained HTML file.

The dashboard reuses the same pieces read-only: `build_view` for the numbers, `chart_specs` for the
charts, `vega_bundle` for the script that draws them, `render_report` for the whole page.
"""

from gensandbox.reports.charts import chart_specs
from gensandbox.reports.html import render_report, write_report
from gensandbox.reports.text import LANGUAGES
from gensandbox.reports.vega import export_charts, vega_bundle
from gensandbox.reports.view import ReportView, build_view

__all__ = ["LANGUAGES", "ReportView", "build_view", "chart_specs", "export_charts", "render_report", "vega_bundle",
           "write_report"]
