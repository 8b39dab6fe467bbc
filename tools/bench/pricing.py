"""List prices of what a wait is billed for, with where each figure comes from.

Prices of US East (N. Virginia) and Europe (Ireland), x86 Lambda, as published when this
was written (see ``PRICES_CHECKED``); the free tiers are left out, so a figure is what one
more wait adds to a bill that already uses them up.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_CHECKED = "2026-11"
LAMBDA_GB_SECOND_USD = 0.0000166667
"""https://aws.amazon.com/lambda/pricing/ (x86, first 6 billion GB-seconds a month)."""
LAMBDA_REQUEST_USD = 0.20 / 1_000_000
"""https://aws.amazon.com/lambda/pricing/ ($0.20 per million requests)."""
STATE_TRANSITION_USD = 0.025 / 1_000
"""https://aws.amazon.com/step-functions/pricing/ (Standard workflows, $0.025 per 1,000)."""
SCHEDULED_EVENT_USD = 0.0
"""https://aws.amazon.com/eventbridge/pricing/: events that AWS itself emits to the default
bus, a scheduled rule's included, are not charged; they are still counted."""
SOURCES = (
    "Lambda: https://aws.amazon.com/lambda/pricing/",
    "Step Functions: https://aws.amazon.com/step-functions/pricing/",
    "EventBridge: https://aws.amazon.com/eventbridge/pricing/",
)


@dataclass(frozen=True)
class Bill:
    """The billed units of one wait (or of many, summed)."""

    invocations: int
    gb_s: float
    transitions: int = 0
    scheduled_events: int = 0

    @property
    def usd(self) -> float:
        return (
            self.invocations * LAMBDA_REQUEST_USD
            + self.gb_s * LAMBDA_GB_SECOND_USD
            + self.transitions * STATE_TRANSITION_USD
            + self.scheduled_events * SCHEDULED_EVENT_USD
        )


def gb_seconds(billed_ms: int, memory_mb: int) -> float:
    return billed_ms / 1000 * memory_mb / 1024
