"""The cost-versus-score chart as inline SVG: no JavaScript, no network, prints and opens anywhere."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 200, 20, 60


@dataclass(frozen=True)
class Point:
    label: str
    cost_usd: float
    score: float
    ci_low: float
    ci_high: float
    latency_p50_s: float
    domestic: bool
    open_weights: bool
    on_frontier: bool


def cost_vs_score_svg(points: list[Point], title: str) -> str:
    points = [p for p in points if not math.isnan(p.score)]
    if not points:
        return '<p class="empty">No scored items, so there is nothing to plot.</p>'
    x_of = _x_scale([p.cost_usd for p in points])
    y_of = lambda score: TOP + (1.0 - score) * (HEIGHT - TOP - BOTTOM)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)}" class="chart">']
    parts += _axes(x_of, y_of, [p.cost_usd for p in points])
    frontier = sorted((p for p in points if p.on_frontier), key=lambda p: p.cost_usd)
    if len(frontier) > 1:
        path = " ".join(f"{x_of(p.cost_usd):.1f},{y_of(p.score):.1f}" for p in frontier)
        parts.append(f'<polyline class="frontier" points="{path}" fill="none" stroke="#d9480f" '
                     'stroke-width="2" stroke-dasharray="6 4"/>')
    for point in points:
        parts += _marker(point, x_of(point.cost_usd), y_of)
    parts += _legend()
    parts.append("</svg>")
    return "\n".join(parts)


def _x_scale(costs: list[float]):
    low, high = min(costs), max(costs)
    span = WIDTH - LEFT - RIGHT
    positive = [c for c in costs if c > 0]
    if positive and high / min(positive) > 20:  # orders of magnitude apart: a log axis keeps all visible
        lo, hi = math.log10(min(positive)) - 0.2, math.log10(high) + 0.2
        return lambda c: LEFT + (math.log10(max(c, 10**lo)) - lo) / (hi - lo) * span
    pad = (high - low) * 0.15 or high * 0.5 or 1e-6
    lo, hi = max(0.0, low - pad), high + pad
    return lambda c: LEFT + (c - lo) / (hi - lo) * span


def _axes(x_of, y_of, costs: list[float]) -> list[str]:
    bottom = HEIGHT - BOTTOM
    parts = [f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#555"/>',
             f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#555"/>']
    for tick in range(0, 101, 20):
        y = y_of(tick / 100)
        parts.append(f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" class="tick">{tick}%</text>')
    for cost in sorted(set(costs)):
        x = x_of(cost)
        parts.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" stroke="#555"/>')
        parts.append(f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle" class="tick">'
                     f'${cost:.4g}</text>')
    parts.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 12}" text-anchor="middle" '
                 'class="axis">total cost of the run (USD) →</text>')
    parts.append(f'<text x="16" y="{(TOP + bottom) / 2}" text-anchor="middle" class="axis" '
                 f'transform="rotate(-90 16 {(TOP + bottom) / 2})">score ↑</text>')
    return parts


def _marker(point: Point, x: float, y_of) -> list[str]:
    colour = "#1c7ed6" if point.domestic else "#7048e8"
    fill = colour if point.open_weights else "white"
    y = y_of(point.score)
    # Labels go on the side with room, so the rightmost point's name does not run into the legend.
    right_half = x > (LEFT + WIDTH - RIGHT) / 2
    label_x, anchor = (x - 10, "end") if right_half else (x + 10, "start")
    title = (f"{point.label}: score {point.score:.1%} (95% CI {point.ci_low:.1%}–{point.ci_high:.1%}), "
             f"cost ${point.cost_usd:.4g}, p50 latency {point.latency_p50_s:.2f} s")
    return [
        f'<g class="point"><title>{escape(title)}</title>',
        f'<line x1="{x:.1f}" y1="{y_of(point.ci_low):.1f}" x2="{x:.1f}" y2="{y_of(point.ci_high):.1f}" '
        f'stroke="{colour}" stroke-width="2"/>',
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{fill}" stroke="{colour}" stroke-width="2"/>',
        f'<text x="{label_x:.1f}" y="{y - 8:.1f}" text-anchor="{anchor}" class="label">{escape(point.label)}</text>',
        f'<text x="{label_x:.1f}" y="{y + 14:.1f}" text-anchor="{anchor}" class="sub">'
        f'p50 {point.latency_p50_s:.2f} s</text>',
        "</g>",
    ]


def _legend() -> list[str]:
    x = WIDTH - RIGHT + 20
    rows = [("#1c7ed6", True, "domestic, open weights"), ("#7048e8", True, "foreign, open weights"),
            ("#1c7ed6", False, "domestic, closed"), ("#7048e8", False, "foreign, closed")]
    parts = []
    for i, (colour, filled, text) in enumerate(rows):
        y = TOP + 14 + i * 20
        parts.append(f'<circle cx="{x}" cy="{y}" r="5" fill="{colour if filled else "white"}" '
                     f'stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{x + 10}" y="{y + 4}" class="tick">{text}</text>')
    y = TOP + 14 + len(rows) * 20
    parts.append(f'<line x1="{x - 6}" y1="{y}" x2="{x + 6}" y2="{y}" stroke="#d9480f" stroke-width="2" '
                 'stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{x + 10}" y="{y + 4}" class="tick">Pareto frontier</text>')
    parts.append(f'<text x="{x - 6}" y="{y + 24}" class="tick">bars: 95% CI</text>')
    return parts
