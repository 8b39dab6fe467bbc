"""The comparison's figures: one wait at one seed, and the same over every seed."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Dist:
    """One figure across seeds: median, p10 and p90 (linear between ranks), range."""

    median: float
    p10: float
    p90: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Dist:
        ordered = sorted(values)
        return cls(
            statistics.median(ordered),
            quantile(ordered, 0.1),
            quantile(ordered, 0.9),
            ordered[0],
            ordered[-1],
        )

    def text(self, digits: int = 1) -> str:
        return f"{self.median:.{digits}f} ({self.p90:.{digits}f})"


def quantile(ordered: Sequence[float], q: float) -> float:
    position = (len(ordered) - 1) * q
    low, high = ordered[math.floor(position)], ordered[math.ceil(position)]
    if low == high:  # also when both are infinite (no wait succeeded)
        return float(low)
    return low + (high - low) * (position - math.floor(position))


@dataclass(frozen=True)
class Wait:
    """One strategy waiting for one certificate, at one seed."""

    strategy: str
    minutes: float
    seed: int
    answer: str
    """SUCCESS, FAILED (answered before ServiceTimeout either way) or NONE (no answer in
    time: CloudFormation fails the operation at its timeout)."""
    why: str
    latency_s: float | None
    """ISSUED visible to SUCCESS."""
    cost_usd: float
    invocations: int
    describe_calls: int
    transitions: int = 0
    scheduled_events: int = 0
    control_calls: int = 0


@dataclass(frozen=True)
class StrategyRow:
    """One strategy and wait length over every seed."""

    strategy: str
    minutes: float
    seeds: int
    succeeded: int
    failed_in_time: int
    unanswered: int
    why: str
    """The most frequent reason of a wait that did not succeed."""
    latency_s: Dist | None
    """Over the seeds that succeeded."""
    cost_usd: Dist
    invocations: float
    describe_calls: float
    transitions: float
    scheduled_events: float
    control_calls: float

    @classmethod
    def of(cls, waits: Sequence[Wait]) -> StrategyRow:
        first = waits[0]
        latencies = [w.latency_s for w in waits if w.latency_s is not None]
        reasons = Counter(w.why for w in waits if w.answer != "SUCCESS" and w.why)

        def median(values: Sequence[float]) -> float:
            return statistics.median(values)

        return cls(
            strategy=first.strategy,
            minutes=first.minutes,
            seeds=len(waits),
            succeeded=sum(w.answer == "SUCCESS" for w in waits),
            failed_in_time=sum(w.answer == "FAILED" for w in waits),
            unanswered=sum(w.answer == "NONE" for w in waits),
            why=reasons.most_common(1)[0][0] if reasons else "",
            latency_s=Dist.of(latencies) if latencies else None,
            cost_usd=Dist.of([w.cost_usd for w in waits]),
            invocations=median([w.invocations for w in waits]),
            describe_calls=median([w.describe_calls for w in waits]),
            transitions=median([w.transitions for w in waits]),
            scheduled_events=median([w.scheduled_events for w in waits]),
            control_calls=median([w.control_calls for w in waits]),
        )


@dataclass(frozen=True)
class Crowd:
    """One strategy with ``size`` waits at once in one account, at one seed."""

    strategy: str
    size: int
    seed: int
    succeeded: int
    answered_in_time: int
    latency_p50_s: float
    latency_max_s: float
    """``inf`` when no wait succeeded."""
    throttled_percent: float
    """Of DescribeCertificate attempts."""
    steady_reads_per_s: float
    """DescribeCertificate attempts per second, minutes 10 to 20."""
    peak_executions: int
    cost_usd_per_wait: float
    list_throttled_percent: float
    """Of ListCertificates attempts (the provider counts its crowd with it)."""


@dataclass(frozen=True)
class CrowdRow:
    """One strategy and crowd size over every seed."""

    strategy: str
    size: int
    seeds: int
    succeeded: Dist
    answered_in_time: Dist
    latency_p50_s: Dist
    latency_max_s: Dist
    throttled_percent: Dist
    steady_reads_per_s: Dist
    peak_executions: Dist
    cost_usd_per_wait: Dist
    list_throttled_percent: Dist

    @classmethod
    def of(cls, runs: Sequence[Crowd]) -> CrowdRow:
        def d(name: str) -> Dist:
            return Dist.of([float(getattr(r, name)) for r in runs])

        return cls(
            strategy=runs[0].strategy,
            size=runs[0].size,
            seeds=len(runs),
            succeeded=d("succeeded"),
            answered_in_time=d("answered_in_time"),
            latency_p50_s=d("latency_p50_s"),
            latency_max_s=d("latency_max_s"),
            throttled_percent=d("throttled_percent"),
            steady_reads_per_s=d("steady_reads_per_s"),
            peak_executions=d("peak_executions"),
            cost_usd_per_wait=d("cost_usd_per_wait"),
            list_throttled_percent=d("list_throttled_percent"),
        )
