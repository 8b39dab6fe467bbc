"""The comparison as Markdown, and the generated block of ``docs/benchmark.md`` that holds it.

``make bench ARGS=--write-readme`` rewrites what lies between the two markers; a test
checks that the committed block and chart are what the bench makes of its default seeds,
so figures are never retyped by hand.
"""

from __future__ import annotations

import math
from pathlib import Path

from .pricing import PAPER_ROWS, PRICES_CHECKED, SOURCES
from .rows import CrowdRow, Dist, StrategyRow
from .targets import BenchReport

BEGIN = "<!-- bench:begin (written by `make bench ARGS=--write-readme`; do not edit) -->"
END = "<!-- bench:end -->"
CHART = "docs/bench.svg"
TARGET = "docs/benchmark.md"
"""The page that holds the generated block (between ``BEGIN`` and ``END``)."""


def _d(value: Dist | None, digits: int = 1) -> str:
    """Median (p10-p90) across seeds."""
    if value is None or not math.isfinite(value.median):
        return "-"
    if value.p10 == value.p90:
        return f"{value.median:.{digits}f}"
    return f"{value.median:.{digits}f} ({value.p10:.{digits}f}-{value.p90:.{digits}f})"


def _outcome(r: StrategyRow) -> str:
    parts = []
    if r.succeeded:
        parts.append(f"SUCCESS {r.succeeded}")
    if r.failed_in_time:
        parts.append(f"FAILED in time {r.failed_in_time}")
    if r.unanswered:
        parts.append(f"**no answer {r.unanswered}**")
    why = f" ({r.why})" if r.why else ""
    return ", ".join(parts) + why


def strategy_table(rows: list[StrategyRow]) -> list[str]:
    lines = [
        "| strategy | validated after | outcomes over seeds | latency s | cost USD "
        "| invocations | DescribeCertificate | state transitions | scheduled events "
        "| other control-plane calls |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.strategy} | {r.minutes:g} min | {_outcome(r)} | {_d(r.latency_s)} "
        f"| {_d(r.cost_usd, 5)} | {r.invocations:g} | {r.describe_calls:g} "
        f"| {r.transitions:g} | {r.scheduled_events:g} | {r.control_calls:g} |"
        for r in rows
    ]
    return lines


def crowd_table(rows: list[CrowdRow]) -> list[str]:
    lines = [
        "| waits at once | strategy | SUCCESS | answered in time | latency p50 s "
        "| latency max s | throttled DescribeCertificate % | steady DescribeCertificate/s "
        "| throttled ListCertificates % | Lambda executions held | cost USD per wait |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.size} | {r.strategy} | {_d(r.succeeded, 0)} | {_d(r.answered_in_time, 0)} "
        f"| {_d(r.latency_p50_s)} | {_d(r.latency_max_s)} | {_d(r.throttled_percent, 2)} "
        f"| {_d(r.steady_reads_per_s, 2)} | {_d(r.list_throttled_percent, 1)} "
        f"| {_d(r.peak_executions, 0)} "
        f"| {_d(r.cost_usd_per_wait, 5)} |"
        for r in rows
    ]
    return lines


def paper_table() -> list[str]:
    lines = [
        "| way to wait | cost USD of a 30-minute wait polled every 30 s | can do | cannot do |",
        "|---|---|---|---|",
    ]
    lines += [f"| {p.name} | {p.cost} | {p.can} | {p.cannot} |" for p in PAPER_ROWS]
    return lines


def headline(report: BenchReport) -> list[str]:
    seeds = report.seeds
    verdict = "every target passes" if report.passed else "**a target FAILS**"
    pool = "reserved for the function" if report.reserved else "the account's, unreserved"
    return [
        f"Simulated time; {len(seeds)} seeds ({seeds[0]}-{seeds[-1]}); every figure is the "
        "median across seeds with its p10-p90 range in brackets; targets are judged on the "
        f"p90 across seeds: {verdict}. Lambda concurrency {report.concurrency} ({pool}).",
        "",
    ]


def targets_table(report: BenchReport) -> list[str]:
    lines = ["| target | p90 across seeds | limit | |", "|---|---|---|---|"]
    lines += [
        f"| {t.name.removesuffix(', p90 across seeds')} | {t.value} | {t.limit} "
        f"| {'pass' if t.passed else '**FAIL**'} |"
        for t in report.targets
    ]
    return lines


def markdown(report: BenchReport) -> list[str]:
    """The block: headline, targets, chart, tables, paper rows and where prices come from."""
    comparison = report.comparison
    rows = comparison.rows if comparison else []
    crowd_rows = comparison.crowd_rows if comparison else []
    return [
        *headline(report),
        *targets_table(report),
        "",
        "![Latency and cost per strategy across wait lengths, and crowds](bench.svg)",
        "",
        "One certificate, validated after about each time (within half a minute):",
        "",
        *strategy_table(rows),
        "",
        "Crowds in one account, validated uniformly 5-40 min after their records:",
        "",
        *crowd_table(crowd_rows),
        "",
        "Timer-based ways to wait and the native resource, on paper (not simulated):",
        "",
        *paper_table(),
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
