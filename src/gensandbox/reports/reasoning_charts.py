"""The thinking-sweep charts: accuracy against cost per item and against output tokens per item, one line per
base model through its settings, and the Pareto frontier across every point (pure Vega-Lite specs)."""

from __future__ import annotations

from gensandbox.reports.text import t
from gensandbox.runner.reasoning_metrics import ReasoningMetrics, frontier_models

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
FRONTIER_COLOUR = "#d9480f"
AXES = {  # chart name -> (the x value of a point, its axis title key, its title key, its number format)
    "reasoning-cost": (lambda m: m.cost_per_item_usd, "axis_cost_per_item", "reasoning_cost_chart", "$.2~g"),
    "reasoning-tokens": (lambda m: m.output_tokens_per_item, "axis_tokens_per_item", "reasoning_tokens_chart", ",.0f"),
}


def reasoning_specs(metrics: list[ReasoningMetrics], lang: str) -> dict[str, dict]:
    """Chart name -> spec; the page draws NAME into the element with id NAME-chart."""
    scored = [m for m in metrics if m.accuracy is not None]
    if not scored:
        return {}
    return {name: _spec(scored, lang, *axis) for name, axis in AXES.items()}


def x_scale(values: list[float]) -> dict:
    """Settings can be orders of magnitude apart (a direct answer against three sampled chains of thought): a log
    axis keeps each visible; symlog when one is zero, since log cannot show zero."""
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) > 20:
        return {"type": "symlog", "constant": min(positive)} if len(positive) < len(values) else {"type": "log"}
    return {"zero": False, "nice": True, "padding": 24}


def _spec(metrics: list[ReasoningMetrics], lang: str, x_of, axis_key: str, title_key: str, number: str) -> dict:
    on_frontier = frontier_models(metrics, x_of)
    values = [{"model": m.model, "base": m.base_model, "setting": m.setting or "–", "x": x_of(m),
               "accuracy": m.accuracy, "on_frontier": m.model in on_frontier} for m in metrics]
    x = {"field": "x", "type": "quantitative", "title": t(lang, axis_key), "scale": x_scale([v["x"] for v in values]),
         "axis": {"format": number}}
    y = {"field": "accuracy", "type": "quantitative", "title": t(lang, "axis_accuracy"), "scale": {"domain": [0, 1]},
         "axis": {"format": ".0%"}}
    colour = {"field": "base", "type": "nominal", "title": t(lang, "legend_model")}
    tooltip = [{"field": "base", "title": t(lang, "model")}, {"field": "setting", "title": t(lang, "sweep_setting")},
               {"field": "accuracy", "type": "quantitative", "format": ".1%", "title": t(lang, "axis_accuracy")},
               {"field": "x", "type": "quantitative", "format": number, "title": t(lang, axis_key)}]
    return {
        "$schema": SCHEMA, "width": 640, "height": 360, "data": {"values": values},
        "title": {"text": t(lang, title_key), "subtitle": t(lang, "frontier_subtitle").split(" · ")[0],
                  "anchor": "start"},
        "layer": [
            {"mark": {"type": "line", "strokeWidth": 2},
             "encoding": {"x": x, "y": y, "color": colour, "order": {"field": "x", "type": "quantitative"}}},
            {"transform": [{"filter": "datum.on_frontier"}],
             "mark": {"type": "line", "color": FRONTIER_COLOUR, "strokeDash": [6, 4], "strokeWidth": 2},
             "encoding": {"x": x, "y": y, "order": {"field": "x", "type": "quantitative"}}},
            {"mark": {"type": "point", "filled": True, "size": 110},
             "encoding": {"x": x, "y": y, "color": colour, "tooltip": tooltip}},
            {"mark": {"type": "text", "align": "left", "dx": 8, "dy": -8, "fontSize": 11},
             "encoding": {"x": x, "y": y, "text": {"field": "setting"}}},
        ],
    }
