"""The rows of the side-by-side comparison (filled by ``compare.py``, kept in the report)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StrategyRow:
    """One strategy waiting for one certificate validated after ``validation_minutes``."""

    strategy: str
    validation_minutes: float
    outcome: str
    answered_in_time: bool
    """CloudFormation got an answer (SUCCESS or FAILED) before its ServiceTimeout."""
    detection_latency_s: float | None
    invocations: int
    gb_s: float
    state_transitions: int
    scheduled_events: int
    cost_usd: float
    describe_calls: int


@dataclass(frozen=True)
class CrowdRow:
    """One strategy with ``resources`` waits at once, all issued after ``minutes``."""

    strategy: str
    resources: int
    minutes: float
    succeeded: int
    throttled_percent: float
    describe_attempts: int
    cost_usd_per_wait: float
