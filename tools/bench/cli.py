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
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from custom_resource.settings import Settings

from . import readme
from . import report as tables
from .cases import RunOptions, run_concurrent
from .chart import svg
from .compare import COMPARE_MINUTES, CROWD_SIZES, SEEDS, CompareOptions, compare
from .targets import evaluate, new_report
from .world import REGIONAL_CONCURRENCY

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "bench-results.json"
DEFAULT_CHART = ROOT / "bench-results.svg"
"""Untracked: a custom run never touches the committed chart unless ``--write-readme``."""
TRACKED_CHART = ROOT / readme.CHART
TARGET = ROOT / readme.TARGET


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


def _number(raw: str, what: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what}: {raw.strip()!r} is not a number") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{what}: {raw.strip()!r} must be 0 or more")
    return value


def _minutes_list(raw: str) -> list[float]:
    """Comma-separated minutes, e.g. ``2,10,30``."""
    values = [_number(part, "minutes") for part in raw.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError("give at least one number of minutes, e.g. 2,10,30")
    return values


def _range(raw: str) -> tuple[float, float]:
    """``LOW-HIGH`` minutes (or one number), LOW <= HIGH."""
    low, _, high = raw.partition("-")
    pair = _number(low, "range"), _number(high or low, "range")
    if pair[0] > pair[1]:
        raise argparse.ArgumentTypeError(
            f"range {raw!r}: the first number must not exceed the second, e.g. 5-40"
        )
    return pair


def _count(minimum: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is less than {minimum}")
        return value

    return parse


def _sizes(raw: str) -> list[int]:
    parse = _count(1)
    return [parse(part) for part in raw.split(",") if part.strip()]


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
        default=list(COMPARE_MINUTES),
        help="validation times of the single-certificate cases, e.g. 2,10,30,45,70",
    )
    parser.add_argument(
        "--resources",
        type=_count(0),
        default=0,
        help="also run this many at once through the real handler, at --seed (slow; "
        "default 0: crowds run the provider's model over every seed)",
    )
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
        "--seeds",
        type=_count(1),
        default=SEEDS,
        help="how many seeds every distribution is over (default %(default)s)",
    )
    parser.add_argument(
        "--crowds",
        type=_sizes,
        default=list(CROWD_SIZES),
        help="crowd sizes waiting at once in one account, e.g. 100,300,1000",
    )
    parser.add_argument(
        "--concurrency",
        type=_count(1),
        default=REGIONAL_CONCURRENCY,
        help="the account's Lambda concurrency (default: the Regional %(default)s; "
        "a new account may have 10)",
    )
    parser.add_argument(
        "--reserved-concurrency",
        type=_count(1),
        default=None,
        help="concurrency reserved for the provider function, as its ReservedConcurrency "
        "parameter sets it (default: the template's, unreserved); it then gets exactly that",
    )
    parser.add_argument(
        "--processes", type=_count(1), default=2, help="parallel processes (default 2)"
    )
    parser.add_argument(
        "--seed",
        type=_count(0),
        default=42,
        help="seeds every random draw (staggered times, jitter, retries): the same seed "
        "gives the same figures (default %(default)s)",
    )
    parser.add_argument(
        "--sdk-attempts",
        dest="sdk_total_attempts",
        type=_count(1),
        default=None,
        help="HTTP attempts per call of the provider's clients, 1 = no SDK retries "
        "(default: as custom_resource/aws.py ships)",
    )
    parser.add_argument(
        "--chart",
        type=Path,
        default=None,
        help=f"SVG chart file (default: bench-results.svg; {readme.CHART} with --write-readme)",
    )
    parser.add_argument(
        "--write-readme",
        action="store_true",
        help=f"rewrite {readme.TARGET}'s generated block and {readme.CHART} with these figures",
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
    seeds = list(range(1, args.seeds + 1))
    reserved = args.reserved_concurrency or options.function.reserved_concurrency
    concurrency = reserved or args.concurrency
    report = new_report(options, seeds, concurrency, reserved=reserved is not None)
    screen.lines(tables.header(report))
    compare_options = CompareOptions(
        settings=options.settings,
        function=options.function,
        minutes=tuple(args.minutes),
        sizes=tuple(args.crowds),
        concurrency=concurrency,
        spread_minutes=args.spread_minutes,
    )
    screen.running(f"{len(seeds)} seeds in {args.processes} processes")
    report.comparison = compare(seeds, compare_options, args.processes)
    if args.resources:
        for name, times, pattern in _real_crowds(args):
            screen.running(f"the real handler, {args.resources} at once, {pattern}")
            report.concurrent.append(run_concurrent(name, times, pattern, options))
    report.targets = evaluate(report.comparison, concurrency)
    screen.lines(["", *readme.markdown(report)])
    screen.lines(tables.concurrent_lines(report.concurrent))
    screen.lines(tables.footer(report))
    tables.write_json(report, args.out)
    chart = args.chart or (TRACKED_CHART if args.write_readme else DEFAULT_CHART)
    chart.parent.mkdir(parents=True, exist_ok=True)
    comparison = report.comparison
    chart.write_text(svg(comparison.rows, comparison.crowd_rows, seeds))
    written = [str(args.out), str(chart)]
    if args.write_readme:
        readme.write(TARGET, report)
        written.append(str(TARGET))
    screen.lines([f"Figures written to {', '.join(written)}"])
    return 0 if report.passed else 1


def _real_crowds(args: argparse.Namespace) -> list[tuple[str, list[float], str]]:
    """The real handler's crowds at ``--seed``: all validated at once, and staggered."""
    low, high = args.spread_minutes
    rng = random.Random(args.seed)
    spread = [rng.uniform(low, high) for _ in range(args.resources)]
    equal = args.equal_minutes
    return [
        ("equal", [equal] * args.resources, f"all {equal:g}"),
        ("staggered", spread, f"uniform {low:g}-{high:g} (seed {args.seed})"),
    ]
