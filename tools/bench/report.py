"""The benchmark's text on screen and its JSON results file."""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .cases import DESCRIBE, REQUEST, ConcurrentCase
from .targets import BenchReport

NOTES = (
    "Simulated time: nothing sleeps for real; API calls take a few simulated milliseconds "
    "(tools/bench/world.py, with the source or the assumption of every limit).",
    "One certificate: the provider's real handler on the local Lambda emulator and moto's "
    "ACM; crowds: the provider's model, which runs its own polling code "
    "(tools/bench/provider_model.py); the peers: models of their documented behaviour "
    "(tools/bench/peers.py), each at its default and its best setting.",
    "Billing: each invocation's duration to the millisecond, INIT on a cold start "
    "(billed since 2025-08-01), requests, Step Functions transitions; x86 list prices.",
)


def header(report: BenchReport) -> list[str]:
    s, function = report.settings, report.function
    seeds = report.seeds
    return [
        "WaitForCertificate benchmark (simulated time)",
        f"Lambda: {function.timeout_seconds:g} s timeout, {function.memory_mb} MB, "
        f"{function.maximum_retry_attempts} async retries, maximum event age "
        f"{function.maximum_event_age_seconds:g} s ({function.source}); concurrency "
        f"{report.concurrency} ({'reserved' if report.reserved else 'unreserved'}); "
        f"botocore: {report.sdk_retries.get('mode')} mode, "
        f"{report.sdk_retries['attempts_per_call']} attempts per call",
        f"Polling: {s['poll_min_seconds']:g}-{s['poll_max_seconds']:g} s, paced to "
        f"{s['acm_read_share']:g} of {s['acm_read_quota_per_second']:g} "
        "DescribeCertificate/s by the account's pending count; "
        f"{len(seeds)} seeds ({seeds[0]}-{seeds[-1]})",
    ]


def concurrent_lines(cases: list[ConcurrentCase]) -> list[str]:
    """The real handler's crowds (``--resources``), one seed."""
    if not cases:
        return []
    lines = ["", "The real handler, many at once (one seed):"]
    for k in cases:
        for op, load in ((DESCRIBE, k.describe), (REQUEST, k.request)):
            share = 100 * load.throttled / max(1, load.attempts)
            lines.append(
                f"  {k.resources} at once, {k.issued_after_minutes}: {op} {load.attempts} "
                f"attempts, {share:.2f} % throttled"
            )
        lines.append(
            f"  {k.succeeded}/{k.resources} SUCCESS, latency max "
            f"{k.detection_latency_max_s or math.nan:.1f} s, {k.peak_concurrency} executions"
        )
    return lines


def footer(report: BenchReport) -> list[str]:
    """The notes and the targets, once every case has run."""
    lines = ["", "Notes"]
    lines += [textwrap.fill(n, 100, initial_indent="  - ", subsequent_indent="    ") for n in NOTES]
    lines += ["", "Targets (each on the p90 across seeds)"]
    for t in report.targets:
        verdict = "PASS" if t.passed else "FAIL"
        lines.append(f"  {verdict}  {t.name}: {t.value} (limit {t.limit})")
    failed = sum(not t.passed for t in report.targets)
    lines.append(
        f"\n{failed} target(s) FAILED" if failed else f"\nAll {len(report.targets)} targets passed"
    )
    return lines


def _finite(value: Any) -> Any:
    """JSON has no infinity: a latency that never happened is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def write_json(report: BenchReport, path: Path) -> None:
    document = asdict(report)
    document["notes"] = list(NOTES)
    document["passed"] = report.passed
    path.write_text(json.dumps(_finite(document), indent=2) + "\n")
