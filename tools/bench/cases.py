"""The benchmark's runs of the real handler and its targets.

- ``run_single``: one certificate, validated after a given time (the real handler).
- ``run_concurrent``: many at once (the real handler; slow, one seed: ``--resources``).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from custom_resource.settings import Settings
from tools.emulator import FunctionConfig, from_template

from .account import ACM_LIMITS, ResourceSpec
from .pricing import gb_seconds
from .simulate import SimResult, simulate

SINGLE_MINUTES = (2.0, 10.0, 30.0, 45.0, 70.0)
"""70: beyond CloudFormation's one-hour ServiceTimeout, so the wait must answer FAILED."""
DESCRIBE = "DescribeCertificate"
REQUEST = "RequestCertificate"


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
    cold_starts: int = 0
    """Invocations that started an execution environment (INIT billed since 2025-08-01)."""


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
    function: FunctionConfig = field(default_factory=from_template)
    """The provider function as the template deploys it (timeout, memory, retries)."""
    seed: int = 42
    sdk_total_attempts: int | None = None
    """HTTP attempts per call for the provider's clients (None: as shipped)."""
    verbose: bool = False
    """Let the provider's log lines through (they are muted by default)."""


def _simulate(specs: Sequence[ResourceSpec], options: RunOptions) -> SimResult:
    return simulate(
        specs,
        settings=options.settings,
        function=options.function,
        seed=options.seed,
        sdk_total_attempts=options.sdk_total_attempts,
        verbose=options.verbose,
    )


def run_single(
    minutes: float, options: RunOptions, issue_after_s: float | None = None
) -> SingleCase:
    """One Create whose certificate is ISSUED ``minutes`` (or ``issue_after_s`` seconds)
    after the request."""
    issue_after = minutes * 60 if issue_after_s is None else issue_after_s
    result = _simulate([ResourceSpec("Certificate", "www.example.com", issue_after)], options)
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
        gb_s=gb_seconds(sum(billed), options.function.memory_mb),
        describe_calls=result.calls.total(DESCRIBE, "called"),
        describe_attempts=result.calls.total(DESCRIBE),
        responded_after_s=outcome.responses[0][0] if outcome.responses else None,
        longest_hop_s=_longest(result),
        cold_starts=sum(i.cold for i in outcome.invocations),
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
        gb_s=gb_seconds(billed, options.function.memory_mb),
        environments=result.environments,
        peak_concurrency=result.peak_concurrency,
        describe=_load(result, DESCRIBE),
        request=_load(result, REQUEST),
        simulated_s=result.simulated_seconds,
        real_s=result.real_seconds,
    )
