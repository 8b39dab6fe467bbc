"""``python -m tools.bench`` (``make bench``): run the cases, print each as it ends.

The real handler runs against moto in virtual time: nothing sleeps for real and a
45-minute wait takes a fraction of a second. Then the other ways to wait (``peers.py``)
run on the same simulated ACM, side by side. Figures go to the screen, to
``bench-results.json`` and to the chart ``docs/bench.svg``; ``--write-readme`` also
rewrites the generated block of ``readme.TARGET``. The exit status is 1 when a target
fails.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from custom_resource.settings import Settings

from . import readme
from . import report as tables
from .cases import SINGLE_MINUTES, RunOptions, SingleCase, evaluate, new_report, run_cases
from .chart import svg
from .compare import add_comparison

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "bench-results.json"
DEFAULT_CHART = ROOT / readme.CHART
README = ROOT / readme.TARGET


class Screen:
    """Lines as they come; on a terminal, also what is running now (overwritten)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._status = False

    def lines(self, lines: Sequence[str]) -> None:
        if self._status:
            self.stream.write("\r\x1b[K")
            self._status = False
        for line in lines:
            self.stream.write(line + "\n")
        self.stream.flush()

    def running(self, label: str) -> None:
        if self.tty:
            self.stream.write(f"\r\x1b[K  ... running: {label}")
            self.stream.flush()
            self._status = True


def _minutes_list(raw: str) -> list[float]:
    return [float(part) for part in raw.split(",") if part.strip()]


def _range(raw: str) -> tuple[float, float]:
    low, _, high = raw.partition("-")
    return float(low), float(high or low)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench",
        description="Benchmark of the waiting engine: latency, hops, Lambda cost and ACM "
        "load, simulated. Exit status 1 when a target fails.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument(
        "--minutes",
        type=_minutes_list,
        default=list(SINGLE_MINUTES),
        help="validation times of the single-certificate cases, e.g. 2,10,30,45,70",
    )
    parser.add_argument("--resources", type=int, default=100, help="resources waiting at once")
    parser.add_argument(
        "--equal-minutes",
        type=float,
        default=20.0,
        help="the 'equal' case: every certificate is issued this long after its request "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--spread-minutes",
        type=_range,
        default=(5.0, 40.0),
        help="the 'staggered' case: issue times drawn uniformly from this range, e.g. 5-40",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=42,
        help="seeds every random draw (staggered times, jitter, retries): the same seed "
        "gives the same figures (default %(default)s)",
    )
    parser.add_argument(
        "--sdk-attempts",
        dest="sdk_total_attempts",
        type=int,
        default=None,
        help="HTTP attempts per call of the provider's clients, 1 = no SDK retries "
        "(default: as custom_resource/aws.py ships)",
    )
    parser.add_argument("--chart", type=Path, default=DEFAULT_CHART, help="SVG chart file")
    parser.add_argument(
        "--write-readme",
        action="store_true",
        help=f"rewrite {readme.TARGET}'s generated block with these figures",
    )
    parser.add_argument("--verbose", action="store_true", help="show the provider's logs")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, stream: TextIO | None = None) -> int:
    args = parse_args(argv)
    screen = Screen(stream or sys.stdout)
    options = RunOptions(
        settings=Settings.from_environment(),
        seed=args.seed,
        sdk_total_attempts=args.sdk_total_attempts,
        verbose=args.verbose,
    )
    report = new_report(options)
    screen.lines(tables.header(report))
    cases = run_cases(
        options,
        report,
        single_minutes=args.minutes,
        resources=args.resources,
        equal_minutes=args.equal_minutes,
        spread_minutes=args.spread_minutes,
        starting=screen.running,
    )
    for case in cases:
        if isinstance(case, SingleCase):
            first = len(report.single) == 1
            screen.lines([*(tables.single_header() if first else []), tables.single_row(case)])
        else:
            first = len(report.concurrent) == 1
            header = tables.concurrent_header(report) if first else []
            screen.lines([*header, tables.concurrent_row(case)])
    report.targets = evaluate(report, options.settings.poll_max_seconds)
    add_comparison(report, args.equal_minutes)
    screen.lines(tables.load_table(report))
    screen.lines(["", "Side by side: the same ACM, issuance times and Lambda prices", ""])
    screen.lines(readme.markdown(report))
    screen.lines(tables.footer(report))
    tables.write_json(report, args.out)
    args.chart.parent.mkdir(parents=True, exist_ok=True)
    args.chart.write_text(svg(report.side_by_side))
    written = [str(args.out), str(args.chart)]
    if args.write_readme:
        readme.write(README, report)
        written.append(str(README))
    screen.lines([f"Figures written to {', '.join(written)}"])
    return 0 if report.passed else 1
