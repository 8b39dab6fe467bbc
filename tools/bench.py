"""Benchmark of the waiting engine: latency, hops, Lambda cost and ACM load, simulated.

The real handler runs against moto in virtual time (``tools.bench_world``): nothing
sleeps for real and a 45-minute wait takes a fraction of a second.

- One certificate validated after 1, 14, 16 and 45 minutes: detection latency (ISSUED
  to response), Lambda invocations (hops), billed seconds and GB-seconds,
  DescribeCertificate calls.
- 100 Creates delivered at the same instant, under ACM's rate limits per account and
  region: the peak DescribeCertificate attempts and acceptances per simulated second,
  throttled attempts, and whether every resource got its one SUCCESS.

Run ``make bench`` (``ARGS="--help"`` for the options); figures go to the screen and to
``bench-results.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from custom_resource import aws
from custom_resource.settings import Settings
from tools.bench_world import ACM_LIMITS, ResourceSpec, SimResult, simulate, total_attempts

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template" / "provider.yaml"
DEFAULT_OUT = ROOT / "bench-results.json"
SINGLE_MINUTES = (1.0, 14.0, 16.0, 45.0)
LONG_WAIT_MINUTES = 45.0
MAX_HOPS_45_MINUTES = 6
MAX_THROTTLED_PERCENT = 2.0
"""At most this share of DescribeCertificate attempts may be throttled with 100 waiters."""
DESCRIBE = "DescribeCertificate"
REQUEST = "RequestCertificate"
NOTES = (
    "Simulated time: API calls and Lambda's asynchronous delivery take no time; "
    "billed seconds are the hops' simulated durations (mostly sleeping).",
    "One Lambda execution environment (one Provider, its own clients) per concurrent "
    "invocation, reused when free; cold starts add no time.",
    "ACM limits: a bucket of N tokens per operation, refilled at every whole simulated "
    "second; an attempt without a token gets ThrottlingException.",
    "calls: API calls the provider made; attempts: HTTP requests ACM saw, botocore's "
    "retries included (standard mode, backoff in virtual time); > limit: simulated "
    "seconds with more attempts than the limit.",
)


@dataclass(frozen=True)
class LambdaShape:
    timeout_seconds: float = 900.0
    memory_mb: int = 128
    source: str = "defaults"


def template_lambda(path: Path = TEMPLATE) -> LambdaShape:
    """The function's Timeout and MemorySize as the provider template sets them."""
    try:
        text = path.read_text()
    except OSError:
        return LambdaShape()
    timeout = re.search(r"^\s*Timeout:\s*(\d+)\s*$", text, re.MULTILINE)
    memory = re.search(r"^\s*MemorySize:\s*(\d+)\s*$", text, re.MULTILINE)
    if not timeout or not memory:
        return LambdaShape()
    return LambdaShape(
        float(timeout.group(1)), int(memory.group(1)), path.relative_to(ROOT).as_posix()
    )


@dataclass(frozen=True)
class SingleCase:
    validation_minutes: float
    status: str
    detection_latency_s: float | None
    hops: int
    billed_ms: list[int]
    billed_s: float
    gb_s: float
    describe_calls: int
    describe_attempts: int
    responded_after_s: float | None
    longest_hop_s: float


@dataclass(frozen=True)
class OperationLoad:
    limit_per_s: int
    calls: int
    """API calls the provider made."""
    attempts: int
    """HTTP requests ACM saw, botocore's retries included."""
    accepted: int
    throttled: int
    peak_calls_per_s: int
    peak_attempted_per_s: int
    peak_accepted_per_s: int
    seconds_over_limit: int
    """Simulated seconds in which more attempts arrived than the limit lets through."""


@dataclass(frozen=True)
class ConcurrentCase:
    name: str
    resources: int
    issued_after_minutes: str
    succeeded: int
    all_succeeded: bool
    detection_latency_max_s: float | None
    detection_latency_mean_s: float | None
    hops_max: int
    longest_hop_s: float
    invocations: int
    billed_s: float
    gb_s: float
    environments: int
    peak_concurrency: int
    describe: OperationLoad
    request: OperationLoad
    simulated_s: float
    real_s: float


@dataclass(frozen=True)
class Target:
    name: str
    value: float | int | None
    limit: float | int
    passed: bool


@dataclass
class BenchReport:
    settings: dict[str, Any]
    lambda_shape: LambdaShape
    acm_limits_per_s: dict[str, int]
    sdk_retries: dict[str, Any]
    seed: int
    single: list[SingleCase] = field(default_factory=list)
    concurrent: list[ConcurrentCase] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.targets)


def _gb_s(billed_ms: int, memory_mb: int) -> float:
    return billed_ms / 1000 * memory_mb / 1024


def _longest(result: SimResult) -> float:
    return max((i.duration for i in result.invocations), default=0.0)


def _load(result: SimResult, operation: str) -> OperationLoad:
    log, limit = result.calls, ACM_LIMITS[operation]
    return OperationLoad(
        limit_per_s=limit,
        calls=log.total(operation, "called"),
        attempts=log.total(operation),
        accepted=log.total(operation, "accepted"),
        throttled=log.throttled(operation),
        peak_calls_per_s=log.peak(operation, "called"),
        peak_attempted_per_s=log.peak(operation),
        peak_accepted_per_s=log.peak(operation, "accepted"),
        seconds_over_limit=log.seconds_over(operation, limit),
    )


@dataclass(frozen=True)
class RunOptions:
    """What every simulated run shares."""

    settings: Settings = field(default_factory=Settings)
    shape: LambdaShape = field(default_factory=LambdaShape)
    seed: int = 42
    sdk_total_attempts: int | None = None
    """HTTP attempts per call for the provider's clients (None: as shipped)."""
    verbose: bool = False
    """Let the provider's log lines through (they are muted by default)."""


def _simulate(specs: Sequence[ResourceSpec], options: RunOptions) -> SimResult:
    return simulate(
        specs,
        settings=options.settings,
        budget_seconds=options.shape.timeout_seconds,
        seed=options.seed,
        sdk_total_attempts=options.sdk_total_attempts,
        verbose=options.verbose,
    )


def run_single(minutes: float, options: RunOptions) -> SingleCase:
    """One Create whose certificate is ISSUED ``minutes`` after the request."""
    result = _simulate([ResourceSpec("Certificate", "www.example.com", minutes * 60)], options)
    [outcome] = result.resources
    billed = [i.billed_ms for i in outcome.invocations]
    statuses = [status for _, status in outcome.responses]
    return SingleCase(
        validation_minutes=minutes,
        status="/".join(statuses) or "NO RESPONSE",
        detection_latency_s=outcome.detection_latency,
        hops=len(outcome.invocations),
        billed_ms=billed,
        billed_s=sum(billed) / 1000,
        gb_s=_gb_s(sum(billed), options.shape.memory_mb),
        describe_calls=result.calls.total(DESCRIBE, "called"),
        describe_attempts=result.calls.total(DESCRIBE),
        responded_after_s=outcome.responses[0][0] if outcome.responses else None,
        longest_hop_s=_longest(result),
    )


def run_concurrent(
    name: str, issue_after_minutes: Sequence[float], pattern: str, options: RunOptions
) -> ConcurrentCase:
    """One Create per entry, all delivered at once; entry i is ISSUED after its minutes."""
    specs = [
        ResourceSpec(f"Certificate{i:03d}", f"c{i:03d}.example.com", m * 60)
        for i, m in enumerate(issue_after_minutes)
    ]
    result = _simulate(specs, options)
    latencies = [o.detection_latency for o in result.resources if o.detection_latency is not None]
    billed = sum(i.billed_ms for i in result.invocations)
    succeeded = sum(o.succeeded for o in result.resources)
    return ConcurrentCase(
        name=name,
        resources=len(specs),
        issued_after_minutes=pattern,
        succeeded=succeeded,
        all_succeeded=succeeded == len(specs),
        detection_latency_max_s=max(latencies, default=None),
        detection_latency_mean_s=statistics.fmean(latencies) if latencies else None,
        hops_max=max((len(o.invocations) for o in result.resources), default=0),
        longest_hop_s=_longest(result),
        invocations=len(result.invocations),
        billed_s=billed / 1000,
        gb_s=_gb_s(billed, options.shape.memory_mb),
        environments=result.environments,
        peak_concurrency=result.peak_concurrency,
        describe=_load(result, DESCRIBE),
        request=_load(result, REQUEST),
        simulated_s=result.simulated_seconds,
        real_s=result.real_seconds,
    )


def evaluate(report: BenchReport, poll_cap: float) -> list[Target]:
    """The pass/fail targets of issue 6 (point 9), plus how much ACM had to push back.

    Independent waiters cannot keep every single second under ACM's limit (their phases are
    random); what the engine controls is backing off when throttled, so the share of
    throttled attempts is the measure of that, next to ACM's accepted peak.
    """
    targets: list[Target] = []
    single = [c.detection_latency_s for c in report.single]
    worst = max((x for x in single if x is not None), default=None)
    ok = bool(single) and None not in single and worst is not None and worst <= poll_cap
    targets.append(Target("detection latency <= poll cap, single certificate", worst, poll_cap, ok))
    long = [c for c in report.single if c.validation_minutes == LONG_WAIT_MINUTES]
    if long:
        targets.append(
            Target(
                "hops for a 45-minute validation",
                long[0].hops,
                MAX_HOPS_45_MINUTES,
                long[0].hops <= MAX_HOPS_45_MINUTES and long[0].status == "SUCCESS",
            )
        )
    timeout = report.lambda_shape.timeout_seconds
    hops = [c.longest_hop_s for c in report.single] + [c.longest_hop_s for c in report.concurrent]
    longest = max(hops, default=0.0)
    targets.append(
        Target("longest invocation <= Lambda timeout (s)", longest, timeout, longest <= timeout)
    )
    limit = ACM_LIMITS[DESCRIBE]
    for case in report.concurrent:
        label = f"{case.resources} at once, {case.name}"
        accepted = case.describe.peak_accepted_per_s
        throttled_share = 100 * case.describe.throttled / max(1, case.describe.attempts)
        latency = case.detection_latency_max_s
        targets += [
            Target(
                f"peak accepted DescribeCertificate/s, {label}", accepted, limit, accepted <= limit
            ),
            Target(
                f"throttled DescribeCertificate attempts (%), {label}",
                round(throttled_share, 2),
                MAX_THROTTLED_PERCENT,
                throttled_share <= MAX_THROTTLED_PERCENT,
            ),
            Target(
                f"completed with SUCCESS, {label}",
                case.succeeded,
                case.resources,
                case.all_succeeded,
            ),
            Target(
                f"detection latency <= poll cap, {label}",
                latency,
                poll_cap,
                latency is not None and latency <= poll_cap,
            ),
        ]
    return targets


def run_bench(
    options: RunOptions,
    *,
    single_minutes: Sequence[float] = SINGLE_MINUTES,
    resources: int = 100,
    equal_minutes: float = 20.0,
    spread_minutes: tuple[float, float] = (5.0, 40.0),
) -> BenchReport:
    """The single-certificate cases, then ``resources`` at once issued at equal and at
    staggered times; then the targets."""
    retries = dict(aws.CLIENT_CONFIG.retries or {})
    retries["attempts_per_call"] = options.sdk_total_attempts or total_attempts(aws.CLIENT_CONFIG)
    report = BenchReport(
        settings=asdict(options.settings),
        lambda_shape=options.shape,
        acm_limits_per_s=dict(ACM_LIMITS),
        sdk_retries=retries,
        seed=options.seed,
    )
    for minutes in single_minutes:
        report.single.append(run_single(minutes, options))
    if resources > 0:
        low, high = spread_minutes
        rng = random.Random(options.seed)
        spread = [rng.uniform(low, high) for _ in range(resources)]
        plans = [
            ("equal", [equal_minutes] * resources, f"all {equal_minutes:g}"),
            ("staggered", spread, f"uniform {low:g}-{high:g} (seed {options.seed})"),
        ]
        for name, times, pattern in plans:
            report.concurrent.append(run_concurrent(name, times, pattern, options))
    report.targets = evaluate(report, options.settings.poll_max_seconds)
    return report


def _num(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def render(report: BenchReport) -> str:
    s, shape = report.settings, report.lambda_shape
    lines = [
        "WaitForCertificate benchmark (simulated time, moto ACM, real handler)",
        f"Lambda: {shape.timeout_seconds:g} s timeout, {shape.memory_mb} MB ({shape.source}); "
        f"botocore retries: {report.sdk_retries.get('mode')} mode, "
        f"{report.sdk_retries['attempts_per_call']} attempts per call",
        f"Polling: {s['poll_min_seconds']:g}-{s['poll_max_seconds']:g} s x{s['poll_growth']:g}, "
        f"hand-off margin {s['handoff_margin_seconds']:g} s, "
        f"deadline margin {s['deadline_margin_seconds']:g} s (seed {report.seed})",
        "",
        "One certificate",
        f"{'validation':>10}  {'latency s':>9}  {'hops':>4}  {'billed s':>9}  "
        f"{'GB-s':>7}  {'Describe':>8}  status",
    ]
    for c in report.single:
        lines.append(
            f"{c.validation_minutes:>6g} min  {_num(c.detection_latency_s):>9}  {c.hops:>4}  "
            f"{c.billed_s:>9.3f}  {c.gb_s:>7.3f}  {c.describe_calls:>8}  {c.status}"
        )
    if report.concurrent:
        limits = ", ".join(f"{op} {n}/s" for op, n in report.acm_limits_per_s.items())
        lines += [
            "",
            f"Resources waiting at once (ACM limits per account and region: {limits})",
            f"{'scenario':<10} {'issued after (min)':<28} {'SUCCESS':>8}  {'latency max':>11}  "
            f"{'hops max':>8}  {'GB-s':>7}  {'envs':>4}",
        ]
        for k in report.concurrent:
            lines.append(
                f"{k.name:<10} {k.issued_after_minutes:<28} {k.succeeded:>4}/{k.resources:<3}  "
                f"{_num(k.detection_latency_max_s):>11}  {k.hops_max:>8}  {k.gb_s:>7.1f}  "
                f"{k.environments:>4}"
            )
        lines += [
            "",
            f"{'':<31}{'totals':^34}  {'peak per simulated second':^27}  {'seconds':>7}",
            f"{'scenario':<10} {'operation':<20} {'calls':>6} {'attempts':>8} {'accepted':>8} "
            f"{'throttled':>9}  {'calls':>7} {'attempts':>9} {'accepted':>9}  "
            f"{'> limit':>7}",
        ]
        for k in report.concurrent:
            for op, load in ((DESCRIBE, k.describe), (REQUEST, k.request)):
                lines.append(
                    f"{k.name:<10} {op:<20} {load.calls:>6} {load.attempts:>8} "
                    f"{load.accepted:>8} {load.throttled:>9}  {load.peak_calls_per_s:>7} "
                    f"{load.peak_attempted_per_s:>9} {load.peak_accepted_per_s:>9}  "
                    f"{load.seconds_over_limit:>7}"
                )
    lines += ["", "Notes"]
    lines += [textwrap.fill(n, 100, initial_indent="  - ", subsequent_indent="    ") for n in NOTES]
    lines += ["", "Targets"]
    for t in report.targets:
        verdict = "PASS" if t.passed else "FAIL"
        lines.append(f"  {verdict}  {t.name}: {_num(t.value)} (limit {_num(t.limit)})")
    return "\n".join(lines)


def write_json(report: BenchReport, path: Path) -> None:
    document = asdict(report)
    document["notes"] = list(NOTES)
    document["passed"] = report.passed
    path.write_text(json.dumps(document, indent=2) + "\n")


def _minutes_list(raw: str) -> list[float]:
    return [float(part) for part in raw.split(",") if part.strip()]


def _range(raw: str) -> tuple[float, float]:
    low, _, high = raw.partition("-")
    return float(low), float(high or low)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument(
        "--minutes",
        type=_minutes_list,
        default=list(SINGLE_MINUTES),
        help="validation times of the single-certificate cases, e.g. 1,14,16,45",
    )
    parser.add_argument("--resources", type=int, default=100, help="resources waiting at once")
    parser.add_argument("--equal-minutes", type=float, default=20.0)
    parser.add_argument("--spread-minutes", type=_range, default=(5.0, 40.0), help="e.g. 5-40")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--sdk-attempts",
        dest="sdk_total_attempts",
        type=int,
        default=None,
        help="HTTP attempts per call of the provider's clients, 1 = no SDK retries "
        "(default: as custom_resource/aws.py ships)",
    )
    parser.add_argument("--verbose", action="store_true", help="show the provider's logs")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target fails")
    args = parser.parse_args(argv)
    options = RunOptions(
        settings=Settings.from_environment(),
        shape=template_lambda(),
        seed=args.seed,
        sdk_total_attempts=args.sdk_total_attempts,
        verbose=args.verbose,
    )
    report = run_bench(
        options,
        single_minutes=args.minutes,
        resources=args.resources,
        equal_minutes=args.equal_minutes,
        spread_minutes=args.spread_minutes,
    )
    print(render(report))
    write_json(report, args.out)
    print(f"\nFigures written to {args.out}")
    return 1 if args.check and not report.passed else 0


if __name__ == "__main__":
    sys.exit(main())
