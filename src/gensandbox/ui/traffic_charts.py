"""The traffic page's four charts as Vega-Lite specs: requests, errors, spend and latency over time, by model.

Pure functions of the language. The specs name their data ("traffic") instead of holding it: the page carries
the rows once, in a JSON block, and its script hands them to each chart, so the four charts never disagree.
Times are drawn in UTC, as the ledger writes them and as the page's time filter reads them.
"""

from __future__ import annotations

from gensandbox.reports.charts import SCHEMA
from gensandbox.ui.text import t

DATA_NAME = "traffic"
WIDTH, HEIGHT = 520, 180
TIME_FORMAT = "%Y-%m-%d %H:%M"
AXIS_TIME_FORMAT = "%m-%d %H:%M"
# A bar per bucket, stacked by model; the latency chart draws lines, p95 dashed above p50.
# name, field, tooltip format, axis format
STACKED = (("requests", "requests", ",d", ",d"), ("errors", "errors", ",d", ",d"),
           ("spend", "cost_usd", "$.6f", "$.2~g"))
CHART_FIELDS = {name: field for name, field, _, _ in STACKED} | {"latency": "latency_p50_s"}


def traffic_chart_specs(lang: str, span_ms: tuple[int, int] | None = None) -> dict[str, dict]:
    """Chart name -> spec; the page draws chart NAME into the element with id NAME-chart. `span_ms`: the time
    axis's ends (milliseconds since the epoch), so an hour with one busy minute still reads as an hour."""
    specs = {name: _stacked_spec(lang, name, field, tip, axis) for name, field, tip, axis in STACKED}
    specs["latency"] = _latency_spec(lang)
    if span_ms is not None:
        for spec in specs.values():
            spec["encoding"]["x"]["scale"]["domain"] = list(span_ms)
    return specs


def empty_charts(rows: list[dict]) -> set[str]:
    """The charts with nothing to draw in these rows (no errors, say): the page says so instead."""
    return {name for name, field in CHART_FIELDS.items() if not any(row[field] for row in rows)}


def _frame(lang: str, name: str) -> dict:
    return {"$schema": SCHEMA, "width": WIDTH, "height": HEIGHT, "data": {"name": DATA_NAME},
            "title": {"text": t(lang, f"traffic.chart.{name}"), "anchor": "start"},
            "config": {"legend": {"orient": "bottom", "columns": 3, "labelLimit": 260}}}


def _time_axis(lang: str, field: str = "start") -> dict:
    return {"field": field, "type": "temporal", "title": t(lang, "traffic.axis_time"), "scale": {"type": "utc"},
            "axis": {"labelOverlap": True, "format": AXIS_TIME_FORMAT}}  # a utc scale: labels in UTC


def _model(lang: str) -> dict:
    return {"field": "model", "type": "nominal", "title": t(lang, "col.model")}


def _tooltip(lang: str, field: str, title: str, number_format: str) -> list[dict]:
    return [{"field": "start", "type": "temporal", "title": t(lang, "traffic.axis_time"), "format": TIME_FORMAT,
             "formatType": "utc"},
            {"field": "model", "type": "nominal", "title": t(lang, "col.model")},
            {"field": field, "type": "quantitative", "title": title, "format": number_format}]


def _stacked_spec(lang: str, name: str, field: str, tip_format: str, axis_format: str) -> dict:
    """Bars from each bucket's start to its end; the models' stack is computed here because Vega-Lite does not
    stack bars whose x is a range."""
    title, counted = t(lang, f"traffic.axis.{name}"), axis_format == ",d"  # counts: no ticks at 0.5
    return {**_frame(lang, name),
            "transform": [{"filter": f"datum.{field} > 0"},
                          {"stack": field, "groupby": ["start"], "sort": [{"field": "model"}],
                           "as": ["stack_low", "stack_high"]}],
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {"x": _time_axis(lang), "x2": {"field": "end"},
                         "y": {"field": "stack_low", "type": "quantitative", "title": title,
                               "axis": {"format": axis_format} | ({"tickMinStep": 1} if counted else {})},
                         "y2": {"field": "stack_high"}, "color": _model(lang),
                         "tooltip": _tooltip(lang, field, title, tip_format)}}


def _latency_spec(lang: str) -> dict:
    title = t(lang, "traffic.axis.latency")
    percentile = {"field": "percentile", "type": "nominal", "title": t(lang, "traffic.percentile")}
    return {**_frame(lang, "latency"),
            "transform": [{"fold": ["latency_p50_s", "latency_p95_s"], "as": ["percentile_field", "latency_s"]},
                          {"filter": "isValid(datum.latency_s)"},
                          {"calculate": "datum.percentile_field === 'latency_p50_s' ? 'p50' : 'p95'",
                           "as": "percentile"}],
            "mark": {"type": "line", "point": True, "tooltip": True},
            "encoding": {"x": _time_axis(lang), "y": {"field": "latency_s", "type": "quantitative", "title": title},
                         "color": _model(lang),
                         "strokeDash": {**percentile, "scale": {"domain": ["p50", "p95"], "range": [[1, 0], [6, 3]]}},
                         "detail": {"field": "percentile"},
                         "tooltip": [*_tooltip(lang, "latency_s", title, ".3f"), percentile]}}


# How vega-embed draws them under the dashboard's Content-Security-Policy, which allows no inline styles and no
# eval: expressions are interpreted (ast), and the embed's and tooltip's styles come from ui.css, not from
# <style> elements they would insert. No actions menu: its editor link would leave the machine.
EMBED_OPTIONS = {"mode": "vega-lite", "renderer": "svg", "actions": False, "ast": True, "defaultStyle": False,
                 "tooltip": {"disableDefaultStyle": True}}
