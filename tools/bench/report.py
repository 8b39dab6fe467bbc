"""The benchmark's tables, in the pieces the command line prints as each case ends, and its
JSON results file."""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict
from pathlib import Path

from .cases import DESCRIBE, REQUEST, BenchReport, ConcurrentCase, SingleCase

NOTES = (
    "Simulated time: API calls and Lambda's asynchronous delivery take no time; "
    "billed seconds are the hops' simulated durations (mostly sleeping).",
    "Lambda as the template deploys the function (timeout, memory, two async retries); "
    "one execution environment (one Provider, its own clients) per concurrent "
    "invocation, reused when free; cold starts add no time.",
    "ACM limits: a bucket of N tokens per operation, refilled at every whole simulated "
    "second; an attempt without a token gets ThrottlingException.",
    "calls: API calls the provider made; attempts: HTTP requests ACM saw, botocore's "
    "retries included (standard mode, backoff in virtual time); > limit: simulated "
    "seconds with more attempts than the limit.",
    "Side by side: only this provider runs its real code; each peer is a model on the same "
    "simulated ACM, issuance times, SDK retries and Lambda billing (tools/bench/peers.py, "
    "with the source of every parameter).",
)


def _num(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def header(report: BenchReport) -> list[str]:
    s, function = report.settings, report.function
    return [
        "WaitForCertificate benchmark (simulated time, moto ACM, real handler)",
        f"Lambda: {function.timeout_seconds:g} s timeout, {function.memory_mb} MB, "
        f"{function.maximum_retry_attempts} async retries ({function.source}); "
        f"botocore retries: {report.sdk_retries.get('mode')} mode, "
        f"{report.sdk_retries['attempts_per_call']} attempts per call",
        f"Polling: {s['poll_min_seconds']:g}-{s['poll_max_seconds']:g} s, AIMD: "
        f"x{s['poll_backoff']:g} when throttled, -{s['poll_recovery_seconds']:g} s per poll, "
        f"hand-off margin {s['handoff_margin_seconds']:g} s, "
        f"deadline margin {s['deadline_margin_seconds']:g} s (seed {report.seed})",
    ]


def single_header() -> list[str]:
    return [
        "",
        "One certificate",
        f"{'validation':>10}  {'latency s':>9}  {'hops':>4}  {'billed s':>9}  "
        f"{'GB-s':>7}  {'Describe':>8}  status",
    ]


def single_row(c: SingleCase) -> str:
    return (
        f"{c.validation_minutes:>6g} min  {_num(c.detection_latency_s):>9}  {c.hops:>4}  "
        f"{c.billed_s:>9.3f}  {c.gb_s:>7.3f}  {c.describe_calls:>8}  {c.status}"
    )


def concurrent_header(report: BenchReport) -> list[str]:
    limits = ", ".join(f"{op} {n}/s" for op, n in report.acm_limits_per_s.items())
    return [
        "",
        f"Resources waiting at once (ACM limits per account and region: {limits})",
        f"{'scenario':<10} {'issued after (min)':<28} {'SUCCESS':>8}  {'latency max':>11}  "
        f"{'hops max':>8}  {'GB-s':>7}  {'envs':>4}",
    ]


def concurrent_row(k: ConcurrentCase) -> str:
    return (
        f"{k.name:<10} {k.issued_after_minutes:<28} {k.succeeded:>4}/{k.resources:<3}  "
        f"{_num(k.detection_latency_max_s):>11}  {k.hops_max:>8}  {k.gb_s:>7.1f}  "
        f"{k.environments:>4}"
    )


def load_table(report: BenchReport) -> list[str]:
    if not report.concurrent:
        return []
    lines = [
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
    return lines


def footer(report: BenchReport) -> list[str]:
    """The notes and the targets, once every case has run."""
    lines = ["", "Notes"]
    lines += [textwrap.fill(n, 100, initial_indent="  - ", subsequent_indent="    ") for n in NOTES]
    lines += ["", "Targets"]
    for t in report.targets:
        verdict = "PASS" if t.passed else "FAIL"
        lines.append(f"  {verdict}  {t.name}: {_num(t.value)} (limit {_num(t.limit)})")
    failed = sum(not t.passed for t in report.targets)
    lines.append(
        f"\n{failed} target(s) FAILED" if failed else f"\nAll {len(report.targets)} targets passed"
    )
    return lines


def write_json(report: BenchReport, path: Path) -> None:
    document = asdict(report)
    document["notes"] = list(NOTES)
    document["passed"] = report.passed
    path.write_text(json.dumps(document, indent=2) + "\n")
