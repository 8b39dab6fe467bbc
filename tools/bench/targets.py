"""The benchmark's report and its targets, judged on the p90 across seeds."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from custom_resource import aws
from tools.emulator import FunctionConfig

from .cases import DESCRIBE, ConcurrentCase, RunOptions
from .compare import PROVIDER, Comparison
from .rows import Crowd, Dist
from .simulate import total_attempts
from .world import QUOTAS

LONG_WAIT_MINUTES = 45.0
MAX_HOPS_45_MINUTES = 6
SINGLE_P50_SECONDS = 3.0
SINGLE_MAX_SECONDS = 10.0
"""Detection latency targets of a lone certificate, ISSUED visible to response."""
SUCCESS_MINUTES = (2.0, 10.0, 30.0, 45.0)
"""Wait lengths a lone wait must answer SUCCESS for (70 min is past ServiceTimeout)."""
MAX_THROTTLED_PERCENT = {100: 1.0, 300: 2.0, 1000: 5.0}
"""The most DescribeCertificate attempts that may be throttled, per crowd size."""
READ_SHARE_LIMIT = 0.5
"""Steady state: every waiter together at most this share of the DescribeCertificate quota."""


@dataclass(frozen=True)
class Target:
    name: str
    value: float | int | None
    limit: float | int
    passed: bool


@dataclass
class BenchReport:
    settings: dict[str, Any]
    function: FunctionConfig
    acm_limits_per_s: dict[str, float]
    sdk_retries: dict[str, Any]
    seeds: list[int]
    concurrency: int
    comparison: Comparison | None = None
    reserved: bool = False
    """``concurrency`` is reserved for the function (else: the account's pool)."""
    concurrent: list[ConcurrentCase] = field(default_factory=list)
    """Real-handler crowds at one seed (``--resources``)."""
    targets: list[Target] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.targets)


def new_report(
    options: RunOptions, seeds: Sequence[int], concurrency: int, reserved: bool = False
) -> BenchReport:
    retries: dict[str, Any] = dict(aws.CLIENT_CONFIG.retries or {})
    retries["attempts_per_call"] = options.sdk_total_attempts or total_attempts(aws.CLIENT_CONFIG)
    return BenchReport(
        settings=asdict(options.settings),
        function=options.function,
        acm_limits_per_s=dict(QUOTAS),
        sdk_retries=retries,
        seeds=list(seeds),
        concurrency=concurrency,
        reserved=reserved,
    )


def _p90(values: Sequence[float]) -> float:
    return Dist.of(values).p90


def evaluate(comparison: Comparison, concurrency: int) -> list[Target]:
    """The targets, each judged on the p90 across seeds (not on one seed)."""
    targets: list[Target] = []

    def target(name: str, values: Sequence[float], limit: float) -> None:
        value = _p90(values) if values else math.inf
        targets.append(Target(f"{name}, p90 across seeds", round(value, 2), limit, value <= limit))

    own = [w for w in comparison.waits if w.strategy == PROVIDER and w.minutes in SUCCESS_MINUTES]
    if own:
        per_seed: dict[int, list[float]] = {}
        for w in own:
            latency = w.latency_s if w.latency_s is not None else math.inf
            per_seed.setdefault(w.seed, []).append(latency)
        target(
            "one certificate: latency p50 (s)",
            [statistics.median(v) for v in per_seed.values()],
            SINGLE_P50_SECONDS,
        )
        target(
            "one certificate: latency max (s)",
            [max(v) for v in per_seed.values()],
            SINGLE_MAX_SECONDS,
        )
    long = [
        w for w in comparison.waits if w.strategy == PROVIDER and w.minutes == LONG_WAIT_MINUTES
    ]
    if long:
        target(
            "one certificate: hops for 45 min",
            [w.invocations for w in long],
            MAX_HOPS_45_MINUTES,
        )
    quota = QUOTAS[DESCRIBE] * READ_SHARE_LIMIT
    for size in sorted({c.size for c in comparison.crowds}):
        runs = [c for c in comparison.crowds if c.strategy == PROVIDER and c.size == size]
        label = f"{size} at once"
        limit = MAX_THROTTLED_PERCENT.get(size)
        if limit is not None:
            target(f"{label}: throttled DescribeCertificate (%)", _of(runs, "throttled"), limit)
        target(f"{label}: waits not answered in time", _of(runs, "unanswered"), 0)
        if size <= 300:
            target(f"{label}: waits not SUCCESS", _of(runs, "unsucceeded"), 0)
        if size == 300:
            target(f"{label}: latency max (s)", [c.latency_max_s for c in runs], 120)
        target(f"{label}: Lambda executions held", _of(runs, "peak"), concurrency)
        target(f"{label}: steady DescribeCertificate/s", _of(runs, "steady"), quota)
    return targets


def _of(runs: Sequence[Crowd], what: str) -> list[float]:
    pick: dict[str, Callable[[Crowd], float]] = {
        "throttled": lambda c: c.throttled_percent,
        "unanswered": lambda c: c.size - c.answered_in_time,
        "unsucceeded": lambda c: c.size - c.succeeded,
        "peak": lambda c: c.peak_executions,
        "steady": lambda c: c.steady_reads_per_s,
    }
    return [pick[what](c) for c in runs]
