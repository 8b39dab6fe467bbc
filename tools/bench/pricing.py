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
    "SQS: https://aws.amazon.com/sqs/pricing/",
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


SCHEDULER_INVOCATION_USD = 1.00 / 1_000_000
"""https://aws.amazon.com/eventbridge/pricing/ (EventBridge Scheduler, $1.00 per million
scheduled invocations after the free tier)."""
SQS_REQUEST_USD = 0.40 / 1_000_000
"""https://aws.amazon.com/sqs/pricing/ (standard queue, $0.40 per million requests)."""
PAPER_POLLS = 60
"""The paper rows' wait: 30 minutes, one poll every 30 seconds."""
PAPER_POLL_S = 0.1
"""A warm poll's billed duration: one DescribeCertificate and the runtime's overhead."""


@dataclass(frozen=True)
class PaperRow:
    name: str
    cost: str
    can: str
    cannot: str


def _per_wait(extra_usd_per_poll: float) -> str:
    poll = Bill(1, gb_seconds(round(PAPER_POLL_S * 1000), 128)).usd
    return f"{PAPER_POLLS * (poll + extra_usd_per_poll):.5f}"


PAPER_ROWS = (
    PaperRow(
        "EventBridge Scheduler, one schedule per poll",
        _per_wait(SCHEDULER_INVOCATION_USD),
        "wait any time without holding Lambda",
        "poll more often than a schedule fires; a schedule per wait to create and delete",
    ),
    PaperRow(
        "SQS delay queue (up to 15 min per message)",
        _per_wait(3 * SQS_REQUEST_USD),
        "wait without holding Lambda",
        "count its own polling (the event source mapping polls the queue all the time)",
    ),
    PaperRow(
        "Step Functions Standard, Wait state loop",
        _per_wait(3 * STATE_TRANSITION_USD),
        "wait up to a year, visible history",
        "answer CloudFormation without a function around it; 3 transitions per poll",
    ),
    PaperRow(
        "Lambda durable functions, wait",
        "per durable operation (Lambda pricing page; not priced here)",
        "wait without compute charges",
        "be enabled on an existing function; needs a qualified ARN",
    ),
    PaperRow(
        "AWS::CertificateManager::Certificate (native)",
        "0 (CloudFormation waits itself)",
        "write the DNS records (HostedZoneId) and wait, no function at all",
        "a certificate in another Region than the stack (CloudFront needs us-east-1)",
    ),
)
