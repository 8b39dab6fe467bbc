"""The comparison as a picture: a hand-written SVG, so no plotting library is needed.

Three panels: detection latency and the cost of one wait across wait lengths (log
scales), and the crowd panel, DescribeCertificate attempts throttled per crowd size. Each
point is the median across seeds with a bar from p10 to p90. A wait length where a
strategy did not answer SUCCESS in most seeds is drawn as a failure above the panel: a
ring for FAILED in time (CloudFormation learns it), a cross for no answer before the
timeout (the stack waits for an hour). The caption names the seeds and says the time is
simulated. The output depends on the figures only, so the committed file can be compared
with a fresh run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

from .rows import CrowdRow, Dist, StrategyRow

COLOURS = (
    *("#1b7837", "#d95f02", "#a6761d", "#7570b3", "#4c2e8f"),
    *("#e7298a", "#9e1a5b", "#66a61e", "#666666"),
)
PANEL_W, PANEL_H, MARGIN_L, MARGIN_T, GAP = 330, 240, 64, 70, 74
LEGEND_H = 18


def _log_scale(low: float, high: float) -> Callable[[float], float]:
    span = math.log10(high) - math.log10(low)

    def y(value: float) -> float:
        clipped = min(max(value, low), high)
        return MARGIN_T + PANEL_H * (1 - (math.log10(clipped) - math.log10(low)) / span)

    return y


Point = tuple[str, float, Dist | None, str]
"""(strategy, x category, the figure, failure kind: "" | "failed" | "none")."""


def _panel(
    left: float,
    title: str,
    points: Sequence[Point],
    categories: Sequence[float],
    unit: str,
    ticks: Sequence[tuple[float, str]],
    strategies: Sequence[str],
) -> list[str]:
    y = _log_scale(ticks[0][0], ticks[-1][0])
    step = PANEL_W / max(1, len(categories))

    def x(category: float, nudge: float = 0.0) -> float:
        return left + step * (categories.index(category) + 0.5) + nudge

    fail_y = MARGIN_T - 18
    out = [
        f'<text x="{left + PANEL_W / 2:.0f}" y="30" text-anchor="middle" '
        f'font-weight="bold">{escape(title)}</text>',
        f'<rect x="{left}" y="{MARGIN_T}" width="{PANEL_W}" height="{PANEL_H}" '
        'fill="none" stroke="#999"/>',
        f'<text x="{left - 6}" y="{fail_y + 4}" text-anchor="end" fill="#b00">failed</text>',
    ]
    for tick, label in ticks:
        out.append(
            f'<line x1="{left}" x2="{left + PANEL_W}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            'stroke="#eee"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{label}</text>'
        )
    for c in categories:
        out.append(
            f'<text x="{x(c):.1f}" y="{MARGIN_T + PANEL_H + 16}" '
            f'text-anchor="middle">{c:g}{unit}</text>'
        )
    width = min(7.0, (step - 6) / max(1, len(strategies)))
    for i, strategy in reversed(list(enumerate(strategies))):
        colour = COLOURS[i % len(COLOURS)]
        nudge = (i - (len(strategies) - 1) / 2) * width
        line = []
        for name, category, dist, failure in points:
            if name != strategy:
                continue
            cx = x(category, nudge)
            if failure == "none":
                out.append(
                    f'<path d="M{cx - 3:.1f},{fail_y - 3:.1f} l6,6 m0,-6 l-6,6" '
                    f'stroke="{colour}" stroke-width="2"/>'
                )
            elif failure == "failed":
                out.append(
                    f'<circle cx="{cx:.1f}" cy="{fail_y:.1f}" r="3" fill="none" '
                    f'stroke="{colour}" stroke-width="1.5"/>'
                )
            if dist is None or failure:
                continue
            out.append(
                f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(dist.p10):.1f}" '
                f'y2="{y(dist.p90):.1f}" stroke="{colour}" stroke-width="3" opacity="0.35"/>'
                f'<circle cx="{cx:.1f}" cy="{y(dist.median):.1f}" r="3" fill="{colour}"/>'
            )
            line.append(f"{cx:.1f},{y(dist.median):.1f}")
        if len(line) > 1:
            out.append(
                f'<polyline points="{" ".join(line)}" fill="none" stroke="{colour}" '
                f'stroke-width="{2.5 if i == 0 else 1}" opacity="0.8"/>'
            )
    return out


def _failure(r: StrategyRow) -> str:
    if r.succeeded * 2 > r.seeds:
        return ""
    return "none" if r.unanswered >= r.failed_in_time else "failed"


def svg(rows: Sequence[StrategyRow], crowds: Sequence[CrowdRow], seeds: Sequence[int]) -> str:
    """Latency, cost and crowd panels, one SVG document."""
    strategies = list(dict.fromkeys([r.strategy for r in rows] + [c.strategy for c in crowds]))
    minutes = sorted({r.minutes for r in rows})
    sizes = sorted({float(c.size) for c in crowds})
    width = MARGIN_L + 3 * PANEL_W + 2 * GAP + 20
    legend_top = MARGIN_T + PANEL_H + 34
    height = legend_top + LEGEND_H * math.ceil(len(strategies) / 2) + 40
    latency = [(r.strategy, r.minutes, r.latency_s, _failure(r)) for r in rows]
    cost = [(r.strategy, r.minutes, r.cost_usd, _failure(r)) for r in rows]
    throttled = [(c.strategy, float(c.size), _floor(c.throttled_percent, 0.01), "") for c in crowds]
    body = _panel(
        MARGIN_L,
        "Latency, ISSUED visible to answer (s)",
        latency,
        minutes,
        " min",
        [(0.1, "0.1"), (1, "1"), (10, "10"), (100, "100"), (1000, "1000")],
        strategies,
    )
    body += _panel(
        MARGIN_L + PANEL_W + GAP,
        "Cost of one wait (USD, list prices)",
        cost,
        minutes,
        " min",
        [(10.0**k, f"1e{k}") for k in range(-7, 0)],
        strategies,
    )
    body += _panel(
        MARGIN_L + 2 * (PANEL_W + GAP),
        "Crowds: DescribeCertificate throttled (%)",
        throttled,
        sizes,
        " at once",
        [(0.01, "0.01"), (0.1, "0.1"), (1, "1"), (10, "10"), (100, "100")],
        strategies,
    )
    for i, strategy in enumerate(strategies):
        left = MARGIN_L + (i % 2) * (PANEL_W + GAP)
        top = legend_top + (i // 2) * LEGEND_H
        body.append(
            f'<rect x="{left}" y="{top}" width="14" height="10" '
            f'fill="{COLOURS[i % len(COLOURS)]}"/>'
            f'<text x="{left + 20}" y="{top + 10}">{escape(strategy)}</text>'
        )
    caption = (
        f"Simulated time, {len(seeds)} seeds ({seeds[0]}-{seeds[-1]}): dot = median, bar = "
        "p10-p90 across seeds; ring = FAILED in time, cross = no answer before "
        "CloudFormation's timeout (most seeds); 0 % throttled drawn at 0.01."
    )
    body.append(f'<text x="{MARGIN_L}" y="{height - 14}">{escape(caption)}</text>')
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
            f'<rect width="{width}" height="{height}" fill="white"/>',
            *body,
            "</svg>",
            "",
        ]
    )


def _floor(d: Dist, low: float) -> Dist:
    return Dist(max(d.median, low), max(d.p10, low), max(d.p90, low), d.low, d.high)
