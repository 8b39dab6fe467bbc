"""The comparison as Markdown, and the generated block of ``TARGET`` that holds it.

``make bench ARGS=--write-readme`` rewrites what lies between the two markers; a test
checks that the committed block is what the bench prints for the default seed, so the
published figures are never retyped by hand.
"""

from __future__ import annotations

import posixpath
import statistics
from pathlib import Path

from .cases import BenchReport
from .pricing import PRICES_CHECKED, SOURCES
from .rows import CrowdRow, StrategyRow

BEGIN = "<!-- bench:begin (written by `make bench ARGS=--write-readme`; do not edit) -->"
END = "<!-- bench:end -->"
TARGET = "docs/benchmark.md"
"""The page, relative to the repository, whose generated block the bench rewrites."""
CHART = "docs/bench.svg"


def _n(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _usd(value: float) -> str:
    return f"{value:.5f}"


def strategy_table(rows: list[StrategyRow]) -> list[str]:
    lines = [
        "| strategy | validated after | outcome | latency s | invocations | GB-s "
        "| state transitions | scheduled events | cost USD | DescribeCertificate "
        "| answered before ServiceTimeout |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.strategy} | {r.validation_minutes:g} min | {r.outcome} "
        f"| {_n(r.detection_latency_s)} | {r.invocations} | {r.gb_s:.1f} "
        f"| {r.state_transitions} | {r.scheduled_events} | {_usd(r.cost_usd)} "
        f"| {r.describe_calls} | {'yes' if r.answered_in_time else '**no**'} |"
        for r in rows
    ]
    return lines


def crowd_table(rows: list[CrowdRow]) -> list[str]:
    if not rows:
        return []
    first = rows[0]
    lines = [
        "",
        f"{first.resources} resources at once, all validated after {first.minutes:g} min:",
        "",
        "| strategy | SUCCESS before ServiceTimeout | throttled DescribeCertificate attempts "
        "| DescribeCertificate attempts | cost USD per wait |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.strategy} | {r.succeeded}/{r.resources} | {r.throttled_percent:.1f} % "
        f"| {r.describe_attempts} | {_usd(r.cost_usd_per_wait)} |"
        for r in rows
    ]
    return lines


def headline(report: BenchReport) -> list[str]:
    found = [
        c.detection_latency_s
        for c in report.single
        if c.status == "SUCCESS" and c.detection_latency_s is not None
    ]
    if not found:
        return []
    parts = [
        f"This provider, one certificate: detection latency p50 "
        f"{statistics.median(found):.1f} s, max {max(found):.1f} s"
    ]
    for case in report.concurrent:
        load = case.describe
        share = 100 * load.throttled / max(1, load.attempts)
        parts.append(
            f"{case.resources} at once ({case.name}): {case.succeeded}/{case.resources} "
            f"SUCCESS, {share:.1f} % of DescribeCertificate attempts throttled"
        )
    return ["; ".join(parts) + f" (seed {report.seed}).", ""]


def markdown(report: BenchReport) -> list[str]:
    """The block: headline, chart, both tables and where the prices come from."""
    return [
        *headline(report),
        "![Detection latency and cost per strategy across wait lengths]"
        f"({posixpath.relpath(CHART, posixpath.dirname(TARGET))})",
        "",
        *strategy_table(report.side_by_side),
        *crowd_table(report.crowd),
        "",
        f"Prices ({PRICES_CHECKED}, x86, free tiers left out): " + "; ".join(SOURCES) + ".",
    ]


def rewrite(text: str, report: BenchReport) -> str:
    """``text`` with the generated block replaced (markers kept)."""
    head, begin, rest = text.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"{TARGET} lacks the markers {BEGIN!r} ... {END!r}")
    return head + BEGIN + "\n" + "\n".join(markdown(report)) + "\n" + END + tail


def write(path: Path, report: BenchReport) -> None:
    path.write_text(rewrite(path.read_text(), report))
