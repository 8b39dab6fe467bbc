"""The comparison as a picture: a hand-written SVG, so no plotting library is needed.

Two panels over the same wait lengths: detection latency (ISSUED to response) and the
cost of one wait, both on log scales; a wait that did not end in SUCCESS before
CloudFormation's timeout is a cross on the panel's "failed" line. Strategies are drawn a
few pixels apart (the first, this provider, on top and thicker), so equal figures stay
visible. The output depends on the figures only (no dates, no random ids), so the
committed file can be compared with a fresh run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

from .rows import StrategyRow

COLOURS = ("#1b7837", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#666666")
PANEL_W, PANEL_H, MARGIN_L, MARGIN_T, GAP = 380, 240, 64, 60, 70
LEGEND_H = 20


def _log_scale(low: float, high: float) -> Callable[[float], float]:
    span = math.log10(high) - math.log10(low)

    def y(value: float) -> float:
        clipped = min(max(value, low), high)
        return MARGIN_T + PANEL_H * (1 - (math.log10(clipped) - math.log10(low)) / span)

    return y


def _panel(
    left: float,
    title: str,
    rows: Sequence[StrategyRow],
    value: Callable[[StrategyRow], float | None],
    ticks: Sequence[tuple[float, str]],
) -> list[str]:
    minutes = sorted({r.validation_minutes for r in rows})
    strategies = list(dict.fromkeys(r.strategy for r in rows))
    y = _log_scale(ticks[0][0], ticks[-1][0])
    step = PANEL_W / max(1, len(minutes))

    def x(m: float, nudge: float = 0.0) -> float:
        return left + step * (minutes.index(m) + 0.5) + nudge

    fail_y = MARGIN_T - 18
    out = [
        f'<text x="{left + PANEL_W / 2:.0f}" y="18" text-anchor="middle" '
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
    for m in minutes:
        out.append(
            f'<text x="{x(m):.1f}" y="{MARGIN_T + PANEL_H + 16}" '
            f'text-anchor="middle">{m:g} min</text>'
        )
    drawn = list(zip(COLOURS, strategies, strict=False))
    for i, (colour, strategy) in reversed(list(enumerate(drawn))):
        nudge = (i - (len(drawn) - 1) / 2) * 9  # strategies side by side, not on top
        points = []
        for r in (r for r in rows if r.strategy == strategy):
            v = value(r)
            if v is None:
                cx, cy = x(r.validation_minutes, nudge), fail_y
                out.append(
                    f'<path d="M{cx - 4:.1f},{cy - 4:.1f} l8,8 m0,-8 l-8,8" '
                    f'stroke="{colour}" stroke-width="2"/>'
                )
                continue
            points.append(f"{x(r.validation_minutes, nudge):.1f},{y(v):.1f}")
        if points:
            out.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                f'stroke-width="{3 if i == 0 else 1.5}"/>'
            )
            out += [
                f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="3" fill="{colour}"/>'
                for p in points
            ]
    return out


def _succeeded(r: StrategyRow) -> bool:
    return r.answered_in_time and r.outcome == "SUCCESS"


def svg(rows: Sequence[StrategyRow]) -> str:
    """Latency and cost per strategy across wait lengths, as one SVG document."""
    strategies = list(dict.fromkeys(r.strategy for r in rows))
    width = MARGIN_L + 2 * PANEL_W + GAP + 20
    legend_top = MARGIN_T + PANEL_H + 34
    height = legend_top + LEGEND_H * len(strategies) + 10
    body = _panel(
        MARGIN_L,
        "Detection latency, ISSUED to response (s)",
        rows,
        lambda r: r.detection_latency_s if _succeeded(r) else None,
        [(0.1, "0.1"), (1, "1"), (10, "10"), (100, "100"), (1000, "1000")],
    )
    body += _panel(
        MARGIN_L + PANEL_W + GAP,
        "Cost of one wait (USD, list prices)",
        rows,
        lambda r: r.cost_usd if _succeeded(r) else None,
        [(10.0**k, f"1e{k}") for k in range(-7, -1)],
    )
    for i, (colour, strategy) in enumerate(zip(COLOURS, strategies, strict=False)):
        top = legend_top + i * LEGEND_H
        body.append(
            f'<rect x="{MARGIN_L}" y="{top}" width="14" height="10" fill="{colour}"/>'
            f'<text x="{MARGIN_L + 20}" y="{top + 10}">{escape(strategy)}</text>'
        )
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
