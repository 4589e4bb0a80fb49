"""The report's charts as Vega-Lite specs: pure functions from the view-model to JSON-ready dicts.

The same dict is drawn in the page by vega-embed and exported to SVG/PNG by vl-convert, so a chart in a
document looks like the one on screen. Data travels inside each spec (no URLs), and NaN becomes null
because JSON has no NaN.
"""

from __future__ import annotations

import math

from gensandbox.reports.text import t
from gensandbox.reports.view import FrontierPoint, Matrix, ReportView

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier only: nothing fetches it
WIDTH = 640
FRONTIER_COLOUR = "#d9480f"
# Shapes and fills are fixed per category, so the same model looks the same in every report.
ORIGIN_SHAPES = {"domestic": "circle", "foreign": "triangle-up", "unknown": "square"}
WEIGHT_FILL = {"open": None, "closed": "white", "unknown": "#ced4da"}  # None: the model's colour
# A frontier chart's text keys: title, subtitle, cost axis, score axis.
FRONTIER_TEXT = ("frontier", "frontier_subtitle", "axis_cost", "axis_score")
AGENT_FRONTIER_TEXT = ("agent_frontier", "frontier_subtitle", "axis_agent_cost", "agent_success")


def chart_specs(view: ReportView, lang: str = "en") -> dict[str, dict]:
    """Chart name -> Vega-Lite spec; a chart with nothing to draw is left out (the page explains why).
    The page draws chart NAME into the element with id NAME-chart."""
    if not view.points:
        return {}
    specs = {"frontier": frontier_spec(view, lang), "leaderboard": leaderboard_spec(view, lang)}
    for name, grid, group in (("category", view.by_category, "group_category"),
                              ("language", view.by_language, "group_language")):
        if grid.columns:
            specs[name] = heatmap_spec(grid, view, lang, t(lang, f"heatmap_{name}"), t(lang, group))
    if view.agents and view.agents.points:
        specs["agent-frontier"] = frontier_spec(view, lang, view.agents.points, AGENT_FRONTIER_TEXT)
    if view.reasoning:
        from gensandbox.reports.reasoning_charts import reasoning_specs

        specs |= reasoning_specs(view.reasoning, lang)
    return specs


def label(view: ReportView, model: str) -> str:
    return model + (" †" if view.is_completion_style(model) else "")


def frontier_spec(view: ReportView, lang: str, points: list[FrontierPoint] | None = None,
                  texts: tuple[str, str, str, str] = FRONTIER_TEXT) -> dict:
    """Cost against quality for `points` (the leaderboard's by default; they come in rank order)."""
    points = view.points if points is None else points
    title, subtitle, cost_title, score_title = (t(lang, key) for key in texts)
    x = {"field": "cost", "type": "quantitative", "title": cost_title, "scale": cost_scale(points),
         "axis": {"format": "$.2~g", "labelOverlap": True}}
    y = {"field": "score", "type": "quantitative", "title": score_title,
         "scale": {"domain": [0, 1]}, "axis": {"format": ".0%"}}
    model = {"field": "label", "type": "nominal", "title": t(lang, "legend_model"),
             "scale": {"domain": [label(view, point.model) for point in points]}}
    sides = label_sides(points)
    return {
        "$schema": SCHEMA, "width": WIDTH, "height": 400,
        "data": {"values": [_frontier_datum(view, point, lang, sides[point.model]) for point in points]},
        "title": {"text": title, "subtitle": subtitle, "anchor": "start"},
        "layer": [
            _legend_layer(lang),
            {"transform": [{"filter": "datum.on_frontier"}],
             "mark": {"type": "line", "color": FRONTIER_COLOUR, "strokeDash": [6, 4], "strokeWidth": 2},
             "encoding": {"x": x, "y": y, "order": {"field": "cost", "type": "quantitative"}}},
            {"mark": {"type": "rule", "strokeWidth": 2},
             "encoding": {"x": x, "y": {"field": "ci_low", "type": "quantitative"}, "y2": {"field": "ci_high"},
                          "stroke": model}},
            {"mark": {"type": "point", "filled": True, "size": 160, "strokeWidth": 2.5, "opacity": 1},
             "encoding": {"x": x, "y": y, "stroke": model, "fill": _fill_by_weights(model),
                          "shape": _origin_shape(lang), "tooltip": _frontier_tooltip(lang)}},
            *_labels(x, y),
        ],
        # The weights legend has its own fill scale: filled/hollow must not share the models' colours.
        "resolve": {"scale": {"fill": "independent"}},
    }


def _origin_shape(lang: str) -> dict:
    return {"field": "origin", "type": "nominal", "title": t(lang, "legend_origin"),
            "scale": {"domain": [t(lang, key) for key in ORIGIN_SHAPES], "range": list(ORIGIN_SHAPES.values())}}


def _fill_by_weights(model: dict) -> dict:
    """Open weights: filled with the model's colour; closed: hollow; not stated: pale grey."""
    return model | {"legend": None, "condition": [
        {"test": f"datum.weights_key === '{key}'", "value": colour} for key, colour in WEIGHT_FILL.items()
        if key != "open"]}


def _legend_layer(lang: str) -> dict:
    """A layer that draws nothing (all rows filtered out) and exists for its legends, drawn in neutral grey:
    origin by shape, weights by filled or hollow. It comes first because the first layer styles a legend."""
    fill = {"field": "weights", "type": "nominal", "title": t(lang, "legend_weights"),
            "scale": {"domain": [t(lang, key) for key in WEIGHT_FILL],
                      "range": ["#495057", *list(WEIGHT_FILL.values())[1:]]},
            "legend": {"symbolStrokeColor": "#495057", "symbolStrokeWidth": 1.5}}
    return {"transform": [{"filter": "false"}], "mark": {"type": "point", "filled": True, "opacity": 1},
            "encoding": {"fill": fill, "shape": _origin_shape(lang)}}


def _labels(x: dict, y: dict) -> list[dict]:
    """Name and p50 latency beside each point; on its left when the point is in the right part of the plot,
    so the text stays inside the chart and off the legend."""
    layers = []
    for side, align, dx in (("left", "left", 11), ("right", "right", -11)):
        keep = {"filter": f"datum.label_side === '{side}'"}
        layers += [
            {"transform": [keep], "mark": {"type": "text", "align": align, "dx": dx, "dy": -7, "fontWeight": "bold"},
             "encoding": {"x": x, "y": y, "text": {"field": "label"}}},
            {"transform": [keep], "mark": {"type": "text", "align": align, "dx": dx, "dy": 8, "fontSize": 10,
                                           "color": "#868e96"},
             "encoding": {"x": x, "y": y, "text": {"field": "latency_label"}}},
        ]
    return layers


def cost_scale(points: list[FrontierPoint]) -> dict:
    """Costs orders of magnitude apart need a log axis to keep every model visible; symlog when a model
    cost nothing (a cached or free run), since log cannot show zero."""
    costs = [p.cost_usd for p in points]
    positive = [c for c in costs if c > 0]
    if positive and max(positive) / min(positive) > 20:
        if len(positive) < len(costs):
            return {"type": "symlog", "constant": min(positive)}
        return {"type": "log"}
    return {"zero": False, "nice": True, "padding": 24}


def label_sides(points: list[FrontierPoint]) -> dict[str, str]:
    """Which side of its point a model's name goes: the left for points in the right 40% of the cost axis."""
    scale = cost_scale(points)
    shift = scale.get("constant", 0.0)  # symlog is close to log10(cost + constant) at these magnitudes
    position = {p.model: math.log10(p.cost_usd + shift) if "type" in scale else p.cost_usd for p in points}
    low, high = min(position.values()), max(position.values())
    return {model: "right" if high > low and (value - low) / (high - low) > 0.6 else "left"
            for model, value in position.items()}


def _frontier_datum(view: ReportView, point: FrontierPoint, lang: str, side: str) -> dict:
    return {
        "model": point.model, "label": label(view, point.model), "cost": point.cost_usd,
        "score": finite(point.score), "ci_low": finite(point.ci_low), "ci_high": finite(point.ci_high),
        "latency": finite(point.latency_p50_s), "latency_label": f"p50 {seconds(point.latency_p50_s)}",
        "origin": t(lang, point.origin), "weights": t(lang, point.weights), "weights_key": point.weights,
        "label_side": side,
        "on_frontier": point.on_frontier,
    }


def _frontier_tooltip(lang: str) -> list[dict]:
    return [
        {"field": "model", "title": t(lang, "model")},
        {"field": "score", "type": "quantitative", "format": ".1%", "title": t(lang, "score")},
        {"field": "ci_low", "type": "quantitative", "format": ".1%", "title": f"{t(lang, 'ci')} ↓"},
        {"field": "ci_high", "type": "quantitative", "format": ".1%", "title": f"{t(lang, 'ci')} ↑"},
        {"field": "cost", "type": "quantitative", "format": "$.4~g", "title": t(lang, "cost")},
        {"field": "latency_label", "title": t(lang, "latency")},
        {"field": "origin", "title": t(lang, "origin")},
        {"field": "weights", "title": t(lang, "weights")},
    ]


def leaderboard_spec(view: ReportView, lang: str) -> dict:
    values = [{"label": label(view, row.key[0]), "score": finite(row.score), "ci_low": finite(row.ci_low),
               "ci_high": finite(row.ci_high), "n": row.n} for row in view.scored]
    y = {"field": "label", "type": "nominal", "title": None, "sort": [v["label"] for v in values]}
    x = {"field": "score", "type": "quantitative", "title": t(lang, "score"), "scale": {"domain": [0, 1]},
         "axis": {"format": ".0%"}}
    tooltip = [{"field": "label", "title": t(lang, "model")},
               {"field": "score", "type": "quantitative", "format": ".1%", "title": t(lang, "score")},
               {"field": "ci_low", "type": "quantitative", "format": ".1%", "title": f"{t(lang, 'ci')} ↓"},
               {"field": "ci_high", "type": "quantitative", "format": ".1%", "title": f"{t(lang, 'ci')} ↑"},
               {"field": "n", "title": t(lang, "n")}]
    return {
        "$schema": SCHEMA, "width": WIDTH, "height": {"step": 30}, "data": {"values": values},
        "title": {"text": t(lang, "leaderboard_chart"), "anchor": "start"},
        "layer": [
            {"mark": {"type": "rule", "strokeWidth": 3, "color": "#74c0fc"},
             "encoding": {"y": y, "x": {"field": "ci_low", "type": "quantitative"}, "x2": {"field": "ci_high"}}},
            {"mark": {"type": "point", "filled": True, "size": 90, "color": "#1864ab"},
             "encoding": {"y": y, "x": x, "tooltip": tooltip}},
            {"mark": {"type": "text", "align": "left", "dx": 8, "dy": -9, "fontSize": 11},
             "encoding": {"y": y, "x": x, "text": {"field": "score", "format": ".1%"}}},
        ],
    }


def heatmap_spec(grid: Matrix, view: ReportView, lang: str, title: str, group_title: str) -> dict:
    values = [{"label": label(view, model), "group": column, "score": finite(cell.score),
               "ci_low": finite(cell.ci_low), "ci_high": finite(cell.ci_high), "n": cell.n}
              for model, cells in grid.rows for column, cell in zip(grid.columns, cells, strict=True)
              if cell is not None and cell.score == cell.score]
    x = {"field": "group", "type": "nominal", "title": group_title, "sort": grid.columns,
         "axis": {"labelAngle": -30}}
    y = {"field": "label", "type": "nominal", "title": None, "sort": [label(view, m) for m, _ in grid.rows]}
    tooltip = [{"field": "label", "title": t(lang, "model")}, {"field": "group", "title": group_title},
               {"field": "score", "type": "quantitative", "format": ".1%", "title": t(lang, "score")},
               {"field": "ci_low", "type": "quantitative", "format": ".1%", "title": f"{t(lang, 'ci')} ↓"},
               {"field": "ci_high", "type": "quantitative", "format": ".1%", "title": f"{t(lang, 'ci')} ↑"},
               {"field": "n", "title": t(lang, "n")}]
    return {
        "$schema": SCHEMA, "width": {"step": max(48, min(110, WIDTH // max(1, len(grid.columns))))},
        "height": {"step": 32}, "data": {"values": values}, "title": {"text": title, "anchor": "start"},
        "encoding": {"x": x, "y": y},
        "layer": [
            {"mark": "rect", "encoding": {
                "color": {"field": "score", "type": "quantitative", "title": t(lang, "score"),
                          "scale": {"domain": [0, 1], "scheme": "blues"}, "legend": {"format": ".0%"}},
                "tooltip": tooltip}},
            {"mark": {"type": "text", "fontSize": 11}, "encoding": {
                "text": {"field": "score", "type": "quantitative", "format": ".0%"},
                "color": {"condition": {"test": "datum.score > 0.6", "value": "white"}, "value": "#212529"}}},
        ],
    }


def finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) else value


def seconds(value: float) -> str:
    return "–" if value != value else f"{value:.2f} s"
